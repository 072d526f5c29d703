package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/procurement/atlassian-installer/handlers/journey"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// saveAttempts and saveRetryWait bound the retries of a journey state write: about four
// seconds, the time a JetStream cluster takes to elect a new leader.
const (
	saveAttempts  = 5
	saveRetryWait = 250 * time.Millisecond
)

// run is one delivery's journey as the runtime drives it: the journey package decides each
// step, and run acts on the decisions (writes, waits, publications, settlement).
type run struct {
	in     *Installer
	d      *Delivery
	r      *journey.Run
	rev    uint64 // the revision r.Record was read or written at
	source string // the request's source
	// recorded reports that the journey is in the store: a request seen for the first time is
	// recorded by its first decision that carries a record (the provisioning about to be
	// sent, or its outcome), not before its look-ups.
	recorded bool
}

// runJourney takes a requested event through its journey until the outcome is published
// (Ack), the message must wait (Nak with delay), the journey waits for a time (it is handed
// to the installer's queue of waits, holding no goroutine), or the installer drains.
func (in *Installer) runJourney(ctx context.Context, d *Delivery, ev *cloudevents.Event) error {
	d.journey = true
	j := &run{in: in, d: d, source: ev.Source(), r: &journey.Run{
		ID:    ev.ID(),
		Owner: d.token(),
		Log:   journeyLogger(ctx, in.cfg.Logger, ev.ID()),
		Drain: in.draining,
	}}
	return j.loop(ctx)
}

// loop runs the journey's steps until it ends, must wait for a time, or fails. A wait
// hands the rest of the loop to the delivery (Delivery.waitThen) and returns.
func (j *run) loop(ctx context.Context) error {
	in, d := j.in, j.d
	var wait time.Duration // before the next step, once the journey's news is published
	for {
		r := j.r
		if r.Record == nil {
			if err := j.read(ctx); errors.Is(err, errConflict) {
				continue
			} else if err != nil {
				return err
			}
		}
		st := r.Record
		if src := st.Source; src != "" && src != j.source {
			return in.deadLetter(ctx, d, fmt.Sprintf(
				"collision: request id %q belongs to a request from source %q, not %q", r.ID, src, j.source))
		}
		if st.Terminal() {
			if err := j.finish(ctx); !errors.Is(err, errConflict) {
				return err
			}
			continue
		}
		done, err := j.claim(ctx)
		if errors.Is(err, errConflict) {
			continue
		}
		if done || err != nil {
			return err
		}
		// An accepted order is announced at once, even past the journey timeout, and holding
		// no slot: it never queues behind journeys waiting on the API.
		if st.Order != nil && !st.IsPublished(in.subjects.Ordered()) {
			if err := j.observed(record.StepNamePublishOrdered, j.publishOrdered)(ctx); err != nil && !errors.Is(err, errConflict) {
				return err
			}
			continue
		}
		if wait > 0 {
			return d.waitThen(ctx, wait, j.loop)
		}
		dec, err := j.steps(ctx)
		if errors.Is(err, errConflict) {
			continue // someone else progressed: read again, decide again
		}
		if err != nil {
			return err
		}
		if dec.Kind == journey.Retry {
			r.Log.Warn("step will be tried again", "step", r.Record.Step, "after", dec.After, "error", dec.Err)
		}
		wait = dec.After
	}
}

// read reads the journey's record; a request seen for the first time starts its journey,
// recorded by its first write.
func (j *run) read(ctx context.Context) error {
	st, rev, err := j.in.store.get(ctx, j.r.ID)
	if err != nil {
		return err
	}
	j.recorded = st != nil
	if st == nil {
		ev, err := j.d.Event()
		if err != nil {
			return err
		}
		st = j.in.journeys.Start(ev, j.d.meta.Sequence.Stream)
	}
	j.r.Record, j.r.Advanced, j.rev = st, false, rev
	return nil
}

// steps runs the journey's next step in a concurrency slot, and the steps after it in the
// same slot while they advance, writing the record each decides before the next. It returns
// the decision that ended the run of steps: a wait, a retry, or the end. Once the installer
// drains, only a step whose effect its record announces runs (journey.Run.EffectDue). The
// StepObserver sees each step with its Atlassian calls, named by the step it starts from.
func (j *run) steps(ctx context.Context) (journey.Decision, error) {
	var dec journey.Decision
	err := j.d.step(ctx, func(ctx context.Context) error {
		r := j.r
		for {
			err := j.observed(r.Record.Step.Name(), func(ctx context.Context) error {
				r.LeaseFor = 2 * j.in.ackWaitOf()
				var err error
				if dec, err = j.in.journeys.Step(ctx, r); err != nil {
					return err
				}
				return dec.Err
			})(ctx)
			switch {
			case errors.Is(err, journey.ErrDraining):
				return ErrDraining
			case dec.Kind == 0:
				return err
			}
			if dec.Record != nil {
				if err := j.save(ctx, dec.Record); err != nil {
					return err
				}
			}
			r.Advanced = dec.Kind == journey.Advance && dec.Record != nil
			switch {
			case dec.Kind != journey.Advance:
				return nil
			case j.in.isDraining() && !r.EffectDue():
				return ErrDraining
			}
		}
	})
	return dec, err
}

// claim decides whether this delivery may run the journey's next step. done is true when
// the message was settled instead: it is a second message for a journey whose own
// message is still alive, or another delivery holds the lease. A second message is
// acknowledged at once: the journey's own message is delivered until the journey ends, so
// the second one holds no pending slot; only when the first is gone does it take over.
func (j *run) claim(ctx context.Context) (done bool, err error) {
	st := j.r.Record
	if seq := j.d.meta.Sequence.Stream; st.OwnerSeq != seq {
		alive, err := j.in.messageExists(ctx, st.OwnerSeq)
		if err != nil {
			return true, err
		}
		if alive {
			j.r.Log.Info("second message for a running journey acknowledged", "owner_seq", st.OwnerSeq, "seq", seq)
			return true, j.d.Ack()
		}
		st.OwnerSeq = seq
		return false, j.save(ctx, st)
	}
	if l := st.Lease; l.Owner != "" && l.Owner != j.r.Owner && l.Until.After(j.in.now()) {
		return true, j.d.NakWithDelay(l.Until.Sub(j.in.now()))
	}
	return false, nil
}

// save writes st over the revision the journey's record was read at, or creates it. A write that fails
// for another reason than a conflict (a NATS node failing over) is tried a few more
// times: most writes record the answer of an effect, and a lost answer costs a repeated
// provisioning request. For the same reason the drain never cuts a write under way (a
// JetStream request's own timeout bounds it); it only stops the retries. A retried write
// that had in fact succeeded comes back as a conflict, and the state read again shows it.
// After a failed write the record is read again before the next step.
func (j *run) save(ctx context.Context, st *record.State) error {
	st.UpdatedAt = j.in.now()
	wait := saveRetryWait
	for attempt := 1; ; attempt++ {
		var rev uint64
		var err error
		if j.recorded {
			rev, err = j.in.store.update(context.WithoutCancel(ctx), st, j.rev)
		} else {
			rev, err = j.in.store.create(context.WithoutCancel(ctx), st)
		}
		if err == nil {
			j.r.Record, j.rev, j.recorded = st, rev, true
			return nil
		}
		if errors.Is(err, errConflict) || attempt == saveAttempts || ctx.Err() != nil || j.in.js.Conn().IsClosed() {
			j.r.Record = nil
			return err
		}
		j.r.Log.Warn("recording the journey failed; trying again", "step", st.Step, "after", wait, "error", err)
		if err := j.in.sleep(ctx, wait); err != nil {
			j.r.Record = nil
			return err
		}
		wait *= 2
	}
}

// finish publishes the outcome unless it was published before, records that with the
// journey's compact record, and acks. An outcome is recorded before it is published; an
// accepted order not yet announced (a journey ended by its faults) is announced first.
func (j *run) finish(ctx context.Context) error {
	st := j.r.Record
	if !j.recorded {
		if err := j.save(ctx, st); err != nil {
			return err
		}
	}
	if st.Order != nil && !st.IsPublished(j.in.subjects.Ordered()) {
		if err := j.publishOrdered(ctx); err != nil {
			return err
		}
	}
	if !st.IsPublished(st.Outcome.Type) {
		if err := j.in.publish(ctx, j.r.ID, st.Outcome.Type, st.Outcome.Data(), st.Traceparent, outcomeInfo(j.r.ID, st.Outcome)); err != nil {
			return fmt.Errorf("publish %s: %w", st.Outcome.Type, err)
		}
		st.Published = append(st.Published, st.Outcome.Type)
		if err := j.in.store.finish(ctx, st); err != nil {
			return err
		}
		j.r.Log.Info("journey ended", "outcome", st.Outcome.Type)
	}
	return j.d.Ack()
}

// publishOrdered announces the accepted order, once its answer is recorded, and records that
// at once: a journey resumed later would otherwise announce it again, past the events stream's
// duplicate window.
func (j *run) publishOrdered(ctx context.Context) error {
	st := j.r.Record
	typ := j.in.subjects.Ordered()
	if err := j.in.publish(ctx, j.r.ID, typ, journey.Ordered(st), st.Traceparent, OutcomeInfo{Kind: OutcomeOrdered, RequestID: j.r.ID}); err != nil {
		return err
	}
	st.Published = append(st.Published, typ)
	return j.save(ctx, st)
}
