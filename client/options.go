package client

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
)

// DefaultBaseURL is the Atlassian API gateway that every reference page calls.
const DefaultBaseURL = "https://api.atlassian.com/"

// Defaults of a new Client.
const (
	DefaultTimeout     = 60 * time.Second
	DefaultMaxAttempts = 5
	// DefaultBackoff is the first wait of the exponential back-off; it doubles
	// per attempt up to DefaultMaxBackoff, jittered by ±50 %.
	DefaultBackoff    = 500 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
)

// Option configures a Client. Options check their input; NewClient returns an
// error wrapping ErrInvalidOption that names the option when one is wrong.
type Option func(*config) error

// config collects the options before NewClient builds the Client from it.
type config struct {
	baseURL    *url.URL
	auth       *credentials
	httpClient *http.Client
	clock      clockwork.Clock
	retry      Retry
	timeout    time.Duration
	limits     map[Family]int
	limiter    Limiter
	userAgent  string
	onRetry    func(RetryEvent)
}

func invalid(option, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidOption, option, fmt.Sprintf(format, args...))
}

// WithBaseURL points the client at another gateway, such as the sandbox
// (ATLASSIAN_API_URL in the contract). A path prefix is kept: endpoint paths
// are resolved below it. The URL must be absolute http(s) without userinfo,
// query or fragment.
func WithBaseURL(u string) Option {
	return func(c *config) error {
		parsed, err := url.Parse(u)
		if err != nil {
			return invalid("WithBaseURL", "not a URL")
		}
		switch {
		case parsed.Scheme != "http" && parsed.Scheme != "https":
			return invalid("WithBaseURL", "scheme must be http or https, not %q", parsed.Scheme)
		case parsed.Host == "":
			return invalid("WithBaseURL", "host is missing")
		case parsed.User != nil:
			return invalid("WithBaseURL", "must not carry userinfo; use WithAPIKey or WithBasicAuth")
		case parsed.RawQuery != "" || parsed.Fragment != "":
			return invalid("WithBaseURL", "must not have a query or fragment")
		}
		if !strings.HasSuffix(parsed.Path, "/") {
			parsed.Path += "/"
			if parsed.RawPath != "" {
				parsed.RawPath += "/"
			}
		}
		c.baseURL = parsed
		return nil
	}
}

// WithAPIKey authenticates with an organization API key, sent as
// "Authorization: Bearer" (install cookbook, "Org-scoped permissions").
func WithAPIKey(key string) Option {
	return func(c *config) error {
		if err := checkCredential("WithAPIKey", "key", key); err != nil {
			return err
		}
		c.auth = bearer(key)
		return nil
	}
}

// WithBasicAuth authenticates as a site admin with email and API token, sent as
// "Authorization: Basic" (install cookbook, "Site-scoped permissions").
func WithBasicAuth(email, token string) Option {
	return func(c *config) error {
		if err := checkBasic("WithBasicAuth", email, token); err != nil {
			return err
		}
		c.auth = basic(email, token)
		return nil
	}
}

// WithCredentials authenticates with cr, as built by APIKey or BasicAuth.
func WithCredentials(cr Credentials) Option {
	return func(c *config) error {
		if cr.c == nil {
			return invalid("WithCredentials", "no credentials")
		}
		c.auth = cr.c
		return nil
	}
}

// checkBasic checks a site admin's email and token for option.
func checkBasic(option, email, token string) error {
	if err := checkCredential(option, "email", email); err != nil {
		return err
	}
	if strings.Contains(email, ":") {
		return invalid(option, "email must not contain ':'")
	}
	return checkCredential(option, "token", token)
}

// checkCredential rejects empty values and header-breaking characters without
// ever echoing the value.
func checkCredential(option, name, v string) error {
	if strings.TrimSpace(v) == "" {
		return invalid(option, "%s is empty", name)
	}
	if strings.ContainsAny(v, "\r\n\x00") {
		return invalid(option, "%s contains a control character", name)
	}
	return nil
}

// WithHTTPClient sends requests through h, e.g. one whose Transport adds
// tracing. The client uses a copy of h whose CheckRedirect refuses every
// redirect, so credentials never follow one; a 3xx answer becomes an
// *ErrorResponse.
func WithHTTPClient(h *http.Client) Option {
	return func(c *config) error {
		if h == nil {
			return invalid("WithHTTPClient", "client is nil")
		}
		c.httpClient = h
		return nil
	}
}

// PooledHTTPClient returns an http.Client over a copy of http.DefaultTransport that keeps up
// to conns idle connections per host, so that conns calls at once reuse their connections:
// with net/http's default of two, most calls of a busy caller open a new connection (and
// against api.atlassian.com, a new TLS handshake). Give it to WithHTTPClient.
func PooledHTTPClient(conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = conns
	return &http.Client{Transport: t}
}

// WithClock sets the clock that retry waits and Retry-After dates use; tests
// pass clockwork.NewFakeClock() and advance it instead of sleeping.
func WithClock(clk clockwork.Clock) Option {
	return func(c *config) error {
		if clk == nil {
			return invalid("WithClock", "clock is nil")
		}
		c.clock = clk
		return nil
	}
}

// WithRetry sets the number of attempts per call (1 turns retries off) and the
// cap of the exponential back-off between them, which starts at DefaultBackoff
// (or at the cap, when it is lower). ContextWithRetry sets them for one call.
func WithRetry(maxAttempts int, maxBackoff time.Duration) Option {
	return func(c *config) error {
		if maxAttempts < 1 {
			return invalid("WithRetry", "maxAttempts must be at least 1, got %d", maxAttempts)
		}
		if maxBackoff <= 0 {
			return invalid("WithRetry", "maxBackoff must be positive, got %s", maxBackoff)
		}
		c.retry = Retry{Attempts: maxAttempts, Backoff: min(DefaultBackoff, maxBackoff), MaxBackoff: maxBackoff}
		return nil
	}
}

// WithRateLimit sets the client-side limit of one API family in requests per
// minute; 0 turns the limit off. The defaults follow the reference: 600/min for
// commerce orders and quotes, 3,000/min for entitlement details.
func WithRateLimit(family Family, perMinute int) Option {
	return func(c *config) error {
		if !family.Valid() {
			return invalid("WithRateLimit", "unknown family %q", string(family))
		}
		if perMinute < 0 {
			return invalid("WithRateLimit", "perMinute must not be negative, got %d", perMinute)
		}
		c.limits[family] = perMinute
		return nil
	}
}

// WithLimiter hands out the turns of the API's rate limits with l instead of the client's own
// token buckets (NewLocalLimiter over the limits of WithRateLimit, which then play no part),
// e.g. a quota shared by several processes.
func WithLimiter(l Limiter) Option {
	return func(c *config) error {
		if l == nil {
			return invalid("WithLimiter", "limiter is nil")
		}
		c.limiter = l
		return nil
	}
}

// WithTimeout bounds a call (retries included) whose context has no deadline.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return invalid("WithTimeout", "must be positive, got %s", d)
		}
		c.timeout = d
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		if ua == "" || strings.ContainsAny(ua, "\r\n") {
			return invalid("WithUserAgent", "must be a non-empty single line")
		}
		c.userAgent = ua
		return nil
	}
}

// WithOnRetry calls f before each wait for a retry, e.g. to count retries and
// 429s; f must return quickly.
func WithOnRetry(f func(RetryEvent)) Option {
	return func(c *config) error {
		if f == nil {
			return invalid("WithOnRetry", "func is nil")
		}
		c.onRetry = f
		return nil
	}
}
