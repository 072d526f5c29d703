package journey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/calls"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// recordProvisioning decides to provision: while the order window still fits in the journey
// timeout, and the provisioning request was sent fewer than maxProvisionAttempts times, it
// takes the order's turn of the API's quota and records the provisioning as about to be sent,
// with the order that follows its answer at once (its orderId, and OrderSentAt: from this
// record on, the order may exist); the next step sends both. A journey resumed here lost the
// answers: once the provisioning request was sent twice, the order can only be read.
func (j *Journey) recordProvisioning(ctx context.Context, r *Run) (Decision, error) {
	st := r.Record
	if st.Step == record.StepProvisioning && st.ProvisionAttempts >= maxProvisionAttempts {
		r.Log.Warn("the provisioning answer was lost twice: the order is read, never sent again", "order_id", st.OrderID)
		return j.readOnly(ctx, r)
	}
	if left := st.CreatedAt.Add(j.cfg.JourneyTimeout).Sub(j.now()); left < j.cfg.OrderWindow {
		// An order placed near the journey timeout could not be resolved before it.
		if st.Step == record.StepProvisioning {
			return j.readOnly(ctx, r)
		}
		return j.end(r, fail(events.StageProvision, events.CodeDeadlineExceeded, true,
			"the order window of %s no longer fits in the journey timeout of %s; nothing was provisioned or ordered",
			j.cfg.OrderWindow, j.cfg.JourneyTimeout)), nil
	}
	if st.Step == record.StepProvisioning {
		r.Log.Warn("the provisioning answer was never recorded: sending the provisioning request once more")
	}
	if err := j.takeOrderTurn(ctx, r); err != nil {
		var f *Failure
		switch {
		case !errors.As(err, &f):
			return Decision{}, err
		case st.Step == record.StepProvisioning:
			// No turn for a second attempt: the first one's order may exist.
			return j.readOnly(ctx, r)
		}
		return j.end(r, f), nil
	}
	st.Step, st.ProvisionSentAt, st.Lease = record.StepProvisioning, j.now(), j.lease(r)
	st.ProvisionAttempts++
	st.OrderID, st.OrderSentAt = record.OrderID(r.ID), st.ProvisionSentAt
	st.StatusURL, st.ProvisionRequestID = "", ""
	return advance(st), nil
}

// readOnly settles a journey whose order may exist but cannot be sent (again): the
// provisioning answer was lost, or there is no time left to provision. The order is read
// until it is seen (its provisioning is then the one it names) or the journey times out.
func (j *Journey) readOnly(ctx context.Context, r *Run) (Decision, error) {
	st := r.Record
	st.Step, st.StatusURL, st.ProvisionRequestID, st.Lease = record.StepOrdering, "", "", record.Lease{}
	d, err := j.resolveOrder(ctx, r)
	return withRecord(st, d), err
}

// withRecord gives a decision taken after the journey's record st changed in memory that
// record to write, if it has none.
func withRecord(st *record.State, d Decision) Decision {
	if d.Record == nil {
		d.Record = st
	}
	return d
}

// provision sends the provisioning request recorded as about to be sent and, at once, the
// order: nothing is written between the provisioning answer and the order, whose orderId the
// provisioning record holds. Both answers are written together.
func (j *Journey) provision(ctx context.Context, r *Run) (Decision, error) {
	st := r.Record
	// The drain never cuts the provisioning POST: the next instance would send it again.
	// The client's timeout bounds it.
	resp, err := j.sendProvisioning(context.WithoutCancel(ctx), st)
	if err != nil {
		return j.provisionFailed(ctx, r, apiFailure(events.StageProvision, err).
			explain("; the provisioning request is not sent again, and nothing was ordered"))
	}
	statusURL := resp.Data.StatusURL
	if err := j.api.Installations.CheckStatusURL(statusURL); err != nil {
		r.Log.Warn("untrusted provisioning statusUrl", "error", err)
		return j.provisionFailed(ctx, r, fail(events.StageProvision, events.CodeAPIError, false, "%s; nothing was ordered", describe(err)))
	}
	prid, err := client.ProvisionRequestID(statusURL)
	if err != nil {
		r.Log.Warn("provisioning statusUrl without a request id", "error", err)
		return j.provisionFailed(ctx, r, fail(events.StageProvision, events.CodeAPIError, false,
			"the provisioning answer's statusUrl names no provisioning request; nothing was ordered"))
	}
	st.StatusURL, st.ProvisionRequestID = statusURL, prid
	if ctx.Err() != nil {
		// The drain ended while provisioning was being answered: the answer is recorded, and
		// the next delivery sends the order within the window.
		st.Step, st.Lease = record.StepProvisionAccepted, record.Lease{}
		if st.ProvisionAttempts == 1 {
			st.OrderSentAt = time.Time{}
		}
		return advance(st), nil
	}
	if !j.now().Before(j.orderSendBy(st)) {
		return j.provisionFailed(ctx, r, windowExpired(j.cfg.OrderWindow.String()))
	}
	// A second provisioning request follows a lost answer: the first one's order may exist.
	st.Step, r.resend = record.StepOrdering, st.ProvisionAttempts > 1
	d, err := j.sendOrder(ctx, r)
	return withRecord(st, d), err
}

// provisionFailed ends with f, which says that nothing was ordered, a journey whose
// provisioning request failed: the order is sent only after the provisioning answer. After a lost answer (a second attempt) the
// first attempt's order may exist: it is read until it is seen or the journey times out.
func (j *Journey) provisionFailed(ctx context.Context, r *Run, f *Failure) (Decision, error) {
	st := r.Record
	if st.ProvisionAttempts > 1 {
		r.Log.Warn("the second provisioning request failed; the first one's order may exist: reading it",
			"order_id", st.OrderID, "stage", f.stage, "code", f.code, "message", f.message)
		return j.readOnly(ctx, r)
	}
	st.OrderSentAt = time.Time{}
	return j.end(r, f), nil
}

func (j *Journey) sendProvisioning(ctx context.Context, st *record.State) (*client.ProvisionResponse, error) {
	r := st.Request
	req := calls.Provisioning(r)
	if r.App != nil {
		resp, _, err := j.api.Installations.ProvisionApp(ctx, r.OrgID, st.Plan.ProductARI, req)
		return resp, err
	}
	resp, _, err := j.api.Installations.ProvisionProducts(ctx, r.OrgID, req)
	return resp, err
}

// recordOrdering records the order as about to be sent, unless the time to send it has
// passed (orderSendBy); the next step sends it.
func (j *Journey) recordOrdering(r *Run) Decision {
	st := r.Record
	if !j.now().Before(j.orderSendBy(st)) {
		return j.end(r, windowExpired(j.cfg.OrderWindow.String())) // its record keeps the statusUrl
	}
	st.Step, st.OrderSentAt, st.Lease = record.StepOrdering, j.now(), j.lease(r)
	// After a second provisioning request, the first one's order may exist.
	r.resend = st.ProvisionAttempts > 1
	return advance(st)
}

// order sends the order recorded as about to be sent. A journey resumed at StepOrdering
// (not Advanced: it may already have sent it) re-sends it with the same orderId while
// orderSendBy allows, and afterwards only reads it (resolveOrder). Before it re-sends, it
// records its own lease: a delivery that held the journey before and was stopped past its
// lease may still record what it decided then (that its own order POST was never
// processed, say, and the journey is back before the order); that write must meet a
// conflict rather than undo this send. The call itself, the client's retries of 429 and
// 503 included (the order's retry policy's attempts and back-off), ends at that time, so
// that no attempt goes out after it, or after the policy's CallTimeout if that comes
// first, so that a hung call does not hold the journey: the order is then read, and
// re-sent if it is not there.
func (j *Journey) order(ctx context.Context, r *Run) (Decision, error) {
	st := r.Record
	if !r.Advanced {
		if !j.now().Before(j.orderSendBy(st)) || st.ProvisionRequestID == "" {
			return j.resolveOrder(ctx, r) // too late, or no provisioning answer to send it with
		}
		st.Lease, r.resend = j.lease(r), true
		return advance(st), nil
	}
	return j.sendOrder(ctx, r)
}

// sendOrder sends the order; r.resend tells that it may have been sent before.
func (j *Journey) sendOrder(ctx context.Context, r *Run) (Decision, error) {
	st := r.Record
	req := calls.Order(st)
	sendBy := j.orderSendBy(st)
	resend := r.resend
	r.resend = false
	if resend {
		r.Log.Warn("the order's answer was never recorded: sending it again with the same orderId", "order_id", st.OrderID)
	}
	if r.heldTurn {
		r.heldTurn = false
		ctx = client.ContextWithHeldTurn(ctx, client.FamilyOrders)
	}
	// The drain never cuts the order POST, only its deadline does: sendBy on the server's
	// clock, as time left on the local one.
	policy := j.cfg.OrderRetry
	left := min(sendBy.Sub(j.now()), policy.CallTimeout)
	wctx, cancel := withDeadline(context.WithoutCancel(ctx), j.cfg.Clock, j.cfg.Clock.Now().Add(left))
	defer cancel()
	resp, _, err := j.api.Commerce.CreateOrder(client.ContextWithRetry(wctx, policy.Call()), req)
	if err == nil {
		j.orderedWith(st, resp.Metadata, r.Log)
		return j.recordOrder(r, orderAnswer(req, resp)), nil
	}
	if ctx.Err() != nil {
		return Decision{}, err
	}
	switch status := statusOf(err); {
	case status == http.StatusConflict && resend:
		return j.resolveOrder(ctx, r)
	case status == http.StatusBadRequest || status == http.StatusConflict || status == http.StatusUnprocessableEntity:
		return j.end(r, fail(events.StageOrder, events.CodeOrderRejected, false, "%s", apiMessage(err)).withStatus(status)), nil
	case errors.Is(err, client.ErrInvalidArgument):
		// Refused by the client before anything was sent: no attempt can succeed.
		return j.end(r, apiFailure(events.StageOrder, err)), nil
	case client.Unprocessed(err) && !resend:
		// No attempt can have been processed (429s, no connection): the journey is back
		// where it was before the order, and sends it again no sooner than the API asked.
		st.Step, st.OrderSentAt, st.Lease = record.StepProvisionAccepted, time.Time{}, record.Lease{}
		d := j.retryLater(r, max(policy.Wait, retryAfter(err)), err)
		d.Record = st
		return d, nil
	}
	// The order may have been placed: a 5xx or a dropped connection at some attempt, or a
	// call cut at its deadline. Only a read of it can tell.
	r.Log.Warn("the order's answer was not seen: reading it", "order_id", st.OrderID, "error", err)
	return j.resolveOrder(ctx, r)
}

// resolveOrder settles an order that may have been placed but whose answer was not seen.
// A read that finds it records it, to be announced. Any other answer, a 404 included (a
// read may lag the write), only means "not seen yet": the order is sent again with the
// same orderId while orderSendBy allows, and afterwards read again with back-off, the
// provisioning polled meanwhile, until JourneyTimeout (see orderAtTimeout); the waits are the
// order's retry policy's. It never concludes that nothing was ordered.
func (j *Journey) resolveOrder(ctx context.Context, r *Run) (Decision, error) {
	st := r.Record
	a, err := j.readOrder(ctx, st, r.Log)
	switch {
	case err == nil:
		return j.recordOrder(r, a), nil
	case ctx.Err() != nil:
		return Decision{}, err
	case j.now().Before(j.orderSendBy(st)) && st.ProvisionRequestID != "":
		return j.retryLater(r, max(j.cfg.OrderRetry.Wait, retryAfter(err)), fmt.Errorf("order %s not seen, to be sent again: %w", st.OrderID, err)), nil
	}
	changed, perr := j.pollProvisionWhileResolving(ctx, r)
	if perr != nil {
		return Decision{}, perr
	}
	r.orderMisses++
	d := j.retryLater(r, max(j.cfg.OrderRetry.BackoffAfter(r.orderMisses), retryAfter(err)), fmt.Errorf("order %s may exist and was not seen yet: %w", st.OrderID, err))
	if changed {
		d.Record = st
	}
	return d, nil
}

// pollProvisionWhileResolving reads the provisioning status while an order is resolved: a
// completed provisioning proves that the order exists. What changed is recorded, and nothing
// the status says ends the journey: only a read of the order, or JourneyTimeout, does.
func (j *Journey) pollProvisionWhileResolving(ctx context.Context, r *Run) (changed bool, err error) {
	st := r.Record
	if st.StatusURL == "" || provisionDone(st.ProvisionStatus) {
		return false, nil // no provisioning answer to poll, or nothing more to learn
	}
	ps, _, err := j.api.Installations.GetProvisionStatus(ctx, st.StatusURL)
	switch {
	case err == nil && ps.Data.Status != st.ProvisionStatus:
		st.ProvisionStatus = ps.Data.Status
		if provisionDone(st.ProvisionStatus) {
			r.Log.Info("provisioning completed: the order exists; reading it until it is seen", "order_id", st.OrderID)
		}
		return true, nil
	case ctx.Err() != nil:
		return false, ctx.Err()
	}
	return false, nil
}

// orderAtTimeout reads, at JourneyTimeout, an order that may have been placed: found, it is
// recorded and announced before the journey fails; otherwise the journey fails without
// saying that nothing was ordered, and not retryable.
func (j *Journey) orderAtTimeout(ctx context.Context, r *Run) (Decision, error) {
	st := r.Record
	a, err := j.readOrder(ctx, st, r.Log)
	switch {
	case err == nil:
		return j.recordOrder(r, a), nil
	case ctx.Err() != nil:
		return Decision{}, err
	}
	exists := "it may exist"
	if provisionDone(st.ProvisionStatus) {
		exists = "it exists, since its provisioning completed"
	}
	return j.end(r, fail(events.StageOrder, events.CodeDeadlineExceeded, false,
		"order %s was sent but not seen by the journey timeout of %s: %s; look it up before ordering again",
		st.OrderID, j.cfg.JourneyTimeout, exists).withStatus(statusOf(err))), nil
}

// readOrder reads an order that may have been placed; found, it is the answer to record,
// as the POST would have answered. Every read of an order whose answer was not seen goes
// here: any error, a 404 included, only means "not seen yet" (a read may lag the write).
// The read follows the order's retry policy, as the POST does.
func (j *Journey) readOrder(ctx context.Context, st *record.State, log *slog.Logger) (*record.OrderAnswer, error) {
	policy := j.cfg.OrderRetry
	rctx, cancel := withDeadline(ctx, j.cfg.Clock, j.cfg.Clock.Now().Add(policy.CallTimeout))
	defer cancel()
	o, _, err := j.api.Commerce.GetOrder(client.ContextWithRetry(rctx, policy.Call()), st.OrderID, st.Plan.TransactionAccountID)
	if err != nil {
		return nil, err
	}
	j.orderedWith(st, o.Metadata, log)
	return orderAnswerFromRead(calls.Order(st), o), nil
}

// orderedWith makes the provisioning request an accepted order names (its
// metadata.provisionRequestId) the journey's: after a lost provisioning answer, the order may
// belong to the first provisioning request, and the second one is abandoned. Its statusUrl is
// built as the API gives it.
func (j *Journey) orderedWith(st *record.State, md *client.OrderMetadata, log *slog.Logger) {
	if md == nil || md.ProvisionRequestID == "" || md.ProvisionRequestID == st.ProvisionRequestID {
		return
	}
	log.Warn("the order names another provisioning request than the last one sent: following it",
		"order_id", st.OrderID, "provision_request_id", md.ProvisionRequestID, "abandoned", st.ProvisionRequestID)
	st.ProvisionRequestID = md.ProvisionRequestID
	st.StatusURL = j.api.Installations.StatusURL(st.Request.OrgID, md.ProvisionRequestID)
	st.ProvisionStatus = ""
}

// orderSendBy is the last moment an order may be sent: the order window after the
// provisioning request, less a safety margin of a tenth of the window, at most 30s.
func (j *Journey) orderSendBy(st *record.State) time.Time {
	w := j.cfg.OrderWindow
	return st.ProvisionSentAt.Add(w - min(w/10, maxOrderMargin))
}

func windowExpired(window string) *Failure {
	return fail(events.StageOrder, events.CodeOrderWindowExpired, true,
		"the order window of %s after the provisioning request has passed; nothing was ordered", window)
}

// recordOrder records the order's answer, to be announced at once; the first poll waits
// PollInterval, since nothing can have finished yet.
func (j *Journey) recordOrder(r *Run, a *record.OrderAnswer) Decision {
	st := r.Record
	st.Order, st.Step, st.Lease = a, record.StepOrdered, record.Lease{}
	r.Log.Info("ordered", "order_id", st.OrderID, "slug", a.Slug, "provision_request_id", st.ProvisionRequestID)
	r.pollEvery = 0
	return Decision{Kind: Wait, Record: st, After: j.untilDeadline(r, j.pollEvery(r))}
}

// pollStep reads the provisioning status and, once provisioning has finished, the order;
// it keeps what it read in the record, which is written with the outcome once both have
// finished. The order is not
// read while provisioning runs: provisioning finishes only after commerce has processed
// the order, and order reads share the orders API's rate limit (600/min) with order
// creation, which must not queue behind thousands of waiting journeys' polls. Errors only
// skip a round: the order exists, and the journey timeout bounds the wait.
func (j *Journey) pollStep(ctx context.Context, r *Run) (Decision, error) {
	st := r.Record
	if !provisionDone(st.ProvisionStatus) {
		ps, _, err := j.api.Installations.GetProvisionStatus(ctx, st.StatusURL)
		switch {
		case err == nil:
			s := ps.Data.Status
			switch s {
			case client.ProvisionFailed, client.ProvisionTimedOut, client.ProvisionCancelled:
				return j.end(r, fail(events.StageProvision, events.CodeProvisionFailed, s == client.ProvisionTimedOut,
					"provisioning request %s ended %s", st.ProvisionRequestID, s)), nil
			case client.ProvisionInProgress, client.ProvisionCompleted, client.ProvisionSuccess:
			default:
				r.unknownStatus("provisioning", s)
			}
			st.ProvisionStatus = s
		case ctx.Err() != nil:
			return Decision{}, err
		case errors.Is(err, client.ErrUntrustedStatusURL):
			r.Log.Warn("untrusted provisioning statusUrl", "error", err)
			return j.end(r, fail(events.StageProvision, events.CodeAPIError, false, "%s", describe(err))), nil
		default:
			// The order exists: no answer of the status URL (401, 403, 404 included: a
			// credential being mended, a read lagging) ends the journey before
			// JourneyTimeout.
			r.Log.Warn("provisioning status unavailable for now", "error", err)
		}
	}
	if st.Entitlements == nil && provisionDone(st.ProvisionStatus) {
		o, _, err := j.api.Commerce.GetOrder(ctx, st.OrderID, st.Plan.TransactionAccountID)
		switch {
		case err == nil:
			if f := r.orderProgress(o); f != nil {
				return j.end(r, f), nil
			}
		case ctx.Err() != nil:
			return Decision{}, err
		default:
			// The order was accepted: a 404 can only be a read lagging behind, and no
			// other answer ends the journey before JourneyTimeout either.
			r.Log.Warn("order status unavailable for now", "error", err)
		}
	}
	if provisionDone(st.ProvisionStatus) && st.Entitlements != nil {
		now := j.now()
		st.Outcome = j.outcomeProvisioned(st, now)
		st.Step, st.Status, st.CompletedAt = record.StepDone, record.StatusProvisioned, now
		return Decision{Kind: End, Record: st}, nil
	}
	// What a poll read is recorded with the outcome, not before: polls have no effect, and a
	// resumed journey reads the statuses again.
	return Decision{Kind: Wait, After: j.untilDeadline(r, j.pollEvery(r))}, nil
}

// orderProgress keeps the item statuses of an order read; once every item succeeded it
// keeps the entitlements the order created.
func (r *Run) orderProgress(o *client.Order) *Failure {
	st := r.Record
	statuses := make(map[string]string, len(o.Items))
	ents := make([]events.Entitlement, 0, len(o.Items))
	done := len(o.Items) > 0
	for _, it := range o.Items {
		s, reason := "", ""
		if pi := it.ProcessingInfo; pi != nil {
			s, reason = pi.Status, pi.ReasonCode
		}
		statuses[it.OrderItemID] = s
		switch s {
		case client.ItemFailed, client.ItemRejected, client.ItemCancelled:
			f := fail(events.StageOrder, events.CodeOrderFailed, false, "order item %s (offering %s) ended %s", it.OrderItemID, it.OfferingID, s)
			if reason != "" {
				f.explain(": " + reason)
			}
			return f
		case client.ItemSuccess:
			e := events.Entitlement{OfferingID: it.OfferingID}
			if pi := it.ProcessingInfo; pi.Entitlement != nil {
				e.EntitlementID, e.Version = pi.Entitlement.ID, pi.Entitlement.Version
			}
			ents = append(ents, e)
		default:
			done = false
			if s != "" && s != client.ItemProcessing && s != client.ProvisionInProgress {
				r.unknownStatus("order item", s)
			}
		}
	}
	st.ItemStatuses = statuses
	if done {
		st.Entitlements = ents
	}
	return nil
}

// unknownStatus logs, once per delivery, a status the contract does not name.
func (r *Run) unknownStatus(what, s string) {
	if r.unknown == nil {
		r.unknown = map[string]bool{}
	}
	if !r.unknown[what+s] {
		r.unknown[what+s] = true
		r.Log.Info("unknown status counts as still running", "of", what, "status", s)
	}
}

func provisionDone(s string) bool {
	return s == client.ProvisionCompleted || s == client.ProvisionSuccess
}
