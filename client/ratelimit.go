package client

import (
	"context"
	"fmt"
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

// defaultLimits are the documented per-minute limits.
func defaultLimits() map[Family]int {
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

func (f Family) valid() bool {
	_, ok := defaultLimits()[f]
	return ok
}

// newLimiters builds one token bucket per limited family. The bucket refills at
// perMinute/60 per second; the burst is a second's worth, so that a quiet
// client may start a small batch at once while the sustained rate stays at the
// limit.
func newLimiters(limits map[Family]int) map[Family]*rate.Limiter {
	out := make(map[Family]*rate.Limiter, len(limits))
	for f, perMinute := range limits {
		if perMinute <= 0 {
			continue
		}
		burst := max(1, perMinute/60)
		out[f] = rate.NewLimiter(rate.Every(time.Minute/time.Duration(perMinute)), burst)
	}
	return out
}

// waitTurn blocks until the family's limiter lets one more request through. It
// measures real time: the quota it protects is the API's, counted in real time.
// A turn that would come after the context's deadline (read as every wait of a
// call reads it, see untilDeadline) is refused at once.
func (c *Client) waitTurn(ctx context.Context, f Family) error {
	lim := c.limiters[f]
	if lim == nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("atlassian: client-side rate limit of %s: %w", f, err)
	}
	r := lim.Reserve()
	delay := r.Delay()
	if delay == 0 {
		return nil
	}
	if left, ok := c.untilDeadline(ctx); ok && left < delay {
		r.Cancel()
		return fmt.Errorf("atlassian: client-side rate limit of %s: the next turn comes after the deadline: %w", f, context.DeadlineExceeded)
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return fmt.Errorf("atlassian: client-side rate limit of %s: %w", f, context.Cause(ctx))
	}
}
