package record

import "github.com/procurement/atlassian-installer/events"

// Phase is where a journey is as installctl shows it; the installer's steps are finer and
// map onto these (Step.Phase), in this order.
type Phase int

// The phases of a journey, in order.
const (
	PhaseLookup Phase = iota
	PhaseProvision
	PhaseOrder
	PhaseWait
	PhaseDone
)

var phaseNames = [...]string{"look-ups", "provisioning", "order", "waiting", "done"}

// String is the phase's display name: look-ups, provisioning, order, waiting or done.
func (p Phase) String() string {
	if p < 0 || int(p) >= len(phaseNames) {
		return "unknown"
	}
	return phaseNames[p]
}

// Names of the work a journey runs, as the installer's StepObserver sees it (its spans, and
// the step label of its metrics): from each step, Step.Name; and publish_ordered.
const (
	StepNameLookup         = "lookup"          // billing, family container, product ARI look-ups
	StepNameProvision      = "provision"       // the provisioning request, and the order sent at once after its answer
	StepNameOrder          = "order"           // the order sent again, or read, once its answer was not seen
	StepNamePublishOrdered = "publish_ordered" // the ordered event, published once the order's answer is recorded
	StepNamePoll           = "poll"            // one round of provisioning and order status reads
)

// stepRow is a step of the table: the work that runs from it, what a failure at it reports
// and what installctl shows while the journey rests at it.
type stepRow struct {
	step  Step
	name  string // the work run from the step (StepName…); none at done
	stage string // the contract stage of a failure at the step (events.Stage…)
	phase Phase  // the phase in progress once the step is recorded
}

// steps is the journey, in order. Each step is recorded before the effect that follows
// it, so that a journey resumed from its record knows what may have happened.
//
// A record of any of these steps loads and resumes, provision_accepted included: a journey
// rests there only when the drain came between the provisioning answer and the order, or
// when the order was refused before Atlassian processed it. A field a record lacks decodes
// as its zero value. A step not in the table (a newer installer's) loads too: installctl
// shows it as look-ups, and this installer runs nothing from it (an error at each delivery).
var steps = [...]stepRow{
	// The request is valid; next, the look-ups, whose answers are recorded with the
	// provisioning about to be sent (a dry run goes from here to done, planned). A journey is
	// recorded here only when a fault interrupted its look-ups (see handlers.MaxFaults).
	{StepReceived, StepNameLookup, events.StageLookup, PhaseLookup},
	// The look-ups' answers are in Plan; next, provisioning, recorded first as provisioning.
	// Written by installers that recorded the look-ups on their own; it still resumes.
	{StepLookedUp, StepNameProvision, events.StageLookup, PhaseProvision},
	// Recorded before the provisioning request is sent, with ProvisionSentAt, the attempt,
	// the OrderID and OrderSentAt: the order follows the provisioning answer at once, nothing
	// written in between, so from this record on the order may exist. Both answers are
	// recorded with ordered. A journey resumed here sends provisioning once more (then the
	// order with the same orderId, and follows the provisioning request the order names), or
	// after a second attempt only reads the order.
	{StepProvisioning, StepNameProvision, events.StageProvision, PhaseProvision},
	// The provisioning answer is recorded, the order not yet about to be sent: the drain or a
	// refusal before Atlassian processed the order came in between.
	{StepProvisionAccepted, StepNameOrder, events.StageOrder, PhaseOrder},
	// Recorded before the order is sent again (from provision_accepted, or a resumed journey's
	// lease), or when its answer was not seen, with the provisioning answer; the order's
	// answer is recorded with ordered. A journey resumed here re-sends it with the same
	// orderId while the window allows, or reads it (only reads it without a provisioning
	// answer).
	{StepOrdering, StepNameOrder, events.StageOrder, PhaseOrder},
	// The order's answer is recorded (Order); the ordered event is published and its
	// publication recorded; each poll records the statuses it read, and the last one
	// the outcome, with done.
	{StepOrdered, StepNamePoll, events.StageCompletion, PhaseWait},
	// The outcome is recorded before it is published; its publication is recorded with
	// the compact record in the finished bucket.
	{StepDone, "", events.StageCompletion, PhaseDone},
}

func (s Step) row() (stepRow, bool) {
	for _, r := range steps {
		if r.step == s {
			return r, true
		}
	}
	return stepRow{}, false
}

// Name is the name of the work the journey runs from the step, as a StepObserver sees it;
// none at done, or at a step the table does not know.
func (s Step) Name() string {
	r, _ := s.row()
	return r.name
}

// Stage is the contract stage (events.Stage…) a failure reports while the journey is at
// the step; completion for a step the table does not know.
func (s Step) Stage() string {
	if r, ok := s.row(); ok {
		return r.stage
	}
	return events.StageCompletion
}

// Phase is the phase in progress while the journey is at the step; look-ups for a step the
// table does not know (a newer installer's).
func (s Step) Phase() Phase {
	if r, ok := s.row(); ok {
		return r.phase
	}
	return PhaseLookup
}

// PhaseOfStage is the phase whose failures report stage: that of the first step reporting
// it; look-ups for validation and for a stage the table does not know.
func PhaseOfStage(stage string) Phase {
	for _, r := range steps {
		if r.stage == stage {
			return r.phase
		}
	}
	return PhaseLookup
}
