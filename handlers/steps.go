package handlers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"time"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/calls"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// provisionStep records that provisioning starts, sends it, and orders at once in the
// same step: nothing waits between the two. The provisioning answer is recorded in the
// same write as the order being about to be sent, one round trip less in between.
func (j *journey) provisionStep(ctx context.Context) error {
	st := j.st
	if left := st.CreatedAt.Add(j.in.cfg.JourneyTimeout).Sub(j.in.now()); left < j.in.cfg.OrderWindow {
		// An order placed near the journey timeout could not be resolved before it.
		return fail(events.StageProvision, events.CodeDeadlineExceeded, true,
			"the order window of %s no longer fits in the journey timeout of %s; nothing was provisioned or ordered",
			j.in.cfg.OrderWindow, j.in.cfg.JourneyTimeout)
	}
	if st.Step == record.StepProvisioning {
		if st.ProvisionAttempts >= maxProvisionAttempts {
			return fail(events.StageProvision, events.CodeAPIError, true,
				"the provisioning answer was lost %d times; nothing was ordered", st.ProvisionAttempts)
		}
		j.log.Warn("the provisioning answer was never recorded: sending the provisioning request once more")
	}
	ctx, err := j.takeOrderTurn(ctx)
	if err != nil {
		return err
	}
	st.Step, st.ProvisionSentAt, st.Lease = record.StepProvisioning, j.in.now(), j.lease()
	st.ProvisionAttempts++
	st.OrderID = record.OrderID(j.id)
	if err := j.save(ctx); err != nil {
		return err
	}
	// The drain never cuts the provisioning POST: the next instance would send it again.
	// The client's timeout bounds it.
	resp, err := j.provision(context.WithoutCancel(ctx))
	if err != nil {
		return apiFailure(events.StageProvision, err).
			explain("; the provisioning request is not sent again, and nothing was ordered")
	}
	statusURL := resp.Data.StatusURL
	if err := j.api.Installations.CheckStatusURL(statusURL); err != nil {
		j.log.Warn("untrusted provisioning statusUrl", "error", err)
		return fail(events.StageProvision, events.CodeAPIError, false, "%s; nothing was ordered", describe(err))
	}
	prid, err := client.ProvisionRequestID(statusURL)
	if err != nil {
		j.log.Warn("provisioning statusUrl without a request id", "error", err)
		return fail(events.StageProvision, events.CodeAPIError, false,
			"the provisioning answer's statusUrl names no provisioning request; nothing was ordered")
	}
	st.StatusURL, st.ProvisionRequestID = statusURL, prid
	if ctx.Err() != nil {
		// The drain ended while provisioning was being answered: the answer is recorded, and
		// the next delivery sends the order within the window.
		st.Step, st.Lease = record.StepProvisionAccepted, record.Lease{}
		return j.save(ctx)
	}
	return j.orderStep(ctx)
}

func (j *journey) provision(ctx context.Context) (*client.ProvisionResponse, error) {
	r := j.st.Request
	req := calls.Provisioning(r)
	if r.App != nil {
		resp, _, err := j.api.Installations.ProvisionApp(ctx, r.OrgID, j.st.Plan.ProductARI, req)
		return resp, err
	}
	resp, _, err := j.api.Installations.ProvisionProducts(ctx, r.OrgID, req)
	return resp, err
}

// orderStep sends the order, unless the time to send it has passed (orderSendBy). A
// journey that may already have sent it re-sends it with the same orderId while that time
// lasts, and afterwards only reads it (resolveOrder). The call itself, the client's retries
// of 429 and 503 included, ends at that time, so that no attempt goes out after it, or after
// OrderCallTimeout if that comes first, so that a hung call does not hold the journey: the
// order is then read, and re-sent if it is not there.
func (j *journey) orderStep(ctx context.Context) error {
	st := j.st
	req := calls.Order(st)
	resend := st.Step == record.StepOrdering
	sendBy := j.in.orderSendBy(st)
	if !j.in.now().Before(sendBy) {
		if resend {
			return j.resolveOrder(ctx)
		}
		return windowExpired(j.in.cfg.OrderWindow.String()) // its record keeps the statusUrl
	}
	if resend {
		j.log.Warn("the order's answer was never recorded: sending it again with the same orderId", "order_id", st.OrderID)
	} else {
		st.Step, st.OrderSentAt, st.Lease = record.StepOrdering, j.in.now(), j.lease()
		if err := j.save(ctx); err != nil {
			return err
		}
	}
	// The drain never cuts the order POST, only its deadline does: sendBy on the server's
	// clock, as time left on the local one.
	left := min(sendBy.Sub(j.in.now()), j.in.cfg.OrderCallTimeout)
	wctx, cancel := withDeadline(context.WithoutCancel(ctx), j.in.clock, j.in.clock.Now().Add(left))
	defer cancel()
	resp, _, err := j.api.Commerce.CreateOrder(wctx, req)
	if err == nil {
		return j.recordOrder(ctx, orderAnswer(req, resp))
	}
	if ctx.Err() != nil {
		return err
	}
	switch status := statusOf(err); {
	case status == http.StatusConflict && resend:
		return j.resolveOrder(ctx)
	case status == http.StatusBadRequest || status == http.StatusConflict || status == http.StatusUnprocessableEntity:
		return fail(events.StageOrder, events.CodeOrderRejected, false, "%s", apiMessage(err)).withStatus(status)
	case errors.Is(err, client.ErrInvalidArgument):
		// Refused by the client before anything was sent: no attempt can succeed.
		return apiFailure(events.StageOrder, err)
	case client.Unprocessed(err) && !resend:
		// No attempt can have been processed (429s, no connection): the journey is back
		// where it was before the order, and sends it again no sooner than the API asked.
		st.Step, st.OrderSentAt, st.Lease = record.StepProvisionAccepted, time.Time{}, record.Lease{}
		if err := j.save(ctx); err != nil {
			return err
		}
		return &retryLater{after: max(j.in.cfg.PollInterval, retryAfter(err)), err: err}
	}
	// The order may have been placed: a 5xx or a dropped connection at some attempt, or a
	// call cut at its deadline. Only a read of it can tell.
	j.log.Warn("the order's answer was not seen: reading it", "order_id", st.OrderID, "error", err)
	return j.resolveOrder(ctx)
}

// resolveOrder settles an order that may have been placed but whose answer was not seen.
// A read that finds it records it, to be announced. Any other answer, a 404 included (a
// read may lag the write), only means "not seen yet": the order is sent again with the
// same orderId while orderSendBy allows, and afterwards read again with back-off, the
// provisioning polled meanwhile, until JourneyTimeout (see orderAtTimeout). It never
// concludes that nothing was ordered.
func (j *journey) resolveOrder(ctx context.Context) error {
	st := j.st
	a, err := j.in.readOrder(ctx, st)
	switch {
	case err == nil:
		return j.recordOrder(ctx, a)
	case ctx.Err() != nil:
		return err
	case j.in.now().Before(j.in.orderSendBy(st)):
		return &retryLater{after: max(j.in.cfg.PollInterval, retryAfter(err)), err: fmt.Errorf("order %s not seen, to be sent again: %w", st.OrderID, err)}
	}
	if err := j.pollProvisionWhileResolving(ctx); err != nil {
		return err
	}
	after := max(j.pollEvery, retryAfter(err))
	j.pollEvery = min(2*j.pollEvery, j.in.cfg.MaxPollInterval)
	return &retryLater{after: after, err: fmt.Errorf("order %s may exist and was not seen yet: %w", st.OrderID, err)}
}

// pollProvisionWhileResolving reads the provisioning status while an order is resolved: a
// completed provisioning proves that the order exists. It is recorded, and nothing the
// status says ends the journey: only a read of the order, or JourneyTimeout, does.
func (j *journey) pollProvisionWhileResolving(ctx context.Context) error {
	st := j.st
	if provisionDone(st.ProvisionStatus) {
		return nil
	}
	ps, _, err := j.api.Installations.GetProvisionStatus(ctx, st.StatusURL)
	switch {
	case err == nil && ps.Data.Status != st.ProvisionStatus:
		st.ProvisionStatus = ps.Data.Status
		if provisionDone(st.ProvisionStatus) {
			j.log.Info("provisioning completed: the order exists; reading it until it is seen", "order_id", st.OrderID)
		}
		return j.save(ctx)
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return nil
}

// orderAtTimeout reads, at JourneyTimeout, an order that may have been placed: found, it is
// recorded and announced before the journey fails; otherwise the journey fails without
// saying that nothing was ordered, and not retryable.
func (j *journey) orderAtTimeout(ctx context.Context) error {
	st := j.st
	a, err := j.in.readOrder(ctx, st)
	switch {
	case err == nil:
		return j.recordOrder(ctx, a)
	case ctx.Err() != nil:
		return err
	}
	exists := "it may exist"
	if provisionDone(st.ProvisionStatus) {
		exists = "it exists, since its provisioning completed"
	}
	return fail(events.StageOrder, events.CodeDeadlineExceeded, false,
		"order %s was sent but not seen by the journey timeout of %s: %s; look it up before ordering again",
		st.OrderID, j.in.cfg.JourneyTimeout, exists).withStatus(statusOf(err))
}

// readOrder reads an order that may have been placed; found, it is the answer to record,
// as the POST would have answered. Every read of an order whose answer was not seen goes
// here: any error, a 404 included, only means "not seen yet" (a read may lag the write).
func (in *Installer) readOrder(ctx context.Context, st *record.State) (*record.OrderAnswer, error) {
	o, _, err := in.api.Commerce.GetOrder(ctx, st.OrderID, st.Plan.TransactionAccountID)
	if err != nil {
		return nil, err
	}
	return orderAnswerFromRead(calls.Order(st), o), nil
}

// orderSendBy is the last moment an order may be sent: the order window after the
// provisioning request, less a safety margin of a tenth of the window, at most 30s.
func (in *Installer) orderSendBy(st *record.State) time.Time {
	w := in.cfg.OrderWindow
	return st.ProvisionSentAt.Add(w - min(w/10, maxOrderMargin))
}

func windowExpired(window string) *failure {
	return fail(events.StageOrder, events.CodeOrderWindowExpired, true,
		"the order window of %s after the provisioning request has passed; nothing was ordered", window)
}

func (j *journey) recordOrder(ctx context.Context, a *record.OrderAnswer) error {
	st := j.st
	st.Order, st.Step, st.Lease = a, record.StepOrdered, record.Lease{}
	if err := j.save(ctx); err != nil {
		return err
	}
	j.pollNow = false // nothing can have finished yet: wait a first interval
	j.pollEvery = j.in.cfg.PollInterval
	j.log.Info("ordered", "order_id", st.OrderID, "slug", a.Slug, "provision_request_id", st.ProvisionRequestID)
	return nil
}

// publishOrdered publishes the ordered event once and records it.
func (j *journey) publishOrdered(ctx context.Context) error {
	st := j.st
	data := &events.Ordered{
		RequestID:            st.RequestID,
		OrgID:                st.Request.OrgID,
		OrderID:              st.OrderID,
		Slug:                 st.Order.Slug,
		ProvisionRequestID:   st.ProvisionRequestID,
		TransactionAccountID: st.Plan.TransactionAccountID,
		InvoiceGroupID:       st.Plan.InvoiceGroupID,
		Items:                st.Order.Items,
	}
	typ := j.in.subjects.Ordered()
	if err := j.in.publish(ctx, j.id, typ, data, st.Traceparent, OutcomeInfo{Kind: OutcomeOrdered, RequestID: j.id}); err != nil {
		return err
	}
	st.Published = append(st.Published, typ)
	return j.save(ctx)
}

// pollStep reads the provisioning status and, once provisioning has finished, the order;
// it records what changed, and the outcome once both have finished. The order is not
// read while provisioning runs: provisioning finishes only after commerce has processed
// the order, and order reads share the orders API's rate limit (600/min) with order
// creation, which must not queue behind thousands of waiting journeys' polls. Errors only
// skip a round: the order exists, and the journey timeout bounds the wait.
func (j *journey) pollStep(ctx context.Context) error {
	st := j.st
	changed := false
	if !provisionDone(st.ProvisionStatus) {
		ps, _, err := j.api.Installations.GetProvisionStatus(ctx, st.StatusURL)
		switch {
		case err == nil:
			s := ps.Data.Status
			switch s {
			case client.ProvisionFailed, client.ProvisionTimedOut, client.ProvisionCancelled:
				return fail(events.StageProvision, events.CodeProvisionFailed, s == client.ProvisionTimedOut,
					"provisioning request %s ended %s", st.ProvisionRequestID, s)
			case client.ProvisionInProgress, client.ProvisionCompleted, client.ProvisionSuccess:
			default:
				j.unknownStatus("provisioning", s)
			}
			changed = changed || s != st.ProvisionStatus
			st.ProvisionStatus = s
		case ctx.Err() != nil:
			return err
		case errors.Is(err, client.ErrUntrustedStatusURL):
			j.log.Warn("untrusted provisioning statusUrl", "error", err)
			return fail(events.StageProvision, events.CodeAPIError, false, "%s", describe(err))
		default:
			// The order exists: no answer of the status URL (401, 403, 404 included: a
			// credential being mended, a read lagging) ends the journey before
			// JourneyTimeout.
			j.log.Warn("provisioning status unavailable for now", "error", err)
		}
	}
	if st.Entitlements == nil && provisionDone(st.ProvisionStatus) {
		o, _, err := j.api.Commerce.GetOrder(ctx, st.OrderID, st.Plan.TransactionAccountID)
		switch {
		case err == nil:
			c, f := j.orderProgress(o)
			if f != nil {
				return f
			}
			changed = changed || c
		case ctx.Err() != nil:
			return err
		default:
			// The order was accepted: a 404 can only be a read lagging behind, and no
			// other answer ends the journey before JourneyTimeout either.
			j.log.Warn("order status unavailable for now", "error", err)
		}
	}
	if provisionDone(st.ProvisionStatus) && st.Entitlements != nil {
		now := j.in.now()
		st.Outcome = j.in.outcomeProvisioned(st, now)
		st.Step, st.Status, st.CompletedAt = record.StepDone, record.StatusProvisioned, now
		return j.save(ctx)
	}
	if changed {
		return j.save(ctx)
	}
	return nil
}

// orderProgress records the item statuses of an order read; once every item succeeded it
// records the entitlements the order created.
func (j *journey) orderProgress(o *client.Order) (changed bool, f *failure) {
	st := j.st
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
			return false, f
		case client.ItemSuccess:
			e := events.Entitlement{OfferingID: it.OfferingID}
			if pi := it.ProcessingInfo; pi.Entitlement != nil {
				e.EntitlementID, e.Version = pi.Entitlement.ID, pi.Entitlement.Version
			}
			ents = append(ents, e)
		default:
			done = false
			if s != "" && s != client.ItemProcessing && s != client.ProvisionInProgress {
				j.unknownStatus("order item", s)
			}
		}
	}
	if !maps.Equal(statuses, st.ItemStatuses) {
		st.ItemStatuses, changed = statuses, true
	}
	if done {
		st.Entitlements, changed = ents, true
	}
	return changed, nil
}

func (j *journey) unknownStatus(what, s string) {
	if !j.logUnknown[what+s] {
		j.logUnknown[what+s] = true
		j.log.Info("unknown status counts as still running", "of", what, "status", s)
	}
}

func provisionDone(s string) bool {
	return s == client.ProvisionCompleted || s == client.ProvisionSuccess
}
