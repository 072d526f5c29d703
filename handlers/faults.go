package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/handlers/record"
)

// MaxFaults bounds the deliveries of a request message that fail the same way: a panic, an
// outcome that cannot be published, a record that cannot be read. After MaxFaults of them in a
// row at one step, the journey ends internal_error; a message with no journey is
// dead-lettered. NATS outages, the drain and Atlassian's errors (which the journeys handle,
// bounded by the journey timeout) are no faults.
const MaxFaults = 5

// What became of a faulty delivery, as a FaultObserver is told.
const (
	FaultRetried      = "retried"        // the message is delivered again
	FaultEnded        = "internal_error" // the journey ended with internal_error
	FaultDeadLettered = "dead_lettered"  // the message went to the dead-letter subject
)

// FaultObserver is told of every faulty delivery (see MaxFaults) and what became of it, one
// of the Fault constants. Metrics hook in here (Config.OnFault). It must be safe for
// concurrent use.
type FaultObserver func(ctx context.Context, result string)

// outage reports whether err is NATS being unavailable for now, which passes by itself and
// is no fault of the message.
func (in *Installer) outage(err error) bool {
	return in.transientJetStream(err) || errors.Is(err, nats.ErrConnectionClosed) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || !in.js.Conn().IsConnected()
}

// fault settles a delivery whose handler failed other than by a NATS outage or the drain.
// It counts the fault in the journey's record (Faults at FaultStep), releases the lease the
// delivery held, and lets the message come again; at MaxFaults the journey ends
// internal_error, and its outcome is published by the next delivery. A dry run whose plan
// cannot be published in MaxFaults deliveries ends internal_error too. A journey that has its
// outcome and still fails MaxFaults times more (the outcome cannot be published), or a
// message with no journey (JetStream's delivery count), is dead-lettered. Every fault is
// logged at ERROR.
func (in *Installer) fault(ctx context.Context, d *Delivery, cause error) {
	seq, delivered := d.meta.Sequence.Stream, d.meta.NumDelivered
	log := in.log.With("seq", seq, "delivery", delivered, "error", cause)
	st, rev, err := in.journeyOf(ctx, d)
	if err != nil {
		log.Warn("delivery will be retried; its journey could not be read", "read_error", err)
		in.nak(d, in.retryDelay(delivered))
		return
	}
	if st == nil || st.Terminal() && st.FaultStep == record.StepDone && st.Faults+1 >= MaxFaults && !planUnpublished(st) {
		in.faultWithoutJourney(ctx, d, log, st)
		return
	}
	log = log.With("request_id", st.RequestID)
	if st.FaultStep != st.Step {
		st.FaultStep, st.Faults = st.Step, 0
	}
	st.Faults++
	if st.Lease.Owner == d.token() {
		st.Lease = record.Lease{}
	}
	result, delay := FaultRetried, in.retryDelay(delivered)
	if st.Faults >= MaxFaults && (!st.Terminal() || planUnpublished(st)) {
		in.journeys.Abandon(ctx, st, MaxFaults, cause, log)
		st.FaultStep, st.Faults = record.StepDone, 0
		result, delay = FaultEnded, 0
	}
	st.UpdatedAt = in.now()
	if _, err := in.store.update(context.WithoutCancel(ctx), st, rev); err != nil {
		// Another delivery moved the journey on, or NATS is away: this fault is not counted.
		log.Warn("delivery will be retried; its fault could not be recorded", "record_error", err)
		in.nak(d, in.retryDelay(delivered))
		return
	}
	if result == FaultEnded {
		log.Error("journey ended with internal_error: it failed the same way at every delivery",
			"faults", MaxFaults, "stage", st.Outcome.Failed.Stage)
	} else {
		log.Error("delivery failed; it will be retried", "faults", st.Faults, "of", MaxFaults, "step", st.FaultStep)
	}
	in.observeFault(ctx, result)
	in.nak(d, delay)
}

// faultWithoutJourney dead-letters, after MaxFaults deliveries, a message whose journey never
// began, or whose outcome could not be published (ended, not nil); until then it lets the
// message come again. An ended journey's compact record is kept first, for the duplicate
// horizon: its state expires, and the request id must still be known as spent.
func (in *Installer) faultWithoutJourney(ctx context.Context, d *Delivery, log *slog.Logger, ended *record.State) {
	delivered := d.meta.NumDelivered
	if ended == nil && delivered < MaxFaults {
		log.Error("delivery failed; it will be retried", "faults", delivered, "of", MaxFaults)
		in.observeFault(ctx, FaultRetried)
		in.nak(d, in.retryDelay(delivered))
		return
	}
	reason := fmt.Sprintf("internal error: the installer failed on this message at %d deliveries; its log says why", delivered)
	if ended != nil {
		if err := in.store.finish(ctx, ended); err != nil {
			log.Error("delivery failed, and keeping its finished record too; it will be retried", "record_error", err)
			in.nak(d, in.retryDelay(delivered))
			return
		}
		reason = fmt.Sprintf("internal error: the journey ended, but its outcome could not be published in %d deliveries; its log says why", MaxFaults)
	}
	if err := in.deadLetter(ctx, d, reason); err != nil {
		log.Error("delivery failed, and dead-lettering it too; it will be retried", "dead_letter_error", err)
		in.nak(d, in.retryDelay(delivered))
		return
	}
	log.Error("message dead-lettered: it failed the same way at every delivery", "faults", delivered)
	in.observeFault(ctx, FaultDeadLettered)
}

// journeyOf reads the journey the delivery's message drives, recording it when the delivery
// began it but it was not recorded yet (a journey is recorded with its provisioning, after its
// look-ups): nil when the message is no request, no journey began, the journey is driven by another message (a duplicate's faults never end the
// first journey), or its record cannot be read or made for another reason than an outage (it
// counts as none: the message is dead-lettered in the end).
func (in *Installer) journeyOf(ctx context.Context, d *Delivery) (*record.State, uint64, error) {
	ev, err := d.Event()
	if err != nil || ev.Type() != in.subjects.Requested() {
		return nil, 0, nil
	}
	st, rev, err := in.store.get(ctx, ev.ID())
	if err == nil && st == nil && d.journey {
		st = in.journeys.Start(ev, d.meta.Sequence.Stream)
		rev, err = in.store.create(ctx, st)
	}
	if err != nil && in.outage(err) {
		return nil, 0, err
	}
	if err != nil || st == nil || st.OwnerSeq != d.meta.Sequence.Stream || st.Source != "" && st.Source != ev.Source() {
		return nil, 0, nil
	}
	return st, rev, nil
}

// planUnpublished reports a dry run whose plan is recorded but was never published: when its
// publication fails MaxFaults times (an events stream without the planned subject), the dry
// run ends failed instead, which the stream may take.
func planUnpublished(st *record.State) bool {
	return st.Terminal() && st.Outcome.Planned != nil && !st.IsPublished(st.Outcome.Type)
}

func (in *Installer) nak(d *Delivery, delay time.Duration) {
	if err := d.NakWithDelay(delay); err != nil {
		in.log.Warn("nak", "seq", d.meta.Sequence.Stream, "error", err)
	}
}

func (in *Installer) observeFault(ctx context.Context, result string) {
	if in.cfg.OnFault != nil {
		in.cfg.OnFault(ctx, result)
	}
}
