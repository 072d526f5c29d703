package telemetry_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/installtest"
	"github.com/procurement/atlassian-installer/internal/telemetry"
)

var subjects = installtest.Subjects

// env is the installer wired as cmd/installer wires it, in the shared test environment, with
// the telemetry under test around the handlers and the client.
type env struct {
	*installtest.Env
	tel   *telemetry.Telemetry
	spans *tracetest.InMemoryExporter
	logs  *installtest.LogBuffer
	// returned counts the deliveries whose handler, telemetry included, has returned.
	returned atomic.Uint64
}

// auth is how the installer authenticates to the sandbox.
type auth struct {
	apiKey       string
	email, token string
}

// setup adds to an env: sandbox options, and middleware inside the telemetry's.
type setup struct {
	sandbox    []atlassiantest.Option
	middleware []handlers.Middleware
}

func newEnv(t *testing.T, a auth, extra ...setup) *env {
	t.Helper()
	var sopts []atlassiantest.Option
	var copts []client.Option
	if a.apiKey != "" {
		sopts = append(sopts, atlassiantest.WithAPIKey(a.apiKey))
		copts = append(copts, client.WithAPIKey(a.apiKey))
	}
	if a.email != "" {
		sopts = append(sopts, atlassiantest.WithBasicAuth(a.email, a.token))
		copts = append(copts, client.WithBasicAuth(a.email, a.token))
	}
	mw := []handlers.Middleware{}
	for _, x := range extra {
		sopts = append(sopts, x.sandbox...)
		mw = append(mw, x.middleware...)
	}
	e := &env{Env: installtest.New(t, sopts...), spans: tracetest.NewInMemoryExporter(), logs: &installtest.LogBuffer{}}

	var err error
	e.tel, err = telemetry.New(context.Background(), telemetry.Config{
		SpanExporter: e.spans, Clock: e.Clock, Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatalf("telemetry.New: %v", err)
	}
	t.Cleanup(func() { _ = e.tel.Shutdown(context.Background()) })

	c := e.NewClient(append(copts, e.tel.ClientOptions(nil)...)...)
	cfg := e.Config()
	cfg.Middleware = mw
	cfg.Logger = telemetry.NewLogger(e.logs, slog.LevelDebug, false)
	js, api, cfg, err := e.tel.Instrument(e.JS, handlers.ClientAPI(c), cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Middleware = append([]handlers.Middleware{e.countReturns}, cfg.Middleware...)
	e.Start(js, api, cfg)
	return e
}

// countReturns, outermost, counts the deliveries whose handling is over: their spans ended
// and their metrics recorded.
func (e *env) countReturns(next handlers.Handler) handlers.Handler {
	return func(ctx context.Context, d *handlers.Delivery) error {
		defer e.returned.Add(1)
		return next(ctx, d)
	}
}

// quiet waits until every delivery so far is settled and its handling is over: a message is
// acked before the span around its delivery ends.
func (e *env) quiet() {
	e.T.Helper()
	e.Settled()
	e.Eventually("every delivery's handling over", func() bool {
		c, err := e.JS.Consumer(context.Background(), events.StreamRequests, handlers.DefaultConsumer)
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		return err == nil && e.returned.Load() == info.Delivered.Consumer
	})
}

type obj = map[string]any

// jiraRequest is Jira on a new site, billed from its Enterprise parent: one look-up call,
// provisioning, the order, and polls.
func jiraRequest(site string) obj {
	return obj{
		"orgId": atlassiantest.OrgID, "adminEmail": "admin@acme.example",
		"site": obj{"name": site, "create": true, "timezone": "Australia/Sydney"},
		"products": []obj{{
			"offeringId": atlassiantest.JiraOfferingID, "family": "jira", "location": "us",
			"chargeElement": "user", "quantity": 100, "parentEntitlementId": atlassiantest.JiraParentEntitlementID,
		}},
	}
}

// publish publishes a request in binary mode, with traceparent when given.
func (e *env) publish(id string, data any, traceparent string) {
	e.T.Helper()
	ev := installtest.RequestEvent(e.T, id, data)
	ev.SetTime(e.Clock.Now())
	if traceparent != "" {
		ev.SetExtension(events.ExtensionTraceparent, traceparent)
	}
	e.PublishEvent(ev)
}

// scrape reads /metrics as Prometheus would.
func (e *env) scrape() string {
	e.T.Helper()
	srv := httptest.NewServer(e.tel.MetricsHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		e.T.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	return string(b)
}
