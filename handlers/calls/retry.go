package calls

import (
	"cmp"
	"fmt"
	"time"

	"github.com/procurement/atlassian-installer/client"
)

// DefaultOrderCallTimeout bounds one order call unless OrderRetry.CallTimeout says otherwise.
const DefaultOrderCallTimeout = time.Minute

// MaxOrderCallTimeout is the longest order call: Atlassian's order window, after which no
// order may be sent.
const MaxOrderCallTimeout = 10 * time.Minute

// OrderRetry is the order's retry policy: every bound and wait that decides when an order is
// sent again or read again. Whatever it says, the order is only ever sent again with its
// orderId (which makes the POST idempotent: the client repeats it after a 5xx or a dropped
// connection, as it repeats reads), and never after the order window's send-by time.
type OrderRetry struct {
	// CallTimeout bounds one order call, the POST or a read of the order, its attempts and
	// back-off included. The send-by time cuts the POST sooner. A POST cut at either is
	// followed by a read of the order. A drain waits for a POST under way up to it.
	CallTimeout time.Duration
	// Attempts, Backoff and MaxBackoff are the client's retry within one order call
	// (client.Retry): attempts in all (1: no retry within a call), and the back-off between
	// them, starting at Backoff and doubling up to MaxBackoff, jittered by ±50 %. A
	// Retry-After of the API replaces the back-off's wait.
	Attempts            int
	Backoff, MaxBackoff time.Duration
	// Wait is how long the journey waits, after an order call that failed, before it sends
	// the order again or reads it again (no sooner than a Retry-After). Once the order may no
	// longer be sent, reads back off from Wait, doubling up to MaxWait. A delivery handed back
	// after a NATS outage or a fault comes again after the same back-off, by its count of
	// deliveries.
	Wait, MaxWait time.Duration
}

// WithDefaults fills the zero fields: the client's DefaultRetry, DefaultOrderCallTimeout,
// and for the waits, the first and longest interval of status polling.
func (r OrderRetry) WithDefaults(pollInterval, maxPollInterval time.Duration) OrderRetry {
	r.CallTimeout = cmp.Or(r.CallTimeout, DefaultOrderCallTimeout)
	r.Attempts = cmp.Or(r.Attempts, client.DefaultRetry.Attempts)
	r.Backoff = cmp.Or(r.Backoff, min(client.DefaultRetry.Backoff, cmp.Or(r.MaxBackoff, client.DefaultRetry.Backoff)))
	r.MaxBackoff = cmp.Or(r.MaxBackoff, max(client.DefaultRetry.MaxBackoff, r.Backoff))
	r.Wait = cmp.Or(r.Wait, pollInterval)
	r.MaxWait = cmp.Or(r.MaxWait, max(maxPollInterval, r.Wait))
	return r
}

// Check reports the first field out of range, by name (OrderRetry.Attempts…).
func (r OrderRetry) Check() error {
	switch {
	case r.CallTimeout <= 0 || r.CallTimeout > MaxOrderCallTimeout:
		return fmt.Errorf("OrderRetry.CallTimeout must be positive and at most %s, not %s", MaxOrderCallTimeout, r.CallTimeout)
	case r.Attempts < 1:
		return fmt.Errorf("OrderRetry.Attempts must be at least 1, not %d", r.Attempts)
	case r.Backoff <= 0:
		return fmt.Errorf("OrderRetry.Backoff must be positive, not %s", r.Backoff)
	case r.MaxBackoff < r.Backoff:
		return fmt.Errorf("OrderRetry.MaxBackoff (%s) must not be below OrderRetry.Backoff (%s)", r.MaxBackoff, r.Backoff)
	case r.Wait <= 0:
		return fmt.Errorf("OrderRetry.Wait must be positive, not %s", r.Wait)
	case r.MaxWait < r.Wait:
		return fmt.Errorf("OrderRetry.MaxWait (%s) must not be below OrderRetry.Wait (%s)", r.MaxWait, r.Wait)
	}
	return nil
}

// Call is the client's retry within one order call (client.ContextWithRetry).
func (r OrderRetry) Call() client.Retry {
	return client.Retry{Attempts: r.Attempts, Backoff: r.Backoff, MaxBackoff: r.MaxBackoff}
}

// BackoffAfter is the wait after the nth failure in a row (from 1): Wait, doubling up to
// MaxWait.
func (r OrderRetry) BackoffAfter(n uint64) time.Duration {
	d := r.Wait
	for i := uint64(1); i < n && d < r.MaxWait; i++ {
		d *= 2
	}
	return min(d, r.MaxWait)
}
