package handlers

import (
	"context"
	"errors"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
)

// slotFreeWhileWaiting gives the step's concurrency slot back while one of its calls waits for
// a turn of the API's quota, and takes one again before the call goes on: a journey waiting
// for quota holds no slot, and the slots go to the journeys this instance holds that can work.
// The slot makes no room for more messages meanwhile (quotaWaits): a backlog waiting for the
// quota stays on the server, for every instance to share.
func (d *Delivery) slotFreeWhileWaiting(ctx context.Context) context.Context {
	in := d.in
	return client.ContextWithWaitHook(ctx, func() {
		in.quotaWaits.Add(1)
		<-in.slots
	}, func() {
		in.slots <- struct{}{}
		in.quotaWaits.Add(-1)
	})
}

// takeOrderTurn takes the turn of the order before its provisioning request is sent, so that
// the order follows the provisioning answer at once, however busy the orders quota: the
// returned context carries it to the order call (client.ContextWithHeldTurn), which does not
// wait again. Order creation comes before every read of the orders family. A turn that cannot
// come while the order window still fits in the journey timeout fails the journey with
// nothing provisioned; a drain ends the wait with nothing sent. A turn held but not used (the
// provisioning failed) is spent.
func (j *journey) takeOrderTurn(ctx context.Context) (context.Context, error) {
	lim := j.in.cfg.Limiter
	if lim == nil {
		return ctx, nil
	}
	// The limiter measures real time: the time left on the installer's clock is given as a
	// timeout.
	left := j.st.CreatedAt.Add(j.in.cfg.JourneyTimeout - j.in.cfg.OrderWindow).Sub(j.in.now())
	wctx, cancel := context.WithTimeout(ctx, left)
	defer cancel()
	go func() {
		select {
		case <-j.in.draining:
			cancel()
		case <-wctx.Done():
		}
	}()
	org := j.st.Request.OrgID
	err := lim.Wait(wctx, client.Turn{Org: org, Family: client.FamilyOrders, Priority: client.PriorityCreate})
	switch {
	case err == nil:
		return client.ContextWithHeldTurn(ctx, client.FamilyOrders), nil
	case ctx.Err() != nil:
		return ctx, ctx.Err()
	case j.in.isDraining():
		return ctx, ErrDraining
	case errors.Is(err, context.DeadlineExceeded):
		return ctx, fail(events.StageProvision, events.CodeDeadlineExceeded, true,
			"the orders quota of organization %s has no turn for the order while the order window of %s still fits in the journey timeout of %s; nothing was provisioned or ordered",
			org, j.in.cfg.OrderWindow, j.in.cfg.JourneyTimeout)
	}
	return ctx, err
}
