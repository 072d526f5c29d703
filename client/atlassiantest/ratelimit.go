package atlassiantest

import (
	"time"

	"golang.org/x/time/rate"
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

// WithRateLimit answers 429 with Retry-After when the endpoints together get
// more than perMinute requests a minute, as the real APIs do. The limit is a
// token bucket with two seconds' worth of burst, so a client that limits
// itself to perMinute is never refused for the jitter of the network.
func WithRateLimit(perMinute int, endpoints ...Endpoint) Option {
	return func(cfg *config) {
		if perMinute > 0 && len(endpoints) > 0 {
			cfg.rateLimits = append(cfg.rateLimits, rateLimitSpec{perMinute, endpoints})
		}
	}
}

// WithDocumentedRateLimits enforces the documented limits: orders (create
// and read) 600 a minute, quotes 600, entitlement details 3,000.
func WithDocumentedRateLimits() Option {
	return func(cfg *config) {
		for _, o := range []Option{
			WithRateLimit(OrdersPerMinute, EndpointCreateOrder, EndpointCreateOrderV1, EndpointGetOrder),
			WithRateLimit(QuotesPerMinute, EndpointGetQuote, EndpointListQuotes, EndpointDownloadQuote),
			WithRateLimit(EntitlementDetailsPerMinute, EndpointEntitlementDetails),
		} {
			o(cfg)
		}
	}
}

func newLimiters(specs []rateLimitSpec) map[Endpoint]*rate.Limiter {
	out := map[Endpoint]*rate.Limiter{}
	for _, sp := range specs {
		l := rate.NewLimiter(rate.Every(time.Minute/time.Duration(sp.perMinute)), max(2, 2*sp.perMinute/60))
		for _, e := range sp.endpoints {
			out[e] = l
		}
	}
	return out
}

// admit takes a token for endpoint e at now, or says how long to wait.
func (s *Server) admit(e Endpoint, now time.Time) (time.Duration, bool) {
	l, ok := s.limiters[e]
	if !ok {
		return 0, true
	}
	r := l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}
