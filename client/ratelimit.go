package client

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Family is a group of endpoints that share one client-side rate limit,
// matching how the reference documents its limits.
type Family string

// API families. Entitlement details and commerce orders and quotes carry
// documented limits; the others are unlimited unless WithRateLimit says so.
const (
	FamilyInstallations      Family = "installations"       // /admin/installations
	FamilyWorkspaces         Family = "workspaces"          // /admin/v2/orgs/{orgId}/workspaces
	FamilyEntitlementDetails Family = "entitlement-details" // /commerce/api/v2/entitlements, 3,000/min
	FamilyOrders             Family = "orders"              // /commerce/api/v{1,2}/orders, 600/min
	FamilyQuotes             Family = "quotes"              // /commerce/api/v{1,2,3}/quotes, 600/min
	FamilyPromotions         Family = "promotions"          // /marketplace/catalog/partners/{partnerId}/promotions
	FamilyCSM                Family = "csm"                 // /jsm/csm/cloudid/{cloudId}/api/v1
)

// DefaultLimits are the documented per-minute limits of the API families, which Atlassian
// counts per organization; a family absent or at 0 is not limited.
func DefaultLimits() map[Family]int {
	return map[Family]int{
		FamilyInstallations:      0,
		FamilyWorkspaces:         0,
		FamilyEntitlementDetails: 3000,
		FamilyOrders:             600,
		FamilyQuotes:             600,
		FamilyPromotions:         0,
		FamilyCSM:                0,
	}
}

// Families lists every API family.
func Families() []Family {
	return []Family{FamilyInstallations, FamilyWorkspaces, FamilyEntitlementDetails, FamilyOrders,
		FamilyQuotes, FamilyPromotions, FamilyCSM}
}

// Valid reports whether f is one of the API families.
func (f Family) Valid() bool {
	_, ok := DefaultLimits()[f]
	return ok
}

// Priority orders the calls of one family that wait for turns of a shared quota.
type Priority int

const (
	// PriorityRead is every call but order creation: reads and status polls use what
	// creation leaves.
	PriorityRead Priority = iota
	// PriorityCreate is order creation (CreateOrder, CreateOrderV1): its turns come first, so
	// that an order follows its provisioning request at once.
	PriorityCreate
)

// String names the priority, for logs and metrics.
func (p Priority) String() string {
	if p == PriorityCreate {
		return "create"
	}
	return "read"
}

// Turn describes one call that asks a Limiter for its turn.
type Turn struct {
	// Org is the organization the call acts for (ContextWithOrganization), "" when unknown:
	// Atlassian counts its quotas per organization.
	Org      string
	Family   Family
	Priority Priority
	// Held: the caller took this call's turn beforehand (ContextWithHeldTurn); the limiter
	// only makes it wait out a pause (see Limiter.Pause).
	Held bool
}

// Limiter hands out the turns of the API's rate limits (WithLimiter). Wait blocks until the
// call may be sent, or returns an error (wrapping context.DeadlineExceeded when the turn
// would come after the context's deadline, which it says at once rather than waiting). An
// implementation that blocks calls Waiting first. Pause is told of every 429 answer that
// named a Retry-After: the family is paused for the organization for d.
type Limiter interface {
	Wait(ctx context.Context, t Turn) error
	Pause(org string, f Family, d time.Duration)
}

// LocalLimiter is the default Limiter of a Client: a token bucket per limited family, in this
// process only, whatever the organization. Each refills at perMinute/60 per second with a
// burst of a second's worth, so that a quiet client may start a small batch at once while the
// sustained rate stays at the limit. It ignores pauses: each call waits out its own
// Retry-After.
type LocalLimiter struct {
	buckets map[Family]*rate.Limiter
}

// NewLocalLimiter returns a LocalLimiter for per-minute limits; a family absent or at 0 is not
// limited.
func NewLocalLimiter(limits map[Family]int) *LocalLimiter {
	l := &LocalLimiter{buckets: map[Family]*rate.Limiter{}}
	for f, perMinute := range limits {
		if perMinute <= 0 {
			continue
		}
		burst := max(1, perMinute/60)
		l.buckets[f] = rate.NewLimiter(rate.Every(time.Minute/time.Duration(perMinute)), burst)
	}
	return l
}

// Wait takes a token of t's family, waiting for it on the real clock: the quota it protects is
// the API's, counted in real time. A turn that would come after the context's deadline is
// refused at once. A held turn takes no token.
func (l *LocalLimiter) Wait(ctx context.Context, t Turn) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := l.buckets[t.Family]
	if b == nil || t.Held {
		return nil
	}
	r := b.Reserve()
	delay := r.Delay()
	if delay <= 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < delay {
		r.Cancel()
		return fmt.Errorf("the next turn comes after the deadline: %w", context.DeadlineExceeded)
	}
	defer Waiting(ctx)()
	tm := time.NewTimer(delay)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return context.Cause(ctx)
	}
}

// Pause does nothing: a LocalLimiter leaves each call to wait out its own Retry-After.
func (l *LocalLimiter) Pause(string, Family, time.Duration) {}

// waitTurn waits for the turn of one attempt of r. Only the first attempt of a call made
// with a held turn of its family uses it; every retry waits for a turn of its own.
func (c *Client) waitTurn(ctx context.Context, r *request, attempt int) error {
	t := Turn{Org: OrganizationFrom(ctx), Family: r.family, Priority: r.priority}
	t.Held = attempt == 1 && takeHeld(ctx, r.family)
	if err := c.limiter.Wait(&clientDeadline{Context: ctx, c: c}, t); err != nil {
		return fmt.Errorf("atlassian: client-side rate limit of %s: %w", r.family, err)
	}
	return nil
}

// clientDeadline shows a limiter the call's deadline as the client reads it (untilDeadline),
// on the real clock: a deadline set on the client's fake clock in tests then counts as near
// only when it is near on that clock.
type clientDeadline struct {
	context.Context
	c *Client
}

func (d *clientDeadline) Deadline() (time.Time, bool) {
	left, ok := d.c.untilDeadline(d.Context)
	if !ok {
		return time.Time{}, false
	}
	return time.Now().Add(left), true
}

type orgKey struct{}

// ContextWithOrganization returns a context whose calls act for organization org, as its
// Limiter sees them (Turn.Org): Atlassian counts quotas per organization.
func ContextWithOrganization(ctx context.Context, org string) context.Context {
	return context.WithValue(ctx, orgKey{}, org)
}

// OrganizationFrom is the organization of ContextWithOrganization, or "".
func OrganizationFrom(ctx context.Context) string {
	org, _ := ctx.Value(orgKey{}).(string)
	return org
}

type heldKey struct{}

type heldTurn struct {
	family Family
	used   atomic.Bool
}

// ContextWithHeldTurn returns a context whose first call of family f does not wait for a turn
// of the Limiter, except for a pause: the caller took one beforehand (Limiter.Wait). The turn
// serves one attempt of one call; retries wait for turns of their own.
func ContextWithHeldTurn(ctx context.Context, f Family) context.Context {
	return context.WithValue(ctx, heldKey{}, &heldTurn{family: f})
}

func takeHeld(ctx context.Context, f Family) bool {
	h, ok := ctx.Value(heldKey{}).(*heldTurn)
	return ok && h.family == f && h.used.CompareAndSwap(false, true)
}

type waitHookKey struct{}

type waitHook struct{ release, acquire func() }

// ContextWithWaitHook returns a context whose calls, when their Limiter makes them wait for a
// turn, call release before the wait and acquire after it, whatever ended it: a caller gives a
// concurrency slot back while its call waits for quota, and takes one again before the call
// goes on.
func ContextWithWaitHook(ctx context.Context, release, acquire func()) context.Context {
	return context.WithValue(ctx, waitHookKey{}, &waitHook{release: release, acquire: acquire})
}

// Waiting is for Limiter implementations: call it before blocking for a turn, and the func it
// returns once the wait is over, whatever ended it. Without a hook (ContextWithWaitHook) it
// does nothing.
func Waiting(ctx context.Context) (done func()) {
	h, ok := ctx.Value(waitHookKey{}).(*waitHook)
	if !ok {
		return func() {}
	}
	h.release()
	return h.acquire
}
