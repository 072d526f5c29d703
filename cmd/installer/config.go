package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/calls"
	"github.com/procurement/atlassian-installer/internal/credfile"
	"github.com/procurement/atlassian-installer/internal/natsconn"
	"github.com/procurement/atlassian-installer/internal/redact"
)

// Config is the installer's configuration: the contract's environment variables, with
// command-line flags that mirror them (a flag wins over its variable).
type Config struct {
	// NATSURLs are the servers to connect to; empty means: start the embedded server.
	NATSURLs  []string
	NATSCreds string
	// NATSNKey is an nkey seed file; NATSCA, NATSCert and NATSKey are PEM files: the CA that
	// verifies the servers, the client certificate and its key (mutual TLS).
	NATSNKey, NATSCA, NATSCert, NATSKey string
	// NATSInboxPrefix replaces _INBOX in reply subjects.
	NATSInboxPrefix string
	// NATSContext names a nats CLI context (or its file), whose settings the variables above
	// override; natsContext is what it holds.
	NATSContext     string
	natsContext     natsconn.Settings
	natsContextFile string
	// NATSListen is where the embedded server listens ("127.0.0.1:4222"; port -1 picks one).
	NATSListen string
	DataDir    string

	APIURL   string
	APIKey   Secret
	Email    string
	APIToken Secret
	// CredentialsFile names the credentials of each organization (ATLASSIAN_CREDENTIALS_FILE).
	CredentialsFile string

	SubjectPrefix   string
	Source          string
	Replicas        int
	Concurrency     int
	OrderWindow     time.Duration
	PollInterval    time.Duration
	MaxPollInterval time.Duration
	JourneyTimeout  time.Duration
	DrainTimeout    time.Duration
	// EventsMaxAge and DeadLetterMaxAge are the max ages of the streams the installer creates;
	// JourneyRetention keeps a finished journey's state, DuplicateHorizon its compact record.
	EventsMaxAge, DeadLetterMaxAge     time.Duration
	JourneyRetention, DuplicateHorizon time.Duration
	// RateLimits are the per-minute quotas of the Atlassian API families, shared by every
	// instance on the same NATS (INSTALLER_API_RATE_LIMITS); a family at 0 is not limited.
	RateLimits map[client.Family]int
	// AckWait is the request consumer's ack wait: how long a message held by a process that
	// died stays undelivered, and (twice it) the lease of a step cut short.
	AckWait time.Duration
	// OrderRetry is the order's retry policy (INSTALLER_ORDER_CALL_TIMEOUT and
	// INSTALLER_ORDER_RETRY_*); its waits follow the polling intervals unless set.
	OrderRetry calls.OrderRetry

	HTTPAddr  string
	LogLevel  slog.Level
	LogFormat string // "auto", "json" or "text"
}

// defaultConfig holds the contract's defaults, those of the packages it configures.
func defaultConfig() Config {
	return Config{
		NATSListen:       "127.0.0.1:4222",
		DataDir:          "./data",
		APIURL:           "https://api.atlassian.com",
		SubjectPrefix:    events.DefaultSubjectPrefix,
		Source:           events.DefaultSource,
		Replicas:         1,
		Concurrency:      handlers.DefaultConcurrency,
		OrderWindow:      handlers.DefaultOrderWindow,
		PollInterval:     handlers.DefaultPollInterval,
		MaxPollInterval:  handlers.DefaultMaxPollInterval,
		JourneyTimeout:   handlers.DefaultJourneyTimeout,
		DrainTimeout:     handlers.DefaultDrainTimeout,
		AckWait:          handlers.DefaultAckWait,
		OrderRetry:       calls.OrderRetry{}.WithDefaults(handlers.DefaultPollInterval, handlers.DefaultMaxPollInterval),
		EventsMaxAge:     events.DefaultRetention.Events,
		DeadLetterMaxAge: events.DefaultRetention.DeadLetter,
		JourneyRetention: handlers.DefaultJourneyRetention,
		DuplicateHorizon: handlers.DefaultDuplicateHorizon,
		RateLimits:       client.DefaultLimits(),
		HTTPAddr:         "127.0.0.1:8080",
		LogLevel:         slog.LevelInfo,
		LogFormat:        "auto",
	}
}

// setting ties one environment variable to its flag and its parser. Secrets have no flag:
// a command line is visible to every user of the machine (ps, /proc), the environment is not.
type setting struct {
	env, flag, usage string
	set              func(c *Config, v string) error
}

var settings = []setting{
	{"NATS_URL", "nats-url", "NATS server URLs, comma-separated; unset: start the embedded server", setNATSURLs},
	{"NATS_CREDS", "nats-creds", "NATS credentials file (JWT + NKey)", file(func(c *Config) *string { return &c.NATSCreds })},
	{"NATS_NKEY", "nats-nkey", "NATS nkey seed file", file(func(c *Config) *string { return &c.NATSNKey })},
	{"NATS_CA", "nats-ca", "CA certificates (PEM) that verify the NATS servers", file(func(c *Config) *string { return &c.NATSCA })},
	{"NATS_CERT", "nats-cert", "client certificate (PEM) for NATS servers that verify clients (mutual TLS), with NATS_KEY", file(func(c *Config) *string { return &c.NATSCert })},
	{"NATS_KEY", "nats-key", "private key (PEM) of NATS_CERT", file(func(c *Config) *string { return &c.NATSKey })},
	{"NATS_INBOX_PREFIX", "nats-inbox-prefix", "prefix of reply subjects instead of _INBOX, as the server grants this user", nonEmpty(func(c *Config) *string { return &c.NATSInboxPrefix })},
	{"NATS_CONTEXT", "nats-context", "nats CLI context (name or file) to connect with; the NATS_* variables override its settings", nonEmpty(func(c *Config) *string { return &c.NATSContext })},
	{"INSTALLER_NATS_LISTEN", "nats-listen", "listen address of the embedded NATS server", hostPort(func(c *Config) *string { return &c.NATSListen })},
	{"INSTALLER_DATA_DIR", "data-dir", "store of the embedded NATS server", nonEmpty(func(c *Config) *string { return &c.DataDir })},
	{"ATLASSIAN_API_URL", "atlassian-api-url", "base URL of every Atlassian API call", setAPIURL},
	{"ATLASSIAN_API_KEY", "", "organization API key (environment only)", func(c *Config, v string) error { c.APIKey = Secret(v); return nil }},
	{"ATLASSIAN_EMAIL", "atlassian-email", "site-admin email, with ATLASSIAN_API_TOKEN", func(c *Config, v string) error { c.Email = v; return nil }},
	{"ATLASSIAN_API_TOKEN", "", "site-admin API token (environment only)", func(c *Config, v string) error { c.APIToken = Secret(v); return nil }},
	{"ATLASSIAN_CREDENTIALS_FILE", "atlassian-credentials-file", "JSON file of credentials per organization, reloaded when it changes", setCredentialsFile},
	{"INSTALLER_SUBJECT_PREFIX", "subject-prefix", "first token of every subject", setPrefix},
	{"INSTALLER_SOURCE", "source", "source of every published event", setSource},
	{"INSTALLER_STREAM_REPLICAS", "stream-replicas", "replicas of the streams and KV buckets (1 to 5)", intIn(1, 5, func(c *Config) *int { return &c.Replicas })},
	{"INSTALLER_CONCURRENCY", "concurrency", "journey steps worked on at once", intIn(1, 1<<20, func(c *Config) *int { return &c.Concurrency })},
	{"INSTALLER_ORDER_WINDOW", "order-window", "time allowed between the provisioning request and the order (at most 10m)", durationIn(time.Nanosecond, handlers.MaxOrderWindow, func(c *Config) *time.Duration { return &c.OrderWindow })},
	{"INSTALLER_POLL_INTERVAL", "poll-interval", "first interval of status polling", positiveDuration(func(c *Config) *time.Duration { return &c.PollInterval })},
	{"INSTALLER_MAX_POLL_INTERVAL", "max-poll-interval", "longest interval of status polling (the back-off's cap)", positiveDuration(func(c *Config) *time.Duration { return &c.MaxPollInterval })},
	{"INSTALLER_ORDER_CALL_TIMEOUT", "order-call-timeout", "bound of one order call, the POST or a read, its attempts included; a POST cut then is followed by a read of the order (at most 10m)", durationIn(time.Nanosecond, calls.MaxOrderCallTimeout, func(c *Config) *time.Duration { return &c.OrderRetry.CallTimeout })},
	{"INSTALLER_ORDER_RETRY_ATTEMPTS", "order-retry-attempts", "attempts within one order call (1: none repeated within the call)", intIn(1, 100, func(c *Config) *int { return &c.OrderRetry.Attempts })},
	{"INSTALLER_ORDER_RETRY_BACKOFF", "order-retry-backoff", "first wait between the attempts of an order call (it doubles, jittered by ±50 %)", positiveDuration(func(c *Config) *time.Duration { return &c.OrderRetry.Backoff })},
	{"INSTALLER_ORDER_RETRY_MAX_BACKOFF", "order-retry-max-backoff", "longest wait between the attempts of an order call", positiveDuration(func(c *Config) *time.Duration { return &c.OrderRetry.MaxBackoff })},
	{"INSTALLER_ORDER_RETRY_WAIT", "order-retry-wait", "wait before an order whose call failed is sent or read again; unset: the poll interval", positiveDuration(func(c *Config) *time.Duration { return &c.OrderRetry.Wait })},
	{"INSTALLER_ORDER_RETRY_MAX_WAIT", "order-retry-max-wait", "longest wait between reads of an order past its send-by time, and between redeliveries; unset: the max poll interval", positiveDuration(func(c *Config) *time.Duration { return &c.OrderRetry.MaxWait })},
	{"INSTALLER_JOURNEY_TIMEOUT", "journey-timeout", "a journey not finished by then fails with deadline_exceeded", positiveDuration(func(c *Config) *time.Duration { return &c.JourneyTimeout })},
	{"INSTALLER_DRAIN_TIMEOUT", "drain-timeout", "longest graceful drain on SIGTERM/SIGINT", positiveDuration(func(c *Config) *time.Duration { return &c.DrainTimeout })},
	{"INSTALLER_ACK_WAIT", "ack-wait", "ack wait of the request consumer: a crashed process's journeys resume after it (at least 1s)", durationAtLeast(time.Second, func(c *Config) *time.Duration { return &c.AckWait })},
	{"INSTALLER_EVENTS_MAX_AGE", "events-max-age", "how long a new INSTALL_EVENTS stream keeps outcomes", durationAtLeast(time.Second, func(c *Config) *time.Duration { return &c.EventsMaxAge })},
	{"INSTALLER_DEADLETTER_MAX_AGE", "deadletter-max-age", "how long a new INSTALL_DEADLETTER stream keeps dead letters", durationAtLeast(time.Second, func(c *Config) *time.Duration { return &c.DeadLetterMaxAge })},
	{"INSTALLER_JOURNEY_RETENTION", "journey-retention", "how long a finished journey's state is kept once its outcome is published", durationAtLeast(time.Second, func(c *Config) *time.Duration { return &c.JourneyRetention })},
	{"INSTALLER_DUPLICATE_HORIZON", "duplicate-horizon", "how long a finished journey's compact record is kept: until then its request id never orders again", durationAtLeast(time.Second, func(c *Config) *time.Duration { return &c.DuplicateHorizon })},
	{"INSTALLER_API_RATE_LIMITS", "api-rate-limits", "per-minute quotas of the API families shared by every instance (orders=600,quotes=600,entitlement-details=3000), or off", setRateLimits},
	{"INSTALLER_HTTP_ADDR", "http-addr", "address of /healthz, /readyz and /metrics", hostPort(func(c *Config) *string { return &c.HTTPAddr })},
	{"INSTALLER_LOG_LEVEL", "log-level", "debug, info, warn or error", setLogLevel},
	{"INSTALLER_LOG_FORMAT", "log-format", "auto (text on a terminal, else JSON), json or text", setLogFormat},
}

// parseConfig reads the environment, then the flags in args, over the defaults in c. It returns
// the arguments left after the flags. Every error names the variable it is about; fs may carry
// flags of the subcommand besides the settings.
func parseConfig(fs *flag.FlagSet, c Config, args []string, getenv func(string) string) (Config, []string, error) {
	c, rest, err := parseSettings(fs, c, args, getenv)
	if err != nil {
		return c, nil, err
	}
	if c.NATSContext != "" {
		if c, err = withContext(c, getenv); err != nil {
			return c, nil, err
		}
	}
	if err := c.check(); err != nil {
		return c, nil, err
	}
	return c, rest, nil
}

// parseSettings reads every setting from the environment and the flags.
func parseSettings(fs *flag.FlagSet, c Config, args []string, getenv func(string) string) (Config, []string, error) {
	for _, s := range settings {
		v := getenv(s.env)
		if v == "" {
			continue
		}
		if err := s.set(&c, v); err != nil {
			return c, nil, fmt.Errorf("%s: %w", s.env, err)
		}
	}
	// -h shows each flag's value before the flags, i.e. the default or the variable's.
	current := map[string]string{}
	for _, a := range c.LogValue().Group() {
		if v := a.Value.Resolve().String(); v != "" && v != "[]" {
			current[strings.ReplaceAll(a.Key, "_", "-")] = v
		}
	}
	for _, s := range settings {
		if s.flag == "" {
			continue
		}
		usage := s.usage + " (env " + s.env
		if v, ok := current[s.flag]; ok {
			usage += ", now " + v
		}
		fs.Func(s.flag, usage+")", func(v string) error {
			if err := s.set(&c, v); err != nil {
				return fmt.Errorf("%s: %w", s.env, err)
			}
			return nil
		})
	}
	// Flags may follow a stray argument too (serve extra --concurrency 8): the caller then
	// refuses the argument by name, rather than the flag parser stopping at it.
	var positional []string
	// The caller reports errors once; the flag package would print them too.
	out := fs.Output()
	fs.SetOutput(io.Discard)
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(out)
				fmt.Fprintf(out, "Usage of %s:\n", fs.Name())
				fs.PrintDefaults()
			}
			return c, nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional, args = append(positional, args[0]), args[1:]
	}
	// The back-off's cap follows a first interval set above it, unless the cap was set too:
	// INSTALLER_POLL_INTERVAL alone may take any duration.
	if c.MaxPollInterval < c.PollInterval && !given(fs, getenv, "INSTALLER_MAX_POLL_INTERVAL", "max-poll-interval") {
		c.MaxPollInterval = c.PollInterval
	}
	// The order's retry fills what was not set as calls.OrderRetry.WithDefaults does: its
	// waits follow the polling intervals, and a back-off's cap follows a start set above it.
	for _, f := range []struct {
		env, flag string
		field     *time.Duration
	}{
		{"INSTALLER_ORDER_RETRY_BACKOFF", "order-retry-backoff", &c.OrderRetry.Backoff},
		{"INSTALLER_ORDER_RETRY_MAX_BACKOFF", "order-retry-max-backoff", &c.OrderRetry.MaxBackoff},
		{"INSTALLER_ORDER_RETRY_WAIT", "order-retry-wait", &c.OrderRetry.Wait},
		{"INSTALLER_ORDER_RETRY_MAX_WAIT", "order-retry-max-wait", &c.OrderRetry.MaxWait},
	} {
		if !given(fs, getenv, f.env, f.flag) {
			*f.field = 0
		}
	}
	c.OrderRetry = c.OrderRetry.WithDefaults(c.PollInterval, c.MaxPollInterval)
	return c, positional, nil
}

// withContext reads the nats CLI context NATS_CONTEXT names. Its URL is used when NATS_URL is
// unset; its other settings, where the NATS_* variables leave them unset (see NATS).
func withContext(c Config, getenv func(string) string) (Config, error) {
	s, path, err := natsconn.LoadContext(c.NATSContext, getenv)
	if err == nil && len(c.NATSURLs) == 0 {
		if err = setNATSURLs(&c, s.URL); err != nil {
			err = fmt.Errorf("url: %w", err)
		}
	}
	if err != nil {
		if path != "" {
			return c, fmt.Errorf("NATS_CONTEXT: %s: %w", path, err)
		}
		return c, fmt.Errorf("NATS_CONTEXT: %w", err)
	}
	c.natsContext, c.natsContextFile = s, path
	return c, nil
}

// explicitNATS are the connection settings the NATS_* variables give.
func (c Config) explicitNATS() natsconn.Settings {
	return natsconn.Settings{
		URL: strings.Join(c.NATSURLs, ","), Creds: c.NATSCreds, NKey: c.NATSNKey,
		CA: c.NATSCA, Cert: c.NATSCert, Key: c.NATSKey, InboxPrefix: c.NATSInboxPrefix,
	}
}

// NATS is how to connect to the servers of NATS_URL: the NATS_* variables over the context
// of NATS_CONTEXT.
func (c Config) NATS() natsconn.Settings { return c.explicitNATS().Over(c.natsContext) }

// natsVariables name the variable of each connection setting, for errors.
var natsVariables = map[string]string{
	"creds": "NATS_CREDS", "nkey": "NATS_NKEY", "ca": "NATS_CA", "cert": "NATS_CERT", "key": "NATS_KEY",
	"inbox_prefix": "NATS_INBOX_PREFIX",
}

// given reports whether a setting was set by its variable or its flag.
func given(fs *flag.FlagSet, getenv func(string) string, env, name string) bool {
	set := getenv(env) != ""
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// check validates what spans several variables.
func (c Config) check() error {
	explicit := c.explicitNATS()
	if _, err := explicit.Options(); err != nil {
		var fe *natsconn.Error
		if errors.As(err, &fe) && natsVariables[fe.Field] != "" {
			return fmt.Errorf("%s: %w", natsVariables[fe.Field], fe.Err)
		}
		return fmt.Errorf("NATS: %w", err)
	}
	if c.Embedded() {
		for _, v := range []struct{ name, value string }{
			{"NATS_CREDS", c.NATSCreds}, {"NATS_NKEY", c.NATSNKey}, {"NATS_CA", c.NATSCA},
			{"NATS_CERT", c.NATSCert}, {"NATS_KEY", c.NATSKey}, {"NATS_INBOX_PREFIX", c.NATSInboxPrefix},
		} {
			if v.value != "" {
				return fmt.Errorf("%s: only for the servers of NATS_URL or NATS_CONTEXT; neither is set, so the installer runs its embedded server", v.name)
			}
		}
	}
	// The variables' settings are sound, so what fails comes from the context.
	if _, err := c.NATS().Options(); err != nil {
		return fmt.Errorf("NATS_CONTEXT: %s: %w", c.natsContextFile, err)
	}
	switch {
	case c.Email != "" && !c.APIToken.IsSet():
		return errors.New("ATLASSIAN_API_TOKEN: required when ATLASSIAN_EMAIL is set")
	case c.APIToken.IsSet() && c.Email == "":
		return errors.New("ATLASSIAN_EMAIL: required when ATLASSIAN_API_TOKEN is set")
	case c.DuplicateHorizon < c.JourneyRetention:
		return fmt.Errorf("INSTALLER_DUPLICATE_HORIZON: %s is shorter than INSTALLER_JOURNEY_RETENTION (%s)", c.DuplicateHorizon, c.JourneyRetention)
	case c.MaxPollInterval < c.PollInterval:
		return fmt.Errorf("INSTALLER_MAX_POLL_INTERVAL: %s is shorter than INSTALLER_POLL_INTERVAL (%s)", c.MaxPollInterval, c.PollInterval)
	case c.OrderRetry.MaxBackoff < c.OrderRetry.Backoff:
		return fmt.Errorf("INSTALLER_ORDER_RETRY_MAX_BACKOFF: %s is shorter than INSTALLER_ORDER_RETRY_BACKOFF (%s)", c.OrderRetry.MaxBackoff, c.OrderRetry.Backoff)
	case c.OrderRetry.MaxWait < c.OrderRetry.Wait:
		return fmt.Errorf("INSTALLER_ORDER_RETRY_MAX_WAIT: %s is shorter than INSTALLER_ORDER_RETRY_WAIT (%s, unset: INSTALLER_POLL_INTERVAL)", c.OrderRetry.MaxWait, c.OrderRetry.Wait)
	case c.JourneyTimeout <= c.OrderWindow:
		return fmt.Errorf("INSTALLER_JOURNEY_TIMEOUT: %s is not longer than INSTALLER_ORDER_WINDOW (%s): no journey could begin provisioning", c.JourneyTimeout, c.OrderWindow)
	}
	return nil
}

// Embedded reports whether the installer runs its own NATS server.
func (c Config) Embedded() bool { return len(c.NATSURLs) == 0 }

// LogValue is the configuration as logged at start-up: secrets show only whether they are set,
// and URLs lose any password.
func (c Config) LogValue() slog.Value {
	urls := make([]string, len(c.NATSURLs))
	for i, u := range c.NATSURLs {
		urls[i] = redact.URL(u)
	}
	return slog.GroupValue(
		slog.Any("nats_url", urls),
		slog.String("nats_creds", c.NATSCreds),
		slog.String("nats_nkey", c.NATSNKey),
		slog.String("nats_ca", c.NATSCA),
		slog.String("nats_cert", c.NATSCert),
		slog.String("nats_key", c.NATSKey),
		slog.String("nats_inbox_prefix", c.NATSInboxPrefix),
		slog.String("nats_context", c.NATSContext),
		slog.String("nats_listen", c.NATSListen),
		slog.String("data_dir", c.DataDir),
		slog.String("atlassian_api_url", redact.URL(c.APIURL)),
		slog.Any("atlassian_api_key", c.APIKey),
		slog.String("atlassian_email", c.Email),
		slog.Any("atlassian_api_token", c.APIToken),
		slog.String("atlassian_credentials_file", c.CredentialsFile),
		slog.String("subject_prefix", c.SubjectPrefix),
		slog.String("source", c.Source),
		slog.Int("stream_replicas", c.Replicas),
		slog.Int("concurrency", c.Concurrency),
		slog.String("order_window", c.OrderWindow.String()),
		slog.String("poll_interval", c.PollInterval.String()),
		slog.String("max_poll_interval", c.MaxPollInterval.String()),
		slog.String("journey_timeout", c.JourneyTimeout.String()),
		slog.String("drain_timeout", c.DrainTimeout.String()),
		slog.String("ack_wait", c.AckWait.String()),
		slog.String("order_call_timeout", c.OrderRetry.CallTimeout.String()),
		slog.Int("order_retry_attempts", c.OrderRetry.Attempts),
		slog.String("order_retry_backoff", c.OrderRetry.Backoff.String()),
		slog.String("order_retry_max_backoff", c.OrderRetry.MaxBackoff.String()),
		slog.String("order_retry_wait", c.OrderRetry.Wait.String()),
		slog.String("order_retry_max_wait", c.OrderRetry.MaxWait.String()),
		slog.String("events_max_age", c.EventsMaxAge.String()),
		slog.String("deadletter_max_age", c.DeadLetterMaxAge.String()),
		slog.String("journey_retention", c.JourneyRetention.String()),
		slog.String("duplicate_horizon", c.DuplicateHorizon.String()),
		slog.String("api_rate_limits", formatRateLimits(c.RateLimits)),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("log_format", c.LogFormat),
	)
}

// String is the redacted dump of LogValue, so %v and %+v of a Config are safe too.
func (c Config) String() string { return c.LogValue().String() }

// GoString is the redacted dump for %#v.
func (c Config) GoString() string { return "Config" + c.String() }

// MarshalJSON encodes the redacted dump.
func (c Config) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	for _, a := range c.LogValue().Group() {
		m[a.Key] = a.Value.Any()
	}
	return json.Marshal(m)
}

// natsSchemes are the URL schemes nats.go dials.
var natsSchemes = map[string]bool{"nats": true, "tls": true, "ws": true, "wss": true}

func setNATSURLs(c *Config, v string) error {
	var urls []string
	for i, raw := range strings.Split(v, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		// The text is never echoed: it may carry a user and password.
		u, err := url.Parse(raw)
		if err != nil || !natsSchemes[u.Scheme] || u.Host == "" {
			return fmt.Errorf("entry %d is not a NATS URL (want nats://host:port, tls://, ws:// or wss://)", i+1)
		}
		urls = append(urls, raw)
	}
	if len(urls) == 0 {
		return errors.New("no URL given")
	}
	c.NATSURLs = urls
	return nil
}

// file takes the path of a file that must be readable; what it holds is checked later, and
// never shown.
func file(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		f, err := os.Open(v)
		if err != nil {
			return fmt.Errorf("cannot read the file: %w", err)
		}
		_ = f.Close()
		*field(c) = v
		return nil
	}
}

// setCredentialsFile checks the file at start-up, so that a wrong one stops it; the
// installer reads it again when it starts serving, and whenever it changes.
func setCredentialsFile(c *Config, v string) error {
	if _, err := credfile.Load(v); err != nil {
		return err
	}
	c.CredentialsFile = v
	return nil
}

// setRateLimits reads family=perMinute pairs over the documented limits, or "off".
func setRateLimits(c *Config, v string) error {
	limits := client.DefaultLimits()
	if strings.TrimSpace(v) == "off" {
		for f := range limits {
			limits[f] = 0
		}
		c.RateLimits = limits
		return nil
	}
	seen := map[client.Family]bool{}
	for item := range strings.SplitSeq(v, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(item), "=")
		f := client.Family(strings.TrimSpace(name))
		switch {
		case !ok:
			return fmt.Errorf("%q is not family=perMinute (such as orders=600), nor off", item)
		case !f.Valid():
			return fmt.Errorf("%q is not an API family (%s)", name, familyNames())
		case seen[f]:
			return fmt.Errorf("family %s is given twice", f)
		}
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || n < 0 || n > 1_000_000 {
			return fmt.Errorf("%s: %q is not a whole number of calls a minute from 0 (no limit) to 1000000", f, value)
		}
		seen[f], limits[f] = true, n
	}
	c.RateLimits = limits
	return nil
}

// formatRateLimits writes the limited families as INSTALLER_API_RATE_LIMITS reads them, in
// the order of client.Families; "off" when none is limited.
func formatRateLimits(limits map[client.Family]int) string {
	var parts []string
	for _, f := range client.Families() {
		if n := limits[f]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", f, n))
		}
	}
	if len(parts) == 0 {
		return "off"
	}
	return strings.Join(parts, ",")
}

func familyNames() string {
	var names []string
	for _, f := range client.Families() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

func setAPIURL(c *Config, v string) error {
	u, err := url.Parse(v)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return errors.New("not an absolute http(s) URL")
	case u.User != nil:
		return errors.New("must not carry credentials; set ATLASSIAN_API_KEY or ATLASSIAN_EMAIL and ATLASSIAN_API_TOKEN")
	case u.RawQuery != "" || u.Fragment != "":
		return errors.New("must not have a query or fragment")
	}
	c.APIURL = strings.TrimRight(v, "/")
	return nil
}

func setPrefix(c *Config, v string) error {
	if v == "" { // the events package would take it for the default
		return errors.New("empty subject prefix")
	}
	if err := events.NewSubjects(v).Validate(); err != nil {
		return err
	}
	c.SubjectPrefix = v
	return nil
}

func setSource(c *Config, v string) error {
	if _, err := url.Parse(v); err != nil || strings.TrimSpace(v) != v {
		return fmt.Errorf("%q is not a URI reference", v)
	}
	c.Source = v
	return nil
}

func setLogLevel(c *Config, v string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		return fmt.Errorf("%q is not a log level (debug, info, warn, error)", v)
	}
	c.LogLevel = l
	return nil
}

func setLogFormat(c *Config, v string) error {
	switch v {
	case "auto", "json", "text":
		c.LogFormat = v
		return nil
	}
	return fmt.Errorf("%q is not a log format (auto, json, text)", v)
}

func nonEmpty(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		if strings.TrimSpace(v) == "" {
			return errors.New("must not be empty")
		}
		*field(c) = v
		return nil
	}
}

func hostPort(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		_, port, err := net.SplitHostPort(v)
		if err != nil {
			return fmt.Errorf("%q is not host:port", v)
		}
		if p, err := strconv.Atoi(port); err != nil || p < -1 || p > 65535 {
			return fmt.Errorf("%q has no valid port", v)
		}
		*field(c) = v
		return nil
	}
}

func intIn(lo, hi int, field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("%q is not a whole number from %d to %d", v, lo, hi)
		}
		*field(c) = n
		return nil
	}
}

func positiveDuration(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%q is not a positive duration (such as 90s or 10m)", v)
		}
		*field(c) = d
		return nil
	}
}

func durationIn(least, most time.Duration, field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < least || d > most {
			return fmt.Errorf("%q is not a positive duration of at most %s (such as 5m)", v, most)
		}
		*field(c) = d
		return nil
	}
}

func durationAtLeast(least time.Duration, field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < least {
			return fmt.Errorf("%q is not a duration of at least %s (such as 30s)", v, least)
		}
		*field(c) = d
		return nil
	}
}

// newFlagSet returns a flag set that returns errors instead of exiting, so run stays testable;
// -h prints the flags on stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	return fs
}
