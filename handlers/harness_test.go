package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/natstest"
)

// waitFor bounds every wait of the suite; conditions are checked, never slept on.
const waitFor = 20 * time.Second

var subjects = events.NewSubjects("")

// env is one embedded NATS server, one sandbox and one fake clock shared by them and by
// every installer a test starts.
type env struct {
	t       *testing.T
	srv     *server.Server
	nc      *nats.Conn
	js      jetstream.JetStream
	clock   *clockwork.FakeClock
	sandbox *atlassiantest.Server
	client  *client.Client

	mu        sync.Mutex
	collected []outcome
	collector jetstream.ConsumeContext
}

func newEnv(t *testing.T, opts ...atlassiantest.Option) *env {
	t.Helper()
	e := &env{t: t, clock: clockwork.NewFakeClockAt(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC))}
	e.srv = natstest.StartServer(t)
	e.nc, e.js = natstest.Connect(t, e.srv)
	e.sandbox = atlassiantest.NewServer(append([]atlassiantest.Option{atlassiantest.WithClock(e.clock)}, opts...)...)
	t.Cleanup(e.sandbox.Close)
	e.client = e.newClient(atlassiantest.DefaultAPIKey)
	return e
}

func (e *env) newClient(key string) *client.Client {
	e.t.Helper()
	c, err := client.NewClient(
		client.WithBaseURL(e.sandbox.URL),
		client.WithAPIKey(key),
		client.WithClock(e.clock),
		client.WithRetry(8, 2*time.Second),
		// The client's rate limiters wait in real time; journeys' timing is the fake clock's.
		client.WithRateLimit(client.FamilyOrders, 0),
		client.WithRateLimit(client.FamilyEntitlementDetails, 0),
	)
	if err != nil {
		e.t.Fatalf("client: %v", err)
	}
	return c
}

func apiOf(c *client.Client) handlers.API {
	return handlers.API{Installations: c.Installations, Commerce: c.Commerce, Workspaces: c.Workspaces}
}

func (e *env) config() handlers.Config {
	level := slog.LevelError
	if os.Getenv("INSTALLER_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	return handlers.Config{
		Clock:           e.clock,
		Concurrency:     8,
		PollInterval:    time.Second,
		MaxPollInterval: 4 * time.Second,
		AckWait:         30 * time.Second,
		DrainTimeout:    5 * time.Second,
		APIBaseURL:      e.sandbox.URL,
		Logger:          slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
}

// instance is a running Installer.
type instance struct {
	in     *handlers.Installer
	cancel context.CancelFunc
	done   chan error
}

// start runs an installer until the test ends (or stop is called).
func (e *env) start(js jetstream.JetStream, api handlers.API, cfg handlers.Config) *instance {
	e.t.Helper()
	in, err := handlers.NewInstaller(js, api, cfg)
	if err != nil {
		e.t.Fatalf("NewInstaller: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	i := &instance{in: in, cancel: cancel, done: make(chan error, 1)}
	go func() { i.done <- in.Run(ctx) }()
	e.t.Cleanup(func() { i.stop(e.t) })
	e.eventually("installer ready", in.Ready)
	return i
}

func (i *instance) stop(t *testing.T) {
	i.cancel()
	select {
	case err := <-i.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		i.done <- nil
	case <-time.After(waitFor):
		t.Errorf("installer did not stop within %s", waitFor)
	}
}

func (e *env) startDefault() *instance {
	return e.start(e.js, apiOf(e.client), e.config())
}

// eventually checks cond until it holds, advancing the fake clock between checks so that
// polls, back-offs and the sandbox's timing move on.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	e.eventuallyStep(what, 500*time.Millisecond, cond)
}

func (e *env) eventuallyStep(what string, step time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(waitFor)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
		if step > 0 {
			e.clock.Advance(step)
		}
	}
}

// requestEvent builds a requested event with the given id and data.
func requestEvent(t *testing.T, id string, data any) *cloudevents.Event {
	t.Helper()
	ev := cloudevents.NewEvent()
	ev.SetID(id)
	ev.SetSource("urn:test:procurement")
	ev.SetType(subjects.Requested())
	ev.SetTime(time.Date(2026, 7, 1, 8, 59, 0, 0, time.UTC))
	if err := ev.SetData(cloudevents.ApplicationJSON, data); err != nil {
		t.Fatal(err)
	}
	return &ev
}

// publish publishes a request in binary mode, as procurement systems do.
func (e *env) publish(id string, data any) {
	e.t.Helper()
	m, err := events.ToNATS(subjects.Requested(), requestEvent(e.t, id, data))
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

// outcome is an event read back from INSTALL_EVENTS.
type outcome struct {
	Type    string
	ID      string
	Subject string
	Header  nats.Header
	Data    map[string]any
	Raw     []byte
}

// outcomes returns every event of INSTALL_EVENTS so far, in order, as collected by an
// ordered consumer started on first use.
func (e *env) outcomes() []outcome {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.collector == nil {
		c, err := e.js.OrderedConsumer(context.Background(), events.StreamEvents, jetstream.OrderedConsumerConfig{})
		if err != nil {
			return nil // not created yet
		}
		cc, err := c.Consume(func(m jetstream.Msg) {
			o := toOutcome(m.Headers(), m.Data())
			e.mu.Lock()
			e.collected = append(e.collected, o)
			e.mu.Unlock()
		})
		if err != nil {
			e.t.Fatalf("collect events: %v", err)
		}
		e.collector = cc
		e.t.Cleanup(cc.Stop)
	}
	return append([]outcome(nil), e.collected...)
}

func toOutcome(h nats.Header, data []byte) outcome {
	o := outcome{Header: h, Raw: data}
	if ev, err := events.FromNATS(h, data); err == nil {
		o.Type, o.ID, o.Subject = ev.Type(), ev.ID(), ev.Subject()
		_ = json.Unmarshal(ev.Data(), &o.Data)
	}
	return o
}

func readStream(t *testing.T, js jetstream.JetStream, name string) []outcome {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, name)
	if err != nil {
		return nil
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	var out []outcome
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("get %s %d: %v", name, seq, err)
		}
		out = append(out, toOutcome(m.Header, m.Data))
	}
	return out
}

// of returns the events of one request.
func of(all []outcome, requestID string) []outcome {
	var out []outcome
	for _, o := range all {
		if o.Subject == requestID {
			out = append(out, o)
		}
	}
	return out
}

func isTerminal(o outcome) bool {
	return o.Type == subjects.Provisioned() || o.Type == subjects.Failed()
}

// terminal waits for the request's terminal event and returns it.
func (e *env) terminal(requestID string) outcome {
	e.t.Helper()
	var got outcome
	e.eventually("terminal event of "+requestID, func() bool {
		for _, o := range of(e.outcomes(), requestID) {
			if isTerminal(o) {
				got = o
				return true
			}
		}
		return false
	})
	return got
}

// settled waits until the consumer holds no message: every delivery was settled.
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

// journey reads a request's state from INSTALL_JOURNEYS.
func (e *env) journey(requestID string) *handlers.State {
	e.t.Helper()
	kv, err := e.js.KeyValue(context.Background(), handlers.DefaultBucket)
	if err != nil {
		e.t.Fatalf("bucket: %v", err)
	}
	entry, err := kv.Get(context.Background(), handlers.Key(requestID))
	if err != nil {
		e.t.Fatalf("journey %s: %v", requestID, err)
	}
	var st handlers.State
	if err := json.Unmarshal(entry.Value(), &st); err != nil {
		e.t.Fatal(err)
	}
	return &st
}

// ordersOf returns the orders the sandbox accepted for a request.
func (e *env) ordersOf(requestID string) []client.OrderRequest {
	var out []client.OrderRequest
	for _, o := range e.sandbox.Orders() {
		if o.OrderID == handlers.OrderID(requestID) {
			out = append(out, o)
		}
	}
	return out
}

// counter counts deliveries per request id, as a middleware.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) middleware(next handlers.Handler) handlers.Handler {
	return func(ctx context.Context, d *handlers.Delivery) error {
		if ev, err := events.FromNATS(d.Msg.Headers(), d.Msg.Data()); err == nil {
			c.mu.Lock()
			if c.n == nil {
				c.n = map[string]int{}
			}
			c.n[ev.ID()]++
			c.mu.Unlock()
		}
		return next(ctx, d)
	}
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.n {
		n += v
	}
	return n
}
