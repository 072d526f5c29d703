package atlassiantest

import (
	"time"

	"github.com/jonboulle/clockwork"
)

// Option configures a Server.
type Option func(*config)

type config struct {
	clock           clockwork.Clock
	creds           []credential
	provisionDelay  time.Duration
	orderWindow     time.Duration
	orderProcessing time.Duration
	fixtures        *Fixtures
	faults          map[Endpoint]Fault
	seed            uint64
	publicURL       string
	logLimit        int
	rateLimits      []rateLimitSpec
}

// credential is an API key (key) or site-admin credentials (email, token) the sandbox
// accepts; org, when set, is the one organization they may act on.
type credential struct {
	org, key, email, token string
}

// Defaults of a sandbox's timing, which WithProvisionDelay, WithOrderProcessingDelay and
// WithOrderWindow change.
const (
	DefaultProvisionDelay       = 2 * time.Second
	DefaultOrderProcessingDelay = time.Second
	DefaultOrderWindow          = 10 * time.Minute
)

func defaultConfig() config {
	return config{
		clock:           clockwork.NewRealClock(),
		provisionDelay:  DefaultProvisionDelay,
		orderWindow:     DefaultOrderWindow,
		orderProcessing: DefaultOrderProcessingDelay,
		faults:          map[Endpoint]Fault{},
		seed:            1,
		logLimit:        50_000,
	}
}

// WithClock sets the clock every delay and window is read from; pass a
// clockwork fake clock in tests and advance it instead of sleeping.
func WithClock(c clockwork.Clock) Option {
	return func(cfg *config) {
		if c != nil {
			cfg.clock = c
		}
	}
}

// WithAPIKey sets an API key accepted as "Authorization: Bearer" for every
// organization. Given once or more (or WithOrgAPIKey), it replaces DefaultAPIKey.
func WithAPIKey(key string) Option {
	return func(cfg *config) { cfg.creds = append(cfg.creds, credential{key: key}) }
}

// WithOrgAPIKey sets an organization API key, accepted as "Authorization: Bearer"
// for orgID only: other organizations' paths answer 401, and their entitlements,
// provisioning requests and orders are not found. It replaces DefaultAPIKey, as
// WithAPIKey does.
func WithOrgAPIKey(orgID, key string) Option {
	return func(cfg *config) { cfg.creds = append(cfg.creds, credential{org: orgID, key: key}) }
}

// WithBasicAuth accepts the site-admin credentials email:token as
// "Authorization: Basic", besides the API key, for every organization.
func WithBasicAuth(email, token string) Option {
	return func(cfg *config) { cfg.creds = append(cfg.creds, credential{email: email, token: token}) }
}

// WithOrgBasicAuth accepts the site-admin credentials email:token for orgID only,
// as WithOrgAPIKey does an API key.
func WithOrgBasicAuth(orgID, email, token string) Option {
	return func(cfg *config) { cfg.creds = append(cfg.creds, credential{org: orgID, email: email, token: token}) }
}

// WithProvisionDelay sets how long after the order naming it a provisioning
// request reports COMPLETED (default 2s).
func WithProvisionDelay(d time.Duration) Option {
	return func(cfg *config) { cfg.provisionDelay = max(d, 0) }
}

// WithOrderWindow sets how long a provisioning request waits for its order
// before it reports FAILED and orders naming it are refused (default 10m, as
// the cookbook says).
func WithOrderWindow(d time.Duration) Option {
	return func(cfg *config) {
		if d > 0 {
			cfg.orderWindow = d
		}
	}
}

// WithOrderProcessingDelay sets how long order items stay PROCESSING before
// they reach SUCCESS and their entitlements appear (default 1s).
func WithOrderProcessingDelay(d time.Duration) Option {
	return func(cfg *config) { cfg.orderProcessing = max(d, 0) }
}

// WithFixtures replaces DefaultFixtures as the starting state.
func WithFixtures(f *Fixtures) Option {
	return func(cfg *config) { cfg.fixtures = f }
}

// WithFault sets a fault on an endpoint from the start, as SetFault does later.
func WithFault(e Endpoint, f Fault) Option {
	return func(cfg *config) { cfg.faults[e] = f }
}

// WithSeed seeds the random choices of fault shares, so a run with faults is
// repeatable (default 1).
func WithSeed(seed uint64) Option {
	return func(cfg *config) { cfg.seed = seed }
}

// WithPublicURL sets the base URL written into statusUrl and links, for a
// sandbox reached through a proxy; by default they are built from the
// request's Host.
func WithPublicURL(u string) Option {
	return func(cfg *config) { cfg.publicURL = u }
}

// WithRequestLogLimit keeps only the last n requests in the request log
// (default 50,000), so long benchmarks do not grow without bound; n <= 0
// turns the log off.
func WithRequestLogLimit(n int) Option {
	return func(cfg *config) { cfg.logLimit = n }
}
