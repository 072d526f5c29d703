package record_test

import (
	"testing"

	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// TestStepTable pins each step's name, stage and phase, and each stage's phase, to what
// the installer observed and reported and installctl showed before the table existed.
func TestStepTable(t *testing.T) {
	for _, tt := range []struct {
		step  record.Step
		name  string
		stage string
		phase string
	}{
		{record.StepReceived, "lookup", events.StageLookup, "look-ups"},
		{record.StepLookedUp, "provision", events.StageLookup, "provisioning"},
		{record.StepProvisioning, "provision", events.StageProvision, "provisioning"},
		{record.StepProvisionAccepted, "order", events.StageOrder, "order"},
		{record.StepOrdering, "order", events.StageOrder, "order"},
		{record.StepOrdered, "poll", events.StageCompletion, "waiting"},
		{record.StepDone, "", events.StageCompletion, "done"},
		{"a_newer_step", "", events.StageCompletion, "look-ups"},
	} {
		if got := tt.step.Name(); got != tt.name {
			t.Errorf("%s: name %q, want %q", tt.step, got, tt.name)
		}
		if got := tt.step.Stage(); got != tt.stage {
			t.Errorf("%s: stage %s, want %s", tt.step, got, tt.stage)
		}
		if got := tt.step.Phase().String(); got != tt.phase {
			t.Errorf("%s: phase %s, want %s", tt.step, got, tt.phase)
		}
	}
	for stage, want := range map[string]record.Phase{
		events.StageValidation: record.PhaseLookup, events.StageLookup: record.PhaseLookup,
		events.StageProvision: record.PhaseProvision, events.StageOrder: record.PhaseOrder,
		events.StageCompletion: record.PhaseWait, "a_newer_stage": record.PhaseLookup,
	} {
		if got := record.PhaseOfStage(stage); got != want {
			t.Errorf("stage %s: phase %s, want %s", stage, got, want)
		}
	}
}
