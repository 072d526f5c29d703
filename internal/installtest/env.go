package installtest

import (
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/calls"
	"github.com/procurement/atlassian-installer/internal/natstest"
)

// Epoch is where the fake clock starts: requests published by RequestEvent are a minute older.
var Epoch = time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)

// Subjects are the default subjects, those of Config and Publish.
var Subjects = events.NewSubjects("")

// Env is one embedded NATS server, one sandbox and one fake clock shared by them and by
// every client and installer the test starts. Everything stops when the test ends.
type Env struct {
	// T is the test the Env belongs to; its failures are reported there.
	T testing.TB
	// Server is the embedded JetStream server; NC and JS a TCP connection to it. A test
	// that kills an instance gives it a connection of its own (natstest.Connect).
	Server *server.Server
	NC     *nats.Conn
	JS     jetstream.JetStream
	// Clock is the sandbox's, the clients' and the installers' time; waits advance it.
	Clock *clockwork.FakeClock
	// Sandbox stands in for the Atlassian APIs; it records requests and orders.
	Sandbox *atlassiantest.Server
	// Client calls the sandbox with its default API key.
	Client *client.Client

	outcomes collector
}

// New starts an Env; opts configure the sandbox, whose clock is the Env's.
func New(t testing.TB, opts ...atlassiantest.Option) *Env {
	t.Helper()
	e := &Env{T: t, Clock: clockwork.NewFakeClockAt(Epoch)}
	e.Server = natstest.StartServer(t)
	e.NC, e.JS = natstest.Connect(t, e.Server)
	e.Sandbox = atlassiantest.NewServer(append([]atlassiantest.Option{atlassiantest.WithClock(e.Clock)}, opts...)...)
	t.Cleanup(e.Sandbox.Close)
	e.Client = e.NewClient(client.WithAPIKey(atlassiantest.DefaultAPIKey))
	return e
}

// NewClient returns a client of the sandbox on the Env's clock, with retries patient enough
// for fault storms; opts come last, for credentials, an HTTP client or hooks.
func (e *Env) NewClient(opts ...client.Option) *client.Client {
	e.T.Helper()
	c, err := client.NewClient(append([]client.Option{
		client.WithBaseURL(e.Sandbox.URL),
		client.WithClock(e.Clock),
		client.WithRetry(8, 2*time.Second),
		// The client's rate limiters wait in real time; journeys' timing is the fake clock's.
		client.WithRateLimit(client.FamilyOrders, 0),
		client.WithRateLimit(client.FamilyEntitlementDetails, 0),
	}, opts...)...)
	if err != nil {
		e.T.Fatalf("client: %v", err)
	}
	return c
}

// Config is an installer configuration on the Env's clock with short intervals. Its logger
// writes errors to stderr, everything with INSTALLER_TEST_LOG set. Tests change fields
// (AckWait, Middleware, Observe, Logger…) before Start.
func (e *Env) Config() handlers.Config {
	level := slog.LevelError
	if os.Getenv("INSTALLER_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	return handlers.Config{
		Clock: e.Clock,
		// The embedded server stamps real time: the fake clock stands for its clock too.
		ServerClock:     e.Clock,
		Concurrency:     8,
		PollInterval:    time.Second,
		MaxPollInterval: 4 * time.Second,
		AckWait:         30 * time.Second,
		// The default call timeout of one minute passes in a quarter of a real second while a
		// test advances the clock by Step; a loaded machine can take that long to answer an
		// order. Within a call, the order retries as NewClient's clients retry every call.
		OrderRetry:   calls.OrderRetry{CallTimeout: 5 * time.Minute, Attempts: 8, MaxBackoff: 2 * time.Second},
		DrainTimeout: 5 * time.Second,
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
}
