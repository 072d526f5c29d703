package atlassiantest

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/procurement/atlassian-installer/client"
)

// Documented rate limits of the Atlassian APIs, per minute.
const (
	OrdersPerMinute             = 600
	QuotesPerMinute             = 600
	EntitlementDetailsPerMinute = 3000
)

type rateLimitSpec struct {
	perMinute int
	endpoints []Endpoint
}

// WithRateLimit answers 429 with Retry-After when the endpoints together get more than
// perMinute requests a minute from one organization, as the real APIs count them: the
// organization the caller's credentials are limited to, or else the one of the path, or else
// one bucket for callers that name none. The limit is a token bucket with two seconds' worth
// of burst, so a client that limits itself to perMinute is never refused for the jitter of
// the network.
func WithRateLimit(perMinute int, endpoints ...Endpoint) Option {
	return func(cfg *config) {
		if perMinute > 0 && len(endpoints) > 0 {
			cfg.rateLimits = append(cfg.rateLimits, rateLimitSpec{perMinute, endpoints})
		}
	}
}

// familyEndpoints are the endpoints of each documented quota.
var familyEndpoints = map[client.Family][]Endpoint{
	client.FamilyOrders:             {EndpointCreateOrder, EndpointCreateOrderV1, EndpointGetOrder},
	client.FamilyQuotes:             {EndpointGetQuote, EndpointListQuotes, EndpointDownloadQuote},
	client.FamilyEntitlementDetails: {EndpointEntitlementDetails},
}

// WithDocumentedRateLimits enforces the documented limits per organization: orders (create
// and read) 600 a minute, quotes 600, entitlement details 3,000.
func WithDocumentedRateLimits() Option {
	return func(cfg *config) {
		for f, perMinute := range map[client.Family]int{client.FamilyOrders: OrdersPerMinute,
			client.FamilyQuotes: QuotesPerMinute, client.FamilyEntitlementDetails: EntitlementDetailsPerMinute} {
			WithRateLimit(perMinute, familyEndpoints[f]...)(cfg)
		}
	}
}

// quota is one rate limit: a token bucket per organization, and the 429s it answered per
// endpoint.
type quota struct {
	every time.Duration
	burst int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// limits are a sandbox's rate limits.
type limits struct {
	quotas map[Endpoint]*quota
	mu     sync.Mutex
	// refused counts the 429s of the rate limits, per endpoint.
	refused map[Endpoint]int
}

func newLimits(specs []rateLimitSpec) *limits {
	l := &limits{quotas: map[Endpoint]*quota{}, refused: map[Endpoint]int{}}
	for _, sp := range specs {
		q := &quota{every: time.Minute / time.Duration(sp.perMinute), burst: max(2, 2*sp.perMinute/60), buckets: map[string]*rate.Limiter{}}
		for _, e := range sp.endpoints {
			l.quotas[e] = q
		}
	}
	return l
}

// admit takes a token of org's bucket for endpoint e at now, or says how long to wait.
func (s *Server) admit(e Endpoint, org string, now time.Time) (time.Duration, bool) {
	q, ok := s.limits.quotas[e]
	if !ok {
		return 0, true
	}
	q.mu.Lock()
	b := q.buckets[org]
	if b == nil {
		b = rate.NewLimiter(rate.Every(q.every), q.burst)
		q.buckets[org] = b
	}
	r := b.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if d > 0 {
		r.CancelAt(now)
	}
	q.mu.Unlock()
	if d <= 0 {
		return 0, true
	}
	s.limits.mu.Lock()
	s.limits.refused[e]++
	s.limits.mu.Unlock()
	return d, false
}

// RateLimited is how many requests of family f's documented endpoints (orders, quotes,
// entitlement details) the rate limits answered 429, injected faults not counted.
func (s *Server) RateLimited(f client.Family) int {
	s.limits.mu.Lock()
	defer s.limits.mu.Unlock()
	n := 0
	for _, e := range familyEndpoints[f] {
		n += s.limits.refused[e]
	}
	return n
}
