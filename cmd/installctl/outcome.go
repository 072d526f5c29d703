package main

import (
	"encoding/json"
	"fmt"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// Outcome kinds, the last segment of the outcome event types.
const (
	kindOrdered     = "ordered"
	kindProvisioned = "provisioned"
	kindFailed      = "failed"
	kindPlanned     = "planned"
)

// outcome is one outcome event read from INSTALL_EVENTS, with its data decoded by kind.
type outcome struct {
	Seq       uint64
	Kind      string
	Event     *cloudevents.Event
	RequestID string
	// Recorded is set when the outcome was read from the journey state, not the stream.
	Recorded bool

	Ordered     *events.Ordered
	Provisioned *events.Provisioned
	Failed      *events.Failed
	Planned     *events.Planned
}

// terminal reports whether the outcome ends its request's journey.
func (o *outcome) terminal() bool {
	return o.Kind == kindProvisioned || o.Kind == kindFailed || o.Kind == kindPlanned
}

// decodeOutcome reads an outcome event from a stream message.
func decodeOutcome(subj events.Subjects, msg jetstream.Msg) (*outcome, error) {
	ev, err := events.FromNATS(msg.Headers(), msg.Data())
	if err != nil {
		return nil, err
	}
	o, err := outcomeOf(subj, ev)
	if err != nil {
		return nil, err
	}
	if md, err := msg.Metadata(); err == nil {
		o.Seq = md.Sequence.Stream
	}
	return o, nil
}

// recordedOutcome is the outcome a finished journey's state holds: the installer records it
// before publishing it, so it is the terminal event's content, with the same id.
func recordedOutcome(subj events.Subjects, j *journeyView) (*outcome, error) {
	rec := j.outcome
	ev, err := events.NewPublisher(nil, subj, recordedSource).NewOutcome(j.RequestID, rec.Type, rec.Data(), "")
	if err != nil {
		return nil, fmt.Errorf("journey %s: outcome: %w", j.RequestID, err)
	}
	ev.SetTime(j.UpdatedAt)
	o, err := outcomeOf(subj, ev)
	if err != nil {
		return nil, err
	}
	o.Recorded = true
	return o, nil
}

// recordedSource is the source of outcomes read from a journey's state rather than the stream.
const recordedSource = "urn:installctl:journey-state"

// outcomeOf decodes an outcome event's data by its type.
func outcomeOf(subj events.Subjects, ev *cloudevents.Event) (*outcome, error) {
	o := &outcome{Event: ev, RequestID: ev.Subject()}
	var target any
	switch ev.Type() {
	case subj.Ordered():
		o.Kind, o.Ordered = kindOrdered, &events.Ordered{}
		target = o.Ordered
	case subj.Provisioned():
		o.Kind, o.Provisioned = kindProvisioned, &events.Provisioned{}
		target = o.Provisioned
	case subj.Failed():
		o.Kind, o.Failed = kindFailed, &events.Failed{}
		target = o.Failed
	case subj.Planned():
		o.Kind, o.Planned = kindPlanned, &events.Planned{}
		target = o.Planned
	default:
		return nil, fmt.Errorf("event %s: unexpected type %q", ev.ID(), ev.Type())
	}
	if err := json.Unmarshal(ev.Data(), target); err != nil {
		return nil, fmt.Errorf("event %s: data of %s: %w", ev.ID(), ev.Type(), err)
	}
	if o.RequestID == "" {
		o.RequestID = o.dataRequestID()
	}
	return o, nil
}

func (o *outcome) dataRequestID() string {
	switch {
	case o.Ordered != nil:
		return o.Ordered.RequestID
	case o.Provisioned != nil:
		return o.Provisioned.RequestID
	case o.Failed != nil:
		return o.Failed.RequestID
	case o.Planned != nil:
		return o.Planned.RequestID
	}
	return ""
}

// time is when the installer published the event.
func (o *outcome) time() time.Time { return o.Event.Time() }

// summary is the outcome in a few words for plain and terminal output.
func (o *outcome) summary() string {
	switch {
	case o.Ordered != nil:
		return fmt.Sprintf("order %s accepted (slug %s)", o.Ordered.OrderID, o.Ordered.Slug)
	case o.Provisioned != nil:
		s := "provisioned"
		if o.Provisioned.Site.URL != "" {
			s += " " + o.Provisioned.Site.URL
		}
		for _, e := range o.Provisioned.Entitlements {
			s += fmt.Sprintf(" entitlement=%s", e.EntitlementID)
		}
		return s
	case o.Failed != nil:
		return fmt.Sprintf("failed at %s: %s: %s", o.Failed.Stage, o.Failed.Code, o.Failed.Message)
	case o.Planned != nil:
		return fmt.Sprintf("planned (dry run, nothing provisioned or ordered): %s %s, then %s %s, after %d look-up(s)",
			o.Planned.Provisioning.Method, o.Planned.Provisioning.Path, o.Planned.Order.Method, o.Planned.Order.Path, len(o.Planned.Lookups))
	}
	return o.Kind
}

// phaseReached is the journey phase this outcome proves reached.
func (o *outcome) phaseReached() record.Phase {
	switch {
	case o.Ordered != nil:
		return record.PhaseWait
	case o.Provisioned != nil, o.Planned != nil:
		return record.PhaseDone
	case o.Failed != nil:
		return record.PhaseOfStage(o.Failed.Stage)
	}
	return record.PhaseLookup
}
