package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/calls"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// maxOrderMargin caps the safety margin kept before the order window's end (a tenth of
// the window): no order is sent later than the window less the margin.
const maxOrderMargin = 30 * time.Second

// maxProvisionAttempts: the provisioning request is sent once, and once more only when a
// crash lost its answer (the contract's one exception).
const maxProvisionAttempts = 2

// saveAttempts and saveRetryWait bound the retries of a journey state write: about four
// seconds, the time a JetStream cluster takes to elect a new leader.
const (
	saveAttempts  = 5
	saveRetryWait = 250 * time.Millisecond
)

// journey drives one request for one delivery of its message.
type journey struct {
	in    *Installer
	api   API
	d     *Delivery
	id    string
	st    *record.State // nil: read it again
	rev   uint64
	token string // this delivery, as lease owner
	log   *slog.Logger

	pollEvery  time.Duration // current back-off between polls
	pollNow    bool          // poll before waiting (a resumed journey)
	logUnknown map[string]bool
}

// runJourney takes a requested event through its journey until the outcome is published
// (Ack), the message must wait (Nak with delay), or the installer drains.
func (in *Installer) runJourney(ctx context.Context, d *Delivery, ev *cloudevents.Event) error {
	j := &journey{
		in: in, api: in.api, d: d, id: ev.ID(),
		token:      d.token(),
		log:        journeyLogger(ctx, in.cfg.Logger, ev.ID()),
		pollEvery:  in.cfg.PollInterval,
		pollNow:    true,
		logUnknown: map[string]bool{},
	}
	for {
		if j.st == nil {
			st, rev, err := in.store.get(ctx, j.id)
			if err != nil {
				return err
			}
			if st == nil {
				err := j.start(ctx, ev)
				if err != nil && !errors.Is(err, errConflict) {
					return err
				}
				continue
			}
			j.st, j.rev = st, rev
		}
		if src := j.st.Source; src != "" && src != ev.Source() {
			return in.deadLetter(ctx, d, fmt.Sprintf(
				"collision: request id %q belongs to a request from source %q, not %q", j.id, src, ev.Source()))
		}
		if j.st.Terminal() {
			return j.finish(ctx)
		}
		done, err := j.claim(ctx)
		if errors.Is(err, errConflict) {
			continue
		}
		if done || err != nil {
			return err
		}
		if err := j.handle(ctx, j.next(ctx)); err != nil {
			return err
		}
	}
}

// start records a journey on first sight; a request whose data is wrong is recorded with
// its failed outcome at once.
func (j *journey) start(ctx context.Context, ev *cloudevents.Event) error {
	now := j.in.now()
	st := &record.State{
		RequestID:   j.id,
		Source:      ev.Source(),
		Traceparent: events.Traceparent(ev),
		OwnerSeq:    j.d.meta.Sequence.Stream,
		Step:        record.StepReceived,
		Status:      record.StatusRunning,
		RequestedAt: ev.Time().UTC(),
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	if st.RequestedAt.IsZero() {
		st.RequestedAt = now
	}
	req, err := events.RequestFromEvent(ev, now)
	if err == nil {
		// Before any Atlassian call: every outcome this journey may publish can be carried.
		err = calls.CheckOutcomes(j.in.pub, j.id, req)
	}
	if err != nil {
		orgID := ""
		if req != nil {
			orgID = req.OrgID
		}
		st.Outcome = j.in.outcomeFailed(st, invalidRequest(orgID, err))
		st.Step, st.Status, st.CompletedAt = record.StepDone, record.StatusFailed, now
	} else {
		st.Request = req
	}
	rev, err := j.in.store.create(ctx, st)
	if err != nil {
		return err
	}
	j.st, j.rev = st, rev
	return nil
}

// claim decides whether this delivery may run the journey's next step. done is true when
// the message was settled instead: it is a second message for a journey whose own
// message is still alive, or another delivery holds the lease. A second message is
// acknowledged at once: the journey's own message is delivered until the journey ends, so
// the second one holds no pending slot; only when the first is gone does it take over.
func (j *journey) claim(ctx context.Context) (done bool, err error) {
	st := j.st
	if seq := j.d.meta.Sequence.Stream; st.OwnerSeq != seq {
		alive, err := j.in.messageExists(ctx, st.OwnerSeq)
		if err != nil {
			return true, err
		}
		if alive {
			j.log.Info("second message for a running journey acknowledged", "owner_seq", st.OwnerSeq, "seq", seq)
			return true, j.d.Ack()
		}
		st.OwnerSeq = seq
		return false, j.save(ctx)
	}
	if l := st.Lease; l.Owner != "" && l.Owner != j.token && l.Until.After(j.in.now()) {
		return true, j.d.NakWithDelay(l.Until.Sub(j.in.now()))
	}
	return false, nil
}

// next runs, or waits for, the next step of the journey.
func (j *journey) next(ctx context.Context) error {
	st := j.st
	// An accepted order is announced even past the journey timeout: ordered means the
	// order was accepted, and a subscriber must learn of what was bought. It is announced
	// at once, holding no slot: it never queues behind journeys waiting on the API.
	if st.Step == record.StepOrdered && !st.IsPublished(j.in.subjects.Ordered()) {
		return j.observed(record.StepNamePublishOrdered, j.publishOrdered)(ctx)
	}
	if j.in.now().Sub(st.CreatedAt) >= j.in.cfg.JourneyTimeout {
		if st.Step == record.StepOrdering {
			// The order may have been placed: it is read before the journey ends (without
			// credentials for the organization the read fails, and the journey ends all the
			// same).
			cctx, _ := j.withCredentials(ctx)
			return j.d.step(cctx, j.observed(st.Step.Name(), j.orderAtTimeout))
		}
		return fail(st.Step.Stage(), events.CodeDeadlineExceeded, true,
			"the journey did not finish within %s", j.in.cfg.JourneyTimeout)
	}
	ctx, err := j.withCredentials(ctx)
	if err != nil {
		return err
	}
	switch st.Step {
	case record.StepReceived:
		return j.d.step(ctx, j.observed(st.Step.Name(), j.lookUpStep))
	case record.StepLookedUp, record.StepProvisioning:
		return j.d.step(ctx, j.observed(st.Step.Name(), j.provisionStep))
	case record.StepProvisionAccepted, record.StepOrdering:
		return j.d.step(ctx, j.observed(st.Step.Name(), j.orderStep))
	case record.StepOrdered:
		if !j.pollNow {
			if err := j.d.wait(ctx, j.untilDeadline(j.pollEvery)); err != nil {
				return err
			}
			j.pollEvery = min(2*j.pollEvery, j.in.cfg.MaxPollInterval)
		}
		j.pollNow = false
		return j.d.step(ctx, j.observed(st.Step.Name(), j.pollStep))
	}
	return fmt.Errorf("journey %s: unknown step %q", j.id, st.Step)
}

// withCredentials gives the next step's calls the credentials of the request's
// organization, read at each step so that a reloaded credentials file applies at once.
// Without any, nothing is called: before provisioning the journey fails unauthorized; once
// provisioning may have been sent, it waits for credentials to come back.
func (j *journey) withCredentials(ctx context.Context) (context.Context, error) {
	ctx = client.ContextWithOrganization(ctx, j.st.Request.OrgID) // its quotas
	pick := j.in.cfg.Credentials
	if pick == nil {
		return ctx, nil
	}
	org := j.st.Request.OrgID
	if cr, ok := pick(org); ok {
		return client.ContextWithCredentials(ctx, cr), nil
	}
	if s := j.st.Step; s == record.StepReceived || s == record.StepLookedUp {
		return ctx, fail(s.Stage(), events.CodeUnauthorized, false, "the installer has no Atlassian credentials for organization %s", org)
	}
	return ctx, &retryLater{after: j.in.cfg.PollInterval, err: fmt.Errorf("no Atlassian credentials for organization %s", org)}
}

// handle turns what a step returned into the journey's next move.
func (j *journey) handle(ctx context.Context, err error) error {
	var f *failure
	var later *retryLater
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errConflict):
		j.st = nil // someone else progressed: read again, decide again
		return nil
	case errors.As(err, &f):
		return j.fail(ctx, f)
	case errors.As(err, &later):
		j.log.Warn("step will be tried again", "step", j.st.Step, "after", later.after, "error", later.err)
		return j.d.wait(ctx, j.untilDeadline(later.after))
	}
	return err
}

// untilDeadline caps a wait so that the journey timeout is noticed on time.
func (j *journey) untilDeadline(d time.Duration) time.Duration {
	left := j.st.CreatedAt.Add(j.in.cfg.JourneyTimeout).Sub(j.in.now())
	return max(min(d, left), 0)
}

// save writes the in-memory state over the revision it was read at. A write that fails
// for another reason than a conflict (a NATS node failing over) is tried a few more
// times: most writes record the answer of an effect, and a lost answer costs a repeated
// provisioning request. For the same reason the drain never cuts a write under way (a
// JetStream request's own timeout bounds it); it only stops the retries. A retried write
// that had in fact succeeded comes back as a conflict, and the state read again shows it.
func (j *journey) save(ctx context.Context) error {
	j.st.UpdatedAt = j.in.now()
	wait := saveRetryWait
	for attempt := 1; ; attempt++ {
		rev, err := j.in.store.update(context.WithoutCancel(ctx), j.st, j.rev)
		if err == nil {
			j.rev = rev
			return nil
		}
		if errors.Is(err, errConflict) || attempt == saveAttempts || ctx.Err() != nil || j.in.js.Conn().IsClosed() {
			j.st = nil
			return err
		}
		j.log.Warn("recording the journey failed; trying again", "step", j.st.Step, "after", wait, "error", err)
		if err := j.in.sleep(ctx, wait); err != nil {
			j.st = nil
			return err
		}
		wait *= 2
	}
}

// lease marks the journey as being stepped by this delivery, so that a redelivery of the
// same message elsewhere does not run the step too.
func (j *journey) lease() record.Lease {
	return record.Lease{Owner: j.token, Until: j.in.now().Add(2 * j.in.ackWaitOf())}
}

// lookUpStep runs the look-ups; a dry run ends there, with its plan as outcome.
func (j *journey) lookUpStep(ctx context.Context) error {
	plan, err := j.lookUp(ctx)
	if err != nil {
		return err
	}
	st := j.st
	st.Plan, st.Step = plan, record.StepLookedUp
	if st.Request.DryRun {
		out, err := j.in.outcomePlanned(st)
		if err != nil {
			return err
		}
		st.Outcome, st.Step, st.Status, st.CompletedAt = out, record.StepDone, record.StatusPlanned, j.in.now()
	}
	return j.save(ctx)
}

// fail records a failed outcome; finish publishes it.
func (j *journey) fail(ctx context.Context, f *failure) error {
	log := j.log
	if f.cause != nil {
		log = log.With("error", f.cause)
	}
	log.Info("journey failed", "stage", f.stage, "code", f.code, "message", f.message)
	st := j.st
	st.Outcome = j.in.outcomeFailed(st, f)
	st.Step, st.Status, st.CompletedAt, st.Lease = record.StepDone, record.StatusFailed, j.in.now(), record.Lease{}
	err := j.save(ctx)
	if errors.Is(err, errConflict) {
		return nil
	}
	return err
}

// finish publishes the outcome unless it was published before, records that, and acks. An
// accepted order not yet announced (a journey ended by its faults) is announced first.
func (j *journey) finish(ctx context.Context) error {
	st := j.st
	if st.Order != nil && !st.IsPublished(j.in.subjects.Ordered()) {
		if err := j.publishOrdered(ctx); err != nil {
			return err
		}
	}
	if !st.IsPublished(st.Outcome.Type) {
		if err := j.in.publish(ctx, j.id, st.Outcome.Type, st.Outcome.Data(), st.Traceparent, outcomeInfo(j.id, st.Outcome)); err != nil {
			return fmt.Errorf("publish %s: %w", st.Outcome.Type, err)
		}
		st.Published = append(st.Published, st.Outcome.Type)
		if err := j.save(ctx); err != nil && !errors.Is(err, errConflict) {
			return err
		}
		j.log.Info("journey ended", "outcome", st.Outcome.Type)
	}
	return j.d.Ack()
}
