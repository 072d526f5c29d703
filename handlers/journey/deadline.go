package journey

import (
	"context"
	"errors"
	"time"

	"github.com/jonboulle/clockwork"
)

// withDeadline returns a context that ends when the clock reaches t, so that
// a deadline follows an injected clock as every wait does. (clockwork.WithDeadline does
// the same for a fake clock, but its Err blocks until the context ends and its timer
// stays on the clock after cancel.)
func withDeadline(ctx context.Context, clock clockwork.Clock, t time.Time) (context.Context, context.CancelFunc) {
	inner, cancel := context.WithCancelCause(ctx)
	left := t.Sub(clock.Now())
	if left <= 0 {
		cancel(context.DeadlineExceeded)
		return clockDeadline{Context: inner, at: t}, func() {}
	}
	timer := clock.AfterFunc(left, func() { cancel(context.DeadlineExceeded) })
	return clockDeadline{Context: inner, at: t}, func() {
		timer.Stop()
		cancel(context.Canceled)
	}
}

// clockDeadline carries a deadline read on the installer's clock.
type clockDeadline struct {
	context.Context
	at time.Time
}

func (c clockDeadline) Deadline() (time.Time, bool) { return c.at, true }

// Err reports context.DeadlineExceeded once the deadline has passed, as a context of the
// standard library does.
func (c clockDeadline) Err() error {
	err := c.Context.Err()
	if errors.Is(err, context.Canceled) && context.Cause(c.Context) == context.DeadlineExceeded {
		return context.DeadlineExceeded
	}
	return err
}
