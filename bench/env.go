package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/telemetry"
)

// readyTimeout bounds every start-up wait (NATS ready, installer consuming).
const readyTimeout = 30 * time.Second

// env is one scenario's world, as the installer's embedded default runs it: a NATS server
// with JetStream on a file store that fsyncs every write, on 127.0.0.1 with a random port,
// reached over TCP; the Atlassian sandbox on its own loopback port; and a second NATS
// connection for the procurement side (publishing requests, reading outcomes).
type env struct {
	dir     string
	ns      *server.Server
	nc      *nats.Conn // the installer's connection
	js      jetstream.JetStream
	pnc     *nats.Conn // the procurement system's connection
	pjs     jetstream.JetStream
	sandbox *atlassiantest.Server
	apiURL  string
	httpSrv *http.Server
	// conns counts TCP connections the sandbox accepted: connection reuse shows here.
	conns atomic.Int64
	// requests counts the HTTP requests the sandbox received; inflight, those not yet answered.
	requests atomic.Int64
	inflight atomic.Int64
	// hc is the HTTP client of the installer's Atlassian client and of the baseline.
	hc *http.Client
	// tel, when set, instruments the installer and its client.
	tel *telemetry.Telemetry
}

// envOptions shape a scenario's world.
type envOptions struct {
	sandbox []atlassiantest.Option
	// wrap, when set, stands in front of the sandbox's handler (a quota enforcer).
	wrap func(http.Handler) http.Handler
	// noSync leaves NATS at its default of syncing every two minutes.
	noSync bool
	// telemetry instruments the installer as cmd/installer does: spans (never exported),
	// metrics, the gap and consumer-lag instruments.
	telemetry bool
	// concurrency is the installer's (handlers.DefaultConcurrency when 0): its Atlassian
	// client keeps as many idle connections, as cmd/installer's does.
	concurrency int
}

func newEnv(o envOptions) (e *env, err error) {
	if o.concurrency == 0 {
		o.concurrency = handlers.DefaultConcurrency
	}
	e = &env{hc: client.PooledHTTPClient(o.concurrency)}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	if e.dir, err = os.MkdirTemp("", "installer-bench-*"); err != nil {
		return nil, err
	}
	e.ns, err = server.NewServer(&server.Options{
		ServerName: "bench",
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		JetStream:  true,
		StoreDir:   e.dir,
		SyncAlways: !o.noSync, // the installer's embedded default: fsync every write
		NoLog:      true,
		NoSigs:     true,
	})
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	go e.ns.Start()
	if !e.ns.ReadyForConnections(readyTimeout) {
		return nil, errors.New("nats server not ready")
	}
	if e.nc, e.js, err = connect(e.ns.ClientURL(), "installer"); err != nil {
		return nil, err
	}
	if e.pnc, e.pjs, err = connect(e.ns.ClientURL(), "procurement"); err != nil {
		return nil, err
	}

	if o.telemetry {
		noExporter := func(string) string { return "" }
		if e.tel, err = telemetry.New(context.Background(), telemetry.Config{Getenv: noExporter}); err != nil {
			return nil, err
		}
	}
	e.sandbox = atlassiantest.NewUnstartedServer(o.sandbox...)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := e.sandbox.Handler()
	if o.wrap != nil {
		h = o.wrap(h)
	}
	counted := h
	h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.requests.Add(1)
		e.inflight.Add(1)
		defer e.inflight.Add(-1)
		counted.ServeHTTP(w, r)
	})
	e.apiURL = "http://" + l.Addr().String()
	e.httpSrv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				e.conns.Add(1)
			}
		},
	}
	go func() { _ = e.httpSrv.Serve(l) }()
	return e, nil
}

func connect(url, name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(url, nats.Name(name))
	if err != nil {
		return nil, nil, fmt.Errorf("nats connect: %w", err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("jetstream: %w", err)
	}
	return nc, js, nil
}

func (e *env) close() {
	if e.httpSrv != nil {
		_ = e.httpSrv.Close()
	}
	for _, nc := range []*nats.Conn{e.pnc, e.nc} {
		if nc != nil {
			nc.Close()
		}
	}
	if e.tel != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = e.tel.Shutdown(ctx)
		cancel()
	}
	if e.ns != nil {
		e.ns.Shutdown()
		e.ns.WaitForShutdown()
	}
	if e.dir != "" {
		_ = os.RemoveAll(e.dir)
	}
}

// newClient is the installer's Atlassian client as cmd/installer builds it (pooled
// connections, retries and timeout), pointed at the sandbox. The documented client-side
// limits are lifted unless a scenario sets its own: the sandbox has no quota, and the
// throughput figures are the installer's, not the API's.
func (e *env) newClient(clock clockwork.Clock, extra ...client.Option) (*client.Client, error) {
	opts := []client.Option{
		client.WithBaseURL(e.apiURL),
		client.WithAPIKey(atlassiantest.DefaultAPIKey),
		client.WithRateLimit(client.FamilyOrders, 0),
		client.WithRateLimit(client.FamilyEntitlementDetails, 0),
		client.WithHTTPClient(e.hc),
	}
	if clock != nil {
		opts = append(opts, client.WithClock(clock))
	}
	if e.tel != nil {
		opts = append(opts, e.tel.ClientOptions(e.hc)...)
	}
	return client.NewClient(append(opts, extra...)...)
}

// running is an installer consuming until stop.
type running struct {
	in     *handlers.Installer
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

func (e *env) startInstaller(api handlers.API, cfg handlers.Config) (*running, error) {
	js := e.js
	if e.tel != nil {
		var err error
		if js, api, cfg, err = e.tel.Instrument(js, api, cfg); err != nil {
			return nil, err
		}
	}
	in, err := handlers.NewInstaller(js, api, cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{in: in, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- in.Run(ctx) }()
	if err := waitUntil(readyTimeout, in.Ready); err != nil {
		r.stop()
		return nil, fmt.Errorf("installer: %w", err)
	}
	return r, nil
}

// stop cancels Run and waits for its drain, bounded; later calls return the first result.
func (r *running) stop() error {
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(2 * time.Minute):
			r.err = errors.New("installer did not stop within 2m")
		}
	})
	return r.err
}

// waitUntil checks cond every few milliseconds until it holds or d has passed.
func waitUntil(d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("condition not met within %s", d)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}
