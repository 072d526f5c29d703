package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
)

// config is the command line, with environment variables as defaults.
type config struct {
	addr           string
	apiKey         string
	email, token   string
	fixtures       string
	publicURL      string
	provisionDelay time.Duration
	orderDelay     time.Duration
	orderWindow    time.Duration
	seed           uint64
	logLimit       int
	printFixtures  bool
	rateLimits     bool
	organizations  bool
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("atlassian-sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&cfg.addr, "addr", env("SANDBOX_ADDR", "127.0.0.1:8081"), "listen address (SANDBOX_ADDR)")
	// Secrets are not flag defaults, so -h never prints them.
	fs.StringVar(&cfg.apiKey, "api-key", "", "API key accepted as Authorization: Bearer (SANDBOX_API_KEY; default "+atlassiantest.DefaultAPIKey+")")
	fs.StringVar(&cfg.email, "email", env("SANDBOX_EMAIL", ""), "site-admin email accepted with -api-token as Authorization: Basic (SANDBOX_EMAIL)")
	fs.StringVar(&cfg.token, "api-token", "", "site-admin API token (SANDBOX_API_TOKEN)")
	fs.StringVar(&cfg.fixtures, "fixtures", env("SANDBOX_FIXTURES", ""), "fixtures JSON file; default: the built-in fixtures (SANDBOX_FIXTURES)")
	fs.StringVar(&cfg.publicURL, "public-url", env("SANDBOX_PUBLIC_URL", ""), "base URL written into statusUrl and links, when reached through a proxy (SANDBOX_PUBLIC_URL)")
	fs.BoolVar(&cfg.printFixtures, "print-fixtures", false, "print the default fixtures as JSON and exit")
	durations := []struct {
		p         *time.Duration
		flag, env string
		def       time.Duration
		usage     string
	}{
		{&cfg.provisionDelay, "provision-delay", "SANDBOX_PROVISION_DELAY", atlassiantest.DefaultProvisionDelay, "provisioning reports COMPLETED this long after its order"},
		{&cfg.orderDelay, "order-delay", "SANDBOX_ORDER_DELAY", atlassiantest.DefaultOrderProcessingDelay, "order items stay PROCESSING this long"},
		{&cfg.orderWindow, "order-window", "SANDBOX_ORDER_WINDOW", atlassiantest.DefaultOrderWindow, "provisioning FAILS if no order arrives within it"},
	}
	raw := make([]string, len(durations))
	for i, d := range durations {
		fs.StringVar(&raw[i], d.flag, env(d.env, d.def.String()), d.usage+" ("+d.env+")")
	}
	var seed, limit, limits string
	fs.BoolVar(&cfg.organizations, "organizations", false, "serve two organizations, each with its own API key, as installer dev does (SANDBOX_ORGANIZATIONS)")
	fs.StringVar(&limits, "rate-limits", env("SANDBOX_RATE_LIMITS", "false"), "answer 429 beyond the documented limits: orders and quotes 600/min, entitlement details 3,000/min (SANDBOX_RATE_LIMITS)")
	fs.StringVar(&seed, "seed", env("SANDBOX_SEED", "1"), "seed of the random fault shares (SANDBOX_SEED)")
	fs.StringVar(&limit, "request-log-limit", env("SANDBOX_REQUEST_LOG_LIMIT", "50000"), "requests kept in the request log; 0 turns it off (SANDBOX_REQUEST_LOG_LIMIT)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["api-key"] {
		cfg.apiKey = env("SANDBOX_API_KEY", atlassiantest.DefaultAPIKey)
	}
	if !set["api-token"] {
		cfg.token = getenv("SANDBOX_API_TOKEN")
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	for i, d := range durations {
		v, err := time.ParseDuration(raw[i])
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%w: -%s (%s): %q is not a duration such as 90s or 10m", errUsage, d.flag, d.env, raw[i])
		}
		*d.p = v
	}
	var err error
	if cfg.rateLimits, err = strconv.ParseBool(limits); err != nil {
		return nil, fmt.Errorf("%w: -rate-limits (SANDBOX_RATE_LIMITS): %q is not true or false", errUsage, limits)
	}
	if orgs := getenv("SANDBOX_ORGANIZATIONS"); orgs != "" && !set["organizations"] {
		if cfg.organizations, err = strconv.ParseBool(orgs); err != nil {
			return nil, fmt.Errorf("%w: -organizations (SANDBOX_ORGANIZATIONS): %q is not true or false", errUsage, orgs)
		}
	}
	if cfg.seed, err = strconv.ParseUint(seed, 10, 64); err != nil {
		return nil, fmt.Errorf("%w: -seed (SANDBOX_SEED): %q is not a non-negative integer", errUsage, seed)
	}
	if cfg.logLimit, err = strconv.Atoi(limit); err != nil {
		return nil, fmt.Errorf("%w: -request-log-limit (SANDBOX_REQUEST_LOG_LIMIT): %q is not an integer", errUsage, limit)
	}
	if cfg.apiKey == "" {
		return nil, fmt.Errorf("%w: -api-key (SANDBOX_API_KEY) must not be empty", errUsage)
	}
	if (cfg.email == "") != (cfg.token == "") {
		return nil, fmt.Errorf("%w: -email (SANDBOX_EMAIL) and -api-token (SANDBOX_API_TOKEN) go together", errUsage)
	}
	return cfg, nil
}

// options turns the configuration into sandbox options, reading the fixtures file.
func (cfg *config) options() ([]atlassiantest.Option, error) {
	var opts []atlassiantest.Option
	if cfg.organizations { // before -fixtures, which replaces its fixtures
		opts = append(opts, atlassiantest.WithOrganizations())
	}
	opts = append(opts,
		atlassiantest.WithAPIKey(cfg.apiKey),
		atlassiantest.WithProvisionDelay(cfg.provisionDelay),
		atlassiantest.WithOrderProcessingDelay(cfg.orderDelay),
		atlassiantest.WithOrderWindow(cfg.orderWindow),
		atlassiantest.WithSeed(cfg.seed),
		atlassiantest.WithRequestLogLimit(cfg.logLimit),
	)
	if cfg.email != "" {
		opts = append(opts, atlassiantest.WithBasicAuth(cfg.email, cfg.token))
	}
	if cfg.rateLimits {
		opts = append(opts, atlassiantest.WithDocumentedRateLimits())
	}
	if cfg.publicURL != "" {
		opts = append(opts, atlassiantest.WithPublicURL(cfg.publicURL))
	}
	if cfg.fixtures != "" {
		f, err := os.Open(cfg.fixtures)
		if err != nil {
			return nil, fmt.Errorf("-fixtures (SANDBOX_FIXTURES): %w", err)
		}
		defer f.Close()
		fx, err := atlassiantest.LoadFixtures(f)
		if err != nil {
			return nil, fmt.Errorf("-fixtures (SANDBOX_FIXTURES) %s: %w", cfg.fixtures, err)
		}
		opts = append(opts, atlassiantest.WithFixtures(fx))
	}
	return opts, nil
}
