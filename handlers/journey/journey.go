package journey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/jonboulle/clockwork"

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

// Config is what the journey's decisions depend on besides a journey's record. Every field
// is required; handlers.Config supplies them.
type Config struct {
	// Subjects give the outcome events their types.
	Subjects events.Subjects
	// CheckOutcomes reports, before any Atlassian call, whether every outcome the request's
	// journey may publish can be carried (calls.CheckOutcomes with the runtime's publisher).
	CheckOutcomes func(requestID string, r *events.Request) error
	// OrderWindow, PollInterval, MaxPollInterval and JourneyTimeout are handlers.Config's.
	OrderWindow, PollInterval, MaxPollInterval, JourneyTimeout time.Duration
	// OrderRetry decides when the order is sent or read again: the bound and retries of each
	// order call, the waits between calls (handlers.Config's, its defaults filled in).
	OrderRetry calls.OrderRetry
	// Credentials picks the credentials of an organization's calls; nil: the client's own.
	Credentials func(orgID string) (client.Credentials, bool)
	// Limiter, when set, gives the order its turn before provisioning is sent.
	Limiter client.Limiter
	// Clock measures call deadlines and the back-off between polls, on this process.
	Clock clockwork.Clock
	// Now is the time on the NATS server's clock: every time a journey records or compares.
	Now func() time.Time
}

// Journey decides the steps of install journeys. It keeps nothing of a journey between
// steps (the runtime holds each one's Run), and is safe for concurrent use.
type Journey struct {
	api API
	cfg Config
}

// New returns the journeys that call api.
func New(api API, cfg Config) *Journey { return &Journey{api: api, cfg: cfg} }

// Run is one journey as the runtime holds it between steps: its record, and what the
// journey remembers from one step to the next within one delivery (the poll back-off).
type Run struct {
	// ID is the request id.
	ID string
	// Record is the journey's record as last read or written.
	Record *record.State
	// Advanced reports that Record was written on an Advance decision of this Run and no
	// step has run since: the effect it records as about to happen (the provisioning
	// request, the order) is due and was not attempted. A record read back from the store
	// may hide such an effect, its answer lost.
	Advanced bool
	// Owner names this delivery as the holder of the lease a step records before an effect,
	// and LeaseFor is how long that lease lasts from when it is recorded.
	Owner    string
	LeaseFor time.Duration
	// Drain is closed once the runtime drains: a step waiting for the API's quota gives up,
	// with nothing sent.
	Drain <-chan struct{}
	// Log is the journey's logger.
	Log *slog.Logger

	pollEvery   time.Duration // the current wait between polls; 0: PollInterval
	orderMisses uint64        // reads past the send-by time that did not find the order
	heldTurn    bool          // the order's turn of the API's quota is taken (Config.Limiter)
	resend      bool          // the order recorded as due may have been sent before (see order)
	unknown     map[string]bool
}

func (r *Run) draining() bool {
	select {
	case <-r.Drain:
		return true
	default:
		return false
	}
}

// EffectDue reports that the next step carries out an effect its record announces (see
// Advanced): the runtime takes it even while draining, since a journey resumed from that
// record would count the effect as possibly done.
func (r *Run) EffectDue() bool {
	return r.Advanced && (r.Record.Step == record.StepProvisioning || r.Record.Step == record.StepOrdering)
}

// Kind says what the runtime does with a Decision.
type Kind int

// The decisions a step returns.
const (
	// Advance: write the record, then take the next step at once.
	Advance Kind = iota + 1
	// Wait: write the record if there is one, then take the next step After from now (status
	// polls).
	Wait
	// Retry: write the record if there is one, then take the step again After from now; Err
	// says why.
	Retry
	// End: write the record, which holds the journey's outcome, then publish the outcome.
	End
)

// Decision is what a step decided; the runtime acts on it. Its Record, when set, is written
// (compare-and-set over the revision it was read at) before anything else happens: before
// the next step's effect, before a wait, before an outcome is published. Err is why a step
// is retried, or the *Failure a journey ended with.
type Decision struct {
	Kind   Kind
	Record *record.State
	After  time.Duration
	Err    error
}

func advance(st *record.State) Decision { return Decision{Kind: Advance, Record: st} }

func (j *Journey) end(r *Run, f *Failure) Decision {
	log := r.Log
	if f.cause != nil {
		log = log.With("error", f.cause)
	}
	log.Info("journey failed", "stage", f.stage, "code", f.code, "message", f.message)
	st := r.Record
	st.Outcome = j.outcomeFailed(st, f)
	st.Step, st.Status, st.CompletedAt, st.Lease = record.StepDone, record.StatusFailed, j.now(), record.Lease{}
	return Decision{Kind: End, Record: st, Err: f}
}

// retryLater asks for the same step again after a wait: the step had no effect, or
// repeating it is safe (the order, idempotent by orderId).
func (j *Journey) retryLater(r *Run, after time.Duration, err error) Decision {
	return Decision{Kind: Retry, After: j.untilDeadline(r, after), Err: err}
}

func (j *Journey) now() time.Time { return j.cfg.Now().UTC() }

// lease is the lease of r's delivery from now.
func (j *Journey) lease(r *Run) record.Lease {
	return record.Lease{Owner: r.Owner, Until: j.now().Add(r.LeaseFor)}
}

// Start is the record of a request seen for the first time: received, or at once failed
// when its data is wrong. ev is the request event, seq its message's stream sequence.
func (j *Journey) Start(ev *cloudevents.Event, seq uint64) *record.State {
	now := j.now()
	st := &record.State{
		RequestID:   ev.ID(),
		Source:      ev.Source(),
		Traceparent: events.Traceparent(ev),
		OwnerSeq:    seq,
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
		err = j.cfg.CheckOutcomes(st.RequestID, req)
	}
	if err != nil {
		orgID := ""
		if req != nil {
			orgID = req.OrgID
		}
		st.Outcome = j.outcomeFailed(st, invalidRequest(orgID, err))
		st.Step, st.Status, st.CompletedAt = record.StepDone, record.StatusFailed, now
	} else {
		st.Request = req
	}
	return st
}

// Step takes the next step of a journey that has not ended: it may call the Atlassian API,
// and returns what the runtime must do next. An error means no decision could be made (ctx
// ended, the drain began while the step waited, a record this installer cannot step); the
// runtime tries again later.
func (j *Journey) Step(ctx context.Context, r *Run) (Decision, error) {
	st := r.Record
	if j.now().Sub(st.CreatedAt) >= j.cfg.JourneyTimeout {
		if !st.OrderSentAt.IsZero() && st.Order == nil {
			// The order may have been placed: it is read before the journey ends (without
			// credentials for the organization the read fails, and the journey ends all the
			// same).
			cctx, _ := j.withCredentials(ctx, st)
			return j.orderAtTimeout(cctx, r)
		}
		return j.end(r, fail(st.Step.Stage(), events.CodeDeadlineExceeded, true,
			"the journey did not finish within %s", j.cfg.JourneyTimeout)), nil
	}
	ctx, err := j.withCredentials(ctx, st)
	if err != nil {
		var f *Failure
		if errors.As(err, &f) {
			return j.end(r, f), nil
		}
		return j.retryLater(r, j.cfg.PollInterval, err), nil
	}
	switch {
	case st.Step == record.StepReceived:
		return j.lookUpStep(ctx, r)
	case st.Step == record.StepLookedUp, st.Step == record.StepProvisioning && !r.Advanced:
		return j.recordProvisioning(ctx, r)
	case st.Step == record.StepProvisioning:
		return j.provision(ctx, r)
	case st.Step == record.StepProvisionAccepted:
		return j.recordOrdering(r), nil
	case st.Step == record.StepOrdering:
		return j.order(ctx, r)
	case st.Step == record.StepOrdered:
		return j.pollStep(ctx, r)
	}
	return Decision{}, fmt.Errorf("journey %s: unknown step %q", r.ID, st.Step)
}

// withCredentials gives the next step's calls the credentials of the request's
// organization, read at each step so that a reloaded credentials file applies at once.
// Without any, nothing is called: before provisioning the journey fails unauthorized (a
// *Failure); once provisioning may have been sent, it waits for credentials to come back
// (any other error).
func (j *Journey) withCredentials(ctx context.Context, st *record.State) (context.Context, error) {
	org := st.Request.OrgID
	ctx = client.ContextWithOrganization(ctx, org) // its quotas
	pick := j.cfg.Credentials
	if pick == nil {
		return ctx, nil
	}
	if cr, ok := pick(org); ok {
		return client.ContextWithCredentials(ctx, cr), nil
	}
	if s := st.Step; s == record.StepReceived || s == record.StepLookedUp {
		return ctx, fail(s.Stage(), events.CodeUnauthorized, false, "the installer has no Atlassian credentials for organization %s", org)
	}
	return ctx, fmt.Errorf("no Atlassian credentials for organization %s", org)
}

// untilDeadline caps a wait so that the journey timeout is noticed on time.
func (j *Journey) untilDeadline(r *Run, d time.Duration) time.Duration {
	left := r.Record.CreatedAt.Add(j.cfg.JourneyTimeout).Sub(j.now())
	return max(min(d, left), 0)
}

// pollEvery is the current wait between polls; each call doubles the next, up to
// MaxPollInterval.
func (j *Journey) pollEvery(r *Run) time.Duration {
	d := r.pollEvery
	if d == 0 {
		d = j.cfg.PollInterval
	}
	r.pollEvery = min(2*d, j.cfg.MaxPollInterval)
	return d
}

// lookUpStep runs the look-ups; a dry run ends there, with its plan as outcome, and a
// real one goes on to provisioning.
func (j *Journey) lookUpStep(ctx context.Context, r *Run) (Decision, error) {
	plan, err := j.lookUp(ctx, r.Record.Request)
	var f *Failure
	if errors.As(err, &f) {
		return j.end(r, f), nil
	}
	if err != nil {
		return Decision{}, err
	}
	st := r.Record
	st.Plan, st.Step = plan, record.StepLookedUp
	if !st.Request.DryRun {
		// Look-ups have no effect: their answers are recorded with the provisioning about
		// to be sent.
		return j.recordProvisioning(ctx, r)
	}
	out, err := j.outcomePlanned(st)
	if err != nil {
		return Decision{}, err
	}
	st.Outcome, st.Step, st.Status, st.CompletedAt = out, record.StepDone, record.StatusPlanned, j.now()
	return Decision{Kind: End, Record: st}, nil
}

// Abandon ends a journey that failed the same way at faults deliveries in a row (cause, at the
// last of them) with internal_error, in st; the runtime writes it. An order that may have been
// placed is read first: found, it is recorded, to be announced before the
// failure. A dry run whose plan could not be published ends failed instead.
func (j *Journey) Abandon(ctx context.Context, st *record.State, faults int, cause error, log *slog.Logger) {
	if !st.OrderSentAt.IsZero() && st.Order == nil {
		j.orderAtFault(ctx, st, log)
	}
	f := internalError(st, faults, cause)
	st.Outcome = j.outcomeFailed(st, f)
	st.Step, st.Status, st.CompletedAt = record.StepDone, record.StatusFailed, j.now()
}

// orderAtFault reads, before a journey ends internal_error, the order that
// may have been placed: found, it is recorded, to be announced before the failure. Not
// found, or not read (a read may lag the write), the failure says it may exist. A panic of
// the read is no reason to go on: it counts as not read.
func (j *Journey) orderAtFault(ctx context.Context, st *record.State, log *slog.Logger) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("reading the order panicked", "order_id", st.OrderID, "panic", r)
		}
	}()
	// Without credentials for the organization the read fails, and the journey ends all the same.
	cctx, _ := j.withCredentials(ctx, st)
	a, err := j.readOrder(cctx, st, log)
	if err != nil {
		log.Warn("the order was not seen before the journey ends; it may exist", "order_id", st.OrderID, "read_error", err)
		return
	}
	st.Order = a
	log.Info("ordered", "order_id", st.OrderID, "slug", st.Order.Slug, "provision_request_id", st.ProvisionRequestID)
}

// internalError is the failure of a journey that failed the same way faults times (cause, at
// the last of them). Once the order may have been sent it is not retryable: a new request could
// buy a second time.
func internalError(st *record.State, faults int, cause error) *Failure {
	if st.Terminal() { // a dry run's plan not published
		why := ""
		if errors.Is(cause, events.ErrSubjectNotInStream) {
			why = fmt.Sprintf(": stream %s does not take subject %s, an operator must add it", events.StreamEvents, st.Outcome.Type)
		}
		return fail(events.StageCompletion, events.CodeInternalError, true,
			"the installer could not publish the dry run's plan at %d deliveries and gave up%s; nothing was provisioned or ordered", faults, why)
	}
	orderMayExist := !st.OrderSentAt.IsZero()
	var done string
	switch {
	case st.Order != nil:
		done = "the order was accepted"
	case orderMayExist:
		done = "the order may have been placed: follow its orderId up"
	case !st.ProvisionSentAt.IsZero():
		done = "nothing was ordered"
	default:
		done = "nothing was provisioned or ordered"
	}
	return fail(st.Step.Stage(), events.CodeInternalError, !orderMayExist,
		"the installer failed at %d deliveries of step %s and gave up; %s", faults, st.Step, done)
}
