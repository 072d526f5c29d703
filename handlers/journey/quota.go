package journey

import (
	"context"
	"errors"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
)

// ErrDraining is returned by a step whose wait the drain ended before it had any effect.
var ErrDraining = errors.New("journey: draining")

// takeOrderTurn takes the turn of the order before its provisioning request is sent, so that
// the order follows the provisioning answer at once, however busy the orders quota: the order
// call carries it (client.ContextWithHeldTurn) and does not wait again. Order creation comes
// before every read of the orders family. A turn that cannot come while the order window still
// fits in the journey timeout fails the journey with nothing provisioned (a *Failure); a drain
// ends the wait with nothing sent (ErrDraining). A turn held but not used (the provisioning
// failed) is spent.
func (j *Journey) takeOrderTurn(ctx context.Context, r *Run) error {
	lim := j.cfg.Limiter
	if lim == nil {
		return nil
	}
	// The limiter measures real time: the time left on the server's clock is given as a
	// timeout.
	st := r.Record
	left := st.CreatedAt.Add(j.cfg.JourneyTimeout - j.cfg.OrderWindow).Sub(j.now())
	wctx, cancel := context.WithTimeout(ctx, left)
	defer cancel()
	go func() {
		select {
		case <-r.Drain:
			cancel()
		case <-wctx.Done():
		}
	}()
	org := st.Request.OrgID
	err := lim.Wait(wctx, client.Turn{Org: org, Family: client.FamilyOrders, Priority: client.PriorityCreate})
	switch {
	case err == nil:
		r.heldTurn = true
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case r.draining():
		return ErrDraining
	case errors.Is(err, context.DeadlineExceeded):
		return fail(events.StageProvision, events.CodeDeadlineExceeded, true,
			"the orders quota of organization %s has no turn for the order while the order window of %s still fits in the journey timeout of %s; nothing was provisioned or ordered",
			org, j.cfg.OrderWindow, j.cfg.JourneyTimeout)
	}
	return err
}
