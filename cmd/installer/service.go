package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/credfile"
	"github.com/procurement/atlassian-installer/internal/natsconn"
	"github.com/procurement/atlassian-installer/internal/quota"
	"github.com/procurement/atlassian-installer/internal/redact"
	"github.com/procurement/atlassian-installer/internal/telemetry"
)

// drainGrace is added to INSTALLER_DRAIN_TIMEOUT and callGrace before the process gives up on
// the drain: the installer bounds its own drain, this only guards against a drain that never
// returns.
const drainGrace = 5 * time.Second

// callGrace is how long the drain may outlast INSTALLER_DRAIN_TIMEOUT: a provisioning or
// order POST under way is never cut (the next instance would send it again), and each ends
// within its own timeout, the client's or INSTALLER_ORDER_CALL_TIMEOUT; its answer is then
// recorded.
func callGrace(cfg Config) time.Duration {
	return max(client.DefaultTimeout, cfg.OrderRetry.CallTimeout)
}

// closeTimeout bounds each shutdown step after the drain (HTTP server, NATS flush, metrics).
const closeTimeout = 5 * time.Second

// endpoints are the addresses the running service can be reached at, once it is started.
type endpoints struct {
	NATSURL string // the first NATS URL, redacted; the embedded server's when embedded
	HTTP    string // host:port of /healthz, /readyz and /metrics
}

// newClient builds the Atlassian client: the API key when set, else the site-admin credentials.
func newClient(cfg Config, opts ...client.Option) (*client.Client, error) {
	opts = append([]client.Option{client.WithBaseURL(cfg.APIURL)}, opts...)
	for f, perMinute := range cfg.RateLimits {
		opts = append(opts, client.WithRateLimit(f, perMinute))
	}
	switch {
	case cfg.APIKey.IsSet():
		opts = append(opts, client.WithAPIKey(cfg.APIKey.Reveal()))
	case cfg.Email != "":
		opts = append(opts, client.WithBasicAuth(cfg.Email, cfg.APIToken.Reveal()))
	}
	c, err := client.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("atlassian client: %w", err)
	}
	return c, nil
}

// orgCredentials picks each organization's credentials: ATLASSIAN_CREDENTIALS_FILE's for
// the organizations it names (checked for changes until ctx ends), else the client's own
// (ATLASSIAN_API_KEY, or ATLASSIAN_EMAIL and ATLASSIAN_API_TOKEN) when they are set, else
// none: the request then fails unauthorized before any call.
func orgCredentials(ctx context.Context, cfg Config, log *slog.Logger) (func(string) (client.Credentials, bool), error) {
	own := cfg.APIKey.IsSet() || cfg.Email != ""
	if cfg.CredentialsFile == "" {
		return func(string) (client.Credentials, bool) { return client.Credentials{}, own }, nil
	}
	w, err := credfile.NewWatcher(cfg.CredentialsFile, log)
	if err != nil {
		return nil, fmt.Errorf("ATLASSIAN_CREDENTIALS_FILE: %w", err)
	}
	go w.Run(ctx, credfile.CheckInterval)
	return func(org string) (client.Credentials, bool) {
		if cr, ok := w.Lookup(org); ok {
			return cr, true
		}
		return client.Credentials{}, own
	}, nil
}

// handlerConfig is the journeys' configuration.
func handlerConfig(cfg Config, log *slog.Logger) handlers.Config {
	return handlers.Config{
		Subjects:         events.NewSubjects(cfg.SubjectPrefix),
		Source:           cfg.Source,
		Replicas:         cfg.Replicas,
		Concurrency:      cfg.Concurrency,
		OrderWindow:      cfg.OrderWindow,
		PollInterval:     cfg.PollInterval,
		MaxPollInterval:  cfg.MaxPollInterval,
		JourneyTimeout:   cfg.JourneyTimeout,
		DrainTimeout:     cfg.DrainTimeout,
		AckWait:          cfg.AckWait,
		OrderRetry:       cfg.OrderRetry,
		Retention:        events.Retention{Events: cfg.EventsMaxAge, DeadLetter: cfg.DeadLetterMaxAge},
		JourneyRetention: cfg.JourneyRetention,
		DuplicateHorizon: cfg.DuplicateHorizon,
		Clock:            clockwork.NewRealClock(),
		Logger:           log,
	}
}

// serve connects (or starts) NATS, starts the operator endpoints and runs the installer until
// ctx is cancelled. started, when given, hears where the service can be reached.
func serve(ctx context.Context, cfg Config, getenv func(string) string, log *slog.Logger, started func(endpoints)) error {
	log.Info("starting", "config", cfg)
	tel, err := newTelemetry(ctx, getenv)
	if err != nil {
		return err
	}
	defer closeWith(log, "telemetry", tel.Shutdown)

	natsCfg := cfg.NATS()
	if cfg.Embedded() {
		ns, err := startEmbedded(cfg, log)
		if err != nil {
			return err
		}
		defer stopEmbedded(ns)
		natsCfg = natsconn.Settings{URL: ns.ClientURL()}
	}
	nc, err := connect(natsCfg, log)
	if err != nil {
		return err
	}
	defer func() {
		_ = nc.FlushTimeout(closeTimeout)
		nc.Close()
	}()
	js, err := natsCfg.JetStream(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	// As many idle connections to the API as steps run at once.
	opts := tel.ClientOptions(client.PooledHTTPClient(cfg.Concurrency))
	hcfg := handlerConfig(cfg, log)
	q, stopQuota, err := startQuota(ctx, cfg, js, tel, log)
	if err != nil {
		return err
	}
	defer stopQuota()
	if q != nil {
		opts = append(opts, client.WithLimiter(q))
		hcfg.Limiter = q
	}
	c, err := newClient(cfg, opts...)
	if err != nil {
		return err
	}
	if hcfg.Credentials, err = orgCredentials(ctx, cfg, log); err != nil {
		return err
	}
	ijs, api, hcfg, err := tel.Instrument(js, handlers.ClientAPI(c), hcfg)
	if err != nil {
		return err
	}
	inst, err := handlers.NewInstaller(ijs, api, hcfg)
	if err != nil {
		return fmt.Errorf("installer: %w", err)
	}

	ops, err := listenOps(cfg.HTTPAddr, readiness(inst, nc), tel.MetricsHandler(), log)
	if err != nil {
		return err
	}
	go func() {
		if err := ops.serve(); err != nil {
			log.Error("operator endpoints stopped", "error", err)
		}
	}()
	defer closeWith(log, "http", ops.shutdown)
	log.Info("operator endpoints listening", "addr", ops.Addr())
	if started != nil {
		started(endpoints{NATSURL: redact.URL(strings.Split(natsCfg.URL, ",")[0]), HTTP: ops.Addr()})
	}
	return runInstaller(ctx, inst, cfg.DrainTimeout, callGrace(cfg), log)
}

// startQuota runs the quota of INSTALLER_API_RATE_LIMITS that every instance on the same NATS
// shares; nil when every limit is off. It outlives ctx until stop is called, so that a drain's
// last calls still get their turns.
func startQuota(ctx context.Context, cfg Config, js jetstream.JetStream, tel *telemetry.Telemetry, log *slog.Logger) (q *quota.Quota, stop func(), err error) {
	limited := false
	for _, n := range cfg.RateLimits {
		limited = limited || n > 0
	}
	if !limited {
		return nil, func() {}, nil
	}
	q, err = quota.New(ctx, js, quota.Config{
		Prefix: cfg.SubjectPrefix, Replicas: cfg.Replicas, Limits: cfg.RateLimits, Logger: log,
		Observe: quota.Observer{Turn: tel.QuotaTurn, Pause: tel.QuotaPause},
	})
	if err != nil {
		return nil, nil, err
	}
	if err := tel.ObserveQuota(q.Leader); err != nil {
		_ = q.Close()
		return nil, nil, err
	}
	qctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = q.Run(qctx)
	}()
	return q, func() {
		cancel()
		<-done
		_ = q.Close()
	}, nil
}

// readiness is /readyz: the connection is up and the installer is consuming.
func readiness(inst *handlers.Installer, nc *nats.Conn) func() error {
	return func() error {
		if s := nc.Status(); s != nats.CONNECTED {
			return fmt.Errorf("NATS %s", s)
		}
		if !inst.Ready() {
			return errors.New("not consuming")
		}
		return nil
	}
}

// runInstaller runs the consumer; after ctx is cancelled it waits for the bounded drain.
func runInstaller(ctx context.Context, inst *handlers.Installer, drain, callGrace time.Duration, log *slog.Logger) error {
	done := make(chan error, 1)
	go func() { done <- inst.Run(ctx) }()
	select {
	case err := <-done:
		if ctx.Err() == nil {
			// Run returns on its own only when it cannot go on: a start-up error.
			if err == nil {
				err = errors.New("installer stopped unexpectedly")
			}
			return err
		}
		return ignoreCanceled(err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining", "drain_timeout", drain, "call_grace", callGrace)
	limit := drain + callGrace + drainGrace
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case err := <-done:
		log.Info("drained")
		return ignoreCanceled(err)
	case <-t.C:
		return fmt.Errorf("drain did not finish within %s", limit)
	}
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// closeWith runs a shutdown step with its own deadline (ctx is already cancelled by then) and
// logs its failure, which no longer changes the exit status.
func closeWith(log *slog.Logger, what string, f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if err := f(ctx); err != nil {
		log.Warn("shutdown step failed", "step", what, "error", err)
	}
}
