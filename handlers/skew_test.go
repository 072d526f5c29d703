package handlers_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/record"
	"github.com/procurement/atlassian-installer/internal/installtest"
	"github.com/procurement/atlassian-installer/internal/natstest"
)

var realClock = clockwork.NewRealClock()

// realTimeEnv is an Env in real time, whose embedded server stamps the machine's time: the
// sandbox (with an order window, zero for the default, and no processing delays), a client,
// and a Config with short polls whose ServerClock is estimated from the server, as in
// production. Tests give each instance a Clock of its own.
func realTimeEnv(t *testing.T, window time.Duration) (*env, *client.Client, handlers.Config) {
	t.Helper()
	e := newEnv(t, atlassiantest.WithClock(realClock), atlassiantest.WithOrderWindow(window),
		atlassiantest.WithProvisionDelay(0), atlassiantest.WithOrderProcessingDelay(0))
	c := e.NewClient(client.WithAPIKey(atlassiantest.DefaultAPIKey), client.WithClock(realClock))
	cfg := e.Config()
	cfg.ServerClock = nil
	cfg.OrderWindow, cfg.PollInterval, cfg.MaxPollInterval = window, 100*time.Millisecond, 400*time.Millisecond
	cfg.OrderRetry.CallTimeout = time.Minute
	return e, c, cfg
}

// TestSkewedClocks runs a journey on two instances whose clocks disagree with each other
// and with the NATS server by minutes or hours: the first sends the provisioning request
// and is stopped before the order (its drain records the provisioning answer), the second
// resumes the journey. The order window and the journey timeout are the server's, whoever
// recorded their start: an open window is used, a closed one is not, however the clocks
// are set. Everything runs in real time (the embedded server stamps the machine's time):
// the sandbox, the clients, and the installers on clocks skewed from it.
func TestSkewedClocks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		a, b   time.Duration // how far the first and second instance's clocks are off
		window time.Duration // OrderWindow, the sandbox's too; zero for the default
		code   string        // "" for provisioned
		orders int           // order POSTs
	}{
		{name: "first instance behind: the window it opened is still open", a: -15 * time.Minute, b: 7 * time.Minute, orders: 1},
		{name: "first instance hours behind: the journey has only started", a: -3 * time.Hour, orders: 1},
		{name: "first instance ahead: no order once the window has passed", a: 15 * time.Minute, b: -7 * time.Minute,
			window: 3 * time.Second, code: "order_window_expired", orders: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, c, cfg := realTimeEnv(t, tc.window)
			var logs installtest.LogBuffer
			cfgA := cfg
			cfgA.Clock, cfgA.DrainTimeout = installtest.Skewed(realClock, tc.a), 100*time.Millisecond
			cfgA.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			h := newHeldCall(false)
			h.Installations, h.Commerce = c.Installations, c.Commerce
			_, jsA := natstest.Connect(t, e.Server)
			first := e.Start(jsA, handlers.API{Installations: h, Commerce: h, Workspaces: c.Workspaces}, cfgA)
			id := "skew-1"
			before := time.Now()
			e.Publish(id, jiraOnNewSite(id))
			<-h.sent
			sent := time.Now()
			// What the first instance recorded is on the server's clock, the machine's.
			st := e.Journey(id)
			for what, at := range map[string]time.Time{
				"createdAt": st.CreatedAt, "provisionSentAt": st.ProvisionSentAt, "the lease's start": st.Lease.Until.Add(-2 * cfg.AckWait),
			} {
				if at.Before(before.Add(-time.Second)) || at.After(sent.Add(time.Second)) {
					t.Errorf("%s %s, not between %s and %s", what, at, before, sent)
				}
			}
			stopped := make(chan struct{})
			go func() { first.Stop(t); close(stopped) }()
			installtest.Eventually(t, "the first instance's drain timeout", func() bool {
				return strings.Contains(logs.String(), "drain timeout")
			})
			close(h.release)
			<-stopped
			if st := e.Journey(id); st.Step != record.StepProvisionAccepted {
				t.Fatalf("journey at %s after the first instance stopped, want %s", st.Step, record.StepProvisionAccepted)
			}
			if tc.window > 0 {
				installtest.Eventually(t, "the order window passed", func() bool { return time.Since(sent) > tc.window })
			}

			cfgB := cfg
			cfgB.Clock = installtest.Skewed(realClock, tc.b)
			e.Start(e.JS, handlers.ClientAPI(c), cfgB)
			term := e.Terminal(id)
			want := subjects.Provisioned()
			if tc.code != "" {
				want = subjects.Failed()
			}
			if term.Type != want || (tc.code != "" && term.Data["code"] != tc.code) {
				t.Errorf("%s %v, want %s %s", term.Type, term.Data, want, tc.code)
			}
			e.Settled()
			if n := len(e.Sandbox.RequestsTo(atlassiantest.EndpointCreateOrder)); n != tc.orders {
				t.Errorf("%d order POSTs, want %d", n, tc.orders)
			}
			if n := e.Sandbox.ProvisionRequests(); n != 1 {
				t.Errorf("%d provisioning requests, want 1", n)
			}
		})
	}
}

// TestLeaseOfAClockAhead: an instance whose clock is 15 minutes ahead dies holding a
// journey's lease (provisioning sent, its answer lost); the next instance takes the journey
// over once the lease has lapsed on the server's clock, after 2×AckWait, not 15 minutes later.
func TestLeaseOfAClockAhead(t *testing.T) {
	e, c, cfg := realTimeEnv(t, 0)
	cfg.AckWait = time.Second // the dead instance's message comes back quickly
	cfgA := cfg
	cfgA.Clock = installtest.Skewed(realClock, 15*time.Minute)
	k := &killSwitch{afterProvision: true}
	nc, jsA := natstest.Connect(t, e.Server)
	k.nc, k.Installations, k.Commerce = nc, c.Installations, c.Commerce
	first := e.Start(jsA, handlers.API{Installations: k, Commerce: k, Workspaces: c.Workspaces}, cfgA)
	id := "lease-1"
	e.Publish(id, jiraOnNewSite(id))
	awaitDeath(t, first)
	if st := e.Journey(id); st.Step != record.StepProvisioning || st.Lease.Owner == "" {
		t.Fatalf("journey at %s with lease %+v after the crash, want %s and a lease", st.Step, st.Lease, record.StepProvisioning)
	}

	cfgB := cfg
	cfgB.Clock = realClock
	e.Start(e.JS, handlers.ClientAPI(c), cfgB)
	if term := e.Terminal(id); term.Type != subjects.Provisioned() {
		t.Errorf("%s %v", term.Type, term.Data)
	}
	e.Settled()
	if n := len(e.OrdersOf(id)); n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
	if n := e.Sandbox.ProvisionRequests(); n != 2 {
		t.Errorf("%d provisioning requests, want 2 (the answer of the first was lost)", n)
	}
}
