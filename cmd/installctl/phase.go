package main

import "github.com/procurement/atlassian-installer/events"

// phase is a step of the journey as the progress display shows it; the installer's own steps
// are finer and map onto these.
type phase int

const (
	phaseLookup phase = iota
	phaseProvision
	phaseOrder
	phaseWait
	phaseDone
)

var phaseNames = [...]string{"look-ups", "provisioning", "order", "waiting", "done"}

func (p phase) String() string {
	if p < 0 || int(p) >= len(phaseNames) {
		return "unknown"
	}
	return phaseNames[p]
}

// phaseOfStage maps a failed event's stage to the phase that failed.
func phaseOfStage(stage string) phase {
	switch stage {
	case events.StageProvision:
		return phaseProvision
	case events.StageOrder:
		return phaseOrder
	case events.StageCompletion:
		return phaseWait
	default: // validation, lookup
		return phaseLookup
	}
}
