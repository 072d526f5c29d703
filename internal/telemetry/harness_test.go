package telemetry_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/natstest"
	"github.com/procurement/atlassian-installer/internal/telemetry"
)

// waitFor bounds every wait; conditions are checked, never slept on.
const waitFor = 20 * time.Second

var subjects = events.NewSubjects("")

// env is the installer wired as cmd/installer wires it: embedded JetStream, the sandbox, a
// fake clock shared by all, and the telemetry under test around the handlers and the client.
type env struct {
	t       *testing.T
	js      jetstream.JetStream
	clock   *clockwork.FakeClock
	sandbox *atlassiantest.Server
	tel     *telemetry.Telemetry
	spans   *tracetest.InMemoryExporter
	logs    *syncBuffer
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
	e := &env{t: t, clock: clockwork.NewFakeClockAt(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)),
		spans: tracetest.NewInMemoryExporter(), logs: &syncBuffer{}}
	srv := natstest.StartServer(t)
	_, e.js = natstest.Connect(t, srv)

	sopts := []atlassiantest.Option{atlassiantest.WithClock(e.clock)}
	copts := []client.Option{client.WithClock(e.clock), client.WithRetry(8, 2*time.Second)}
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
	e.sandbox = atlassiantest.NewServer(sopts...)
	t.Cleanup(e.sandbox.Close)

	var err error
	e.tel, err = telemetry.New(context.Background(), telemetry.Config{
		SpanExporter: e.spans, Clock: e.clock, Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatalf("telemetry.New: %v", err)
	}
	t.Cleanup(func() { _ = e.tel.Shutdown(context.Background()) })

	c, err := client.NewClient(append(copts,
		client.WithBaseURL(e.sandbox.URL),
		client.WithHTTPClient(e.tel.HTTPClient(nil)),
		client.WithOnRetry(e.tel.OnRetry),
	)...)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	api := e.tel.API(handlers.API{Installations: c.Installations, Commerce: c.Commerce, Workspaces: c.Workspaces})
	if err := e.tel.ObserveConsumer(e.js, events.StreamRequests, handlers.DefaultConsumer); err != nil {
		t.Fatal(err)
	}
	in, err := handlers.NewInstaller(e.tel.JetStream(e.js, subjects), api, handlers.Config{
		Clock:           e.clock,
		Concurrency:     8,
		PollInterval:    time.Second,
		MaxPollInterval: 4 * time.Second,
		AckWait:         30 * time.Second,
		DrainTimeout:    5 * time.Second,
		APIBaseURL:      e.sandbox.URL,
		Middleware:      append([]handlers.Middleware{e.tel.Middleware(handlers.DefaultConsumer)}, mw...),
		Observe:         e.tel.ObserveStep,
		Logger:          telemetry.NewLogger(e.logs, slog.LevelDebug, false),
	})
	if err != nil {
		t.Fatalf("NewInstaller: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(waitFor):
			t.Errorf("installer did not stop within %s", waitFor)
		}
	})
	e.eventually("installer ready", in.Ready)
	return e
}

// eventually checks cond until it holds, advancing the fake clock between checks so that
// polls, back-offs and the sandbox's timing move on.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(waitFor)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
		e.clock.Advance(500 * time.Millisecond)
	}
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
	e.t.Helper()
	ev := cloudevents.NewEvent()
	ev.SetID(id)
	ev.SetSource("urn:test:procurement")
	ev.SetType(subjects.Requested())
	ev.SetTime(e.clock.Now())
	if traceparent != "" {
		ev.SetExtension(events.ExtensionTraceparent, traceparent)
	}
	if err := ev.SetData(cloudevents.ApplicationJSON, data); err != nil {
		e.t.Fatal(err)
	}
	m, err := events.ToNATS(subjects.Requested(), &ev)
	if err != nil {
		e.t.Fatal(err)
	}
	e.publishMsg(m)
}

func (e *env) publishMsg(m *nats.Msg) {
	e.t.Helper()
	if _, err := e.js.PublishMsg(context.Background(), m); err != nil {
		e.t.Fatalf("publish: %v", err)
	}
}

// stored is a message read back from a stream.
type stored struct {
	Header nats.Header
	Data   []byte
	Event  *cloudevents.Event // nil when not a CloudEvent
}

func (e *env) stream(name string) []stored {
	e.t.Helper()
	ctx := context.Background()
	s, err := e.js.Stream(ctx, name)
	if err != nil {
		return nil
	}
	info, err := s.Info(ctx)
	if err != nil {
		e.t.Fatalf("stream info: %v", err)
	}
	var out []stored
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			e.t.Fatalf("get %s %d: %v", name, seq, err)
		}
		st := stored{Header: m.Header, Data: m.Data}
		st.Event, _ = events.FromNATS(m.Header, m.Data)
		out = append(out, st)
	}
	return out
}

// terminal waits for the request's terminal event.
func (e *env) terminal(requestID string) stored {
	e.t.Helper()
	var got stored
	e.eventually("terminal event of "+requestID, func() bool {
		for _, m := range e.stream(events.StreamEvents) {
			if m.Event != nil && m.Event.Subject() == requestID &&
				(m.Event.Type() == subjects.Provisioned() || m.Event.Type() == subjects.Failed()) {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// settled waits until every request message is settled.
func (e *env) settled() {
	e.t.Helper()
	e.eventually("every request message settled", func() bool {
		c, err := e.js.Consumer(context.Background(), events.StreamRequests, handlers.DefaultConsumer)
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		return err == nil && info.NumAckPending == 0 && info.NumPending == 0
	})
}

// scrape reads /metrics as Prometheus would.
func (e *env) scrape() string {
	e.t.Helper()
	srv := httptest.NewServer(e.tel.MetricsHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		e.t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

// syncBuffer is a log destination written by many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
