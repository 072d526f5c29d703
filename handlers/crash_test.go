package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/journey"
	"github.com/procurement/atlassian-installer/handlers/record"
	"github.com/procurement/atlassian-installer/internal/installtest"
	"github.com/procurement/atlassian-installer/internal/natstest"
)

var errKilled = errors.New("process killed")

// killSwitch stops an instance dead at one point of a journey: it closes the instance's
// NATS connection, as a crash would, so nothing after that point is recorded or settled.
type killSwitch struct {
	journey.Installations
	journey.Commerce
	nc   *nats.Conn
	once sync.Once
	// afterProvision kills once the provisioning answer arrived; beforeOrder before the
	// order is sent; afterOrder once the sandbox accepted the order.
	afterProvision, beforeOrder, afterOrder bool
	// afterOrders kills once that many orders were sent.
	afterOrders int
	orders      atomic.Int32
}

func (k *killSwitch) kill() bool {
	killed := false
	k.once.Do(func() { k.nc.Close(); killed = true })
	return killed
}

func (k *killSwitch) ProvisionProducts(ctx context.Context, orgID string, req *client.ProvisionRequest) (*client.ProvisionResponse, *client.Response, error) {
	resp, r, err := k.Installations.ProvisionProducts(ctx, orgID, req)
	if k.afterProvision && k.kill() {
		return nil, nil, errKilled
	}
	return resp, r, err
}

func (k *killSwitch) CreateOrder(ctx context.Context, req *client.OrderRequest) (*client.OrderResponse, *client.Response, error) {
	if k.beforeOrder && k.kill() {
		return nil, nil, errKilled
	}
	resp, r, err := k.Commerce.CreateOrder(ctx, req)
	sent := int(k.orders.Add(1))
	if (k.afterOrder || sent == k.afterOrders) && k.kill() {
		return nil, nil, errKilled
	}
	return resp, r, err
}

// startKilled runs a first instance on its own connection whose API kills it at a point.
func (e *env) startKilled(cfg handlers.Config, k *killSwitch) *installtest.Instance {
	e.T.Helper()
	nc, js := natstest.Connect(e.T, e.Server)
	k.nc = nc
	k.Installations, k.Commerce = e.Client.Installations, e.Client.Commerce
	return e.Start(js, handlers.API{Installations: k, Commerce: k, Workspaces: e.Client.Workspaces}, cfg)
}

// awaitDeath waits until a killed instance's Run has returned.
func awaitDeath(t *testing.T, i *installtest.Instance) {
	t.Helper()
	if err := i.Wait(t); !errors.Is(err, nats.ErrConnectionClosed) {
		t.Errorf("killed instance's Run returned %v", err)
	}
}

// TestHardStop kills an instance at the riskiest points of a journey and lets a new
// instance on the same stream and bucket take over: never a second order, exactly one
// terminal event, and the provisioning sent again only when its answer was lost.
func TestHardStop(t *testing.T) {
	for _, tc := range []struct {
		name       string
		k          *killSwitch
		skip       time.Duration // fake time passing while no instance runs
		code       string        // "" for provisioned
		orders     int
		provisions int
	}{
		{name: "between the provisioning answer and the order", k: &killSwitch{afterProvision: true}, orders: 1, provisions: 2},
		{name: "after the order was accepted, its answer lost", k: &killSwitch{afterOrder: true}, orders: 1, provisions: 1},
		// The order may have left before the crash: it is read until the journey timeout,
		// and the journey ends without saying that nothing was ordered.
		{name: "order recorded as sending, window passed", k: &killSwitch{beforeOrder: true}, skip: 11 * time.Minute,
			code: "deadline_exceeded", orders: 0, provisions: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			cfg := e.Config()
			cfg.AckWait = time.Second // the dead instance's message comes back quickly
			cfg.JourneyTimeout = 20 * time.Minute
			first := e.startKilled(cfg, tc.k)
			id := "crash-1"
			e.Publish(id, jiraOnNewSite("crash"))
			awaitDeath(t, first)
			e.Clock.Advance(tc.skip)

			e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)
			term := e.Terminal(id)
			want := subjects.Provisioned()
			if tc.code != "" {
				want = subjects.Failed()
			}
			if term.Type != want || (tc.code != "" && term.Data["code"] != tc.code) {
				t.Fatalf("%s %v, want %s %s", term.Type, term.Data, want, tc.code)
			}
			if tc.code != "" && term.Data["retryable"] != false {
				t.Errorf("retryable once an order may have been sent: %v", term.Data)
			}
			e.Settled()
			if n := len(e.OrdersOf(id)); n != tc.orders {
				t.Errorf("%d orders, want %d", n, tc.orders)
			}
			if n := e.Sandbox.ProvisionRequests(); n != tc.provisions {
				t.Errorf("%d provisioning requests, want %d", n, tc.provisions)
			}
			terminals := 0
			for _, o := range installtest.Of(e.Outcomes(), id) {
				if installtest.IsTerminal(o) {
					terminals++
				}
			}
			if terminals != 1 {
				t.Errorf("%d terminal events", terminals)
			}
		})
	}
}

// stallingInstallations lets the order window pass between the provisioning answer and
// the order, as a stalled process would.
type stallingInstallations struct {
	journey.Installations
	e *env
}

func (s stallingInstallations) ProvisionProducts(ctx context.Context, orgID string, req *client.ProvisionRequest) (*client.ProvisionResponse, *client.Response, error) {
	resp, r, err := s.Installations.ProvisionProducts(ctx, orgID, req)
	s.e.Clock.Advance(11 * time.Minute)
	return resp, r, err
}

// TestOrderWindowExpired: once the window has passed, no order is sent.
func TestOrderWindowExpired(t *testing.T) {
	e := newEnv(t)
	api := handlers.ClientAPI(e.Client)
	api.Installations = stallingInstallations{Installations: e.Client.Installations, e: e}
	e.Start(e.JS, api, e.Config())
	e.Publish("window-1", jiraOnNewSite("window"))
	term := e.Terminal("window-1")
	f := term.Data
	if term.Type != subjects.Failed() || f["code"] != "order_window_expired" || f["stage"] != "order" || f["retryable"] != true {
		t.Fatalf("%s %v", term.Type, f)
	}
	if _, has := f["orderId"]; has {
		t.Errorf("orderId of an order never sent: %v", f)
	}
	if f["provisionRequestId"] == nil {
		t.Errorf("provisionRequestId missing: %v", f)
	}
	if n := len(e.Sandbox.RequestsTo("create-order")); n != 0 {
		t.Errorf("%d order requests after the window", n)
	}
}

// TestTwoInstances: two instances on one stream share the requests; none is handled
// twice, each is ordered once and ends once.
func TestTwoInstances(t *testing.T) {
	e := newEnv(t)
	var a, b counter
	cfgA, cfgB := e.Config(), e.Config()
	cfgA.Middleware = []handlers.Middleware{a.middleware}
	cfgB.Middleware = []handlers.Middleware{b.middleware}
	_, jsA := natstest.Connect(t, e.Server)
	_, jsB := natstest.Connect(t, e.Server)
	e.Start(jsA, handlers.ClientAPI(e.Client), cfgA)
	e.Start(jsB, handlers.ClientAPI(e.NewClient(client.WithAPIKey("atlassiantest-api-key"))), cfgB)

	const n = 40
	for i := range n {
		id := fmt.Sprintf("shared-%02d", i)
		e.Publish(id, jiraOnNewSite(id))
	}
	e.Eventually("every request ended", func() bool {
		terminals := 0
		for _, o := range e.Outcomes() {
			if installtest.IsTerminal(o) {
				terminals++
			}
		}
		return terminals >= n
	})
	e.Settled()
	all := e.Outcomes()
	for i := range n {
		id := fmt.Sprintf("shared-%02d", i)
		evs := installtest.Of(all, id)
		if len(evs) != 2 || evs[1].Type != subjects.Provisioned() {
			t.Errorf("%s: events %v", id, types(evs))
		}
		if k := len(e.OrdersOf(id)); k != 1 {
			t.Errorf("%s: %d orders", id, k)
		}
	}
	if got := e.Sandbox.ProvisionRequests(); got != n {
		t.Errorf("%d provisioning requests, want %d", got, n)
	}
	if a.total()+b.total() != n {
		t.Errorf("%d + %d deliveries for %d requests", a.total(), b.total(), n)
	}
	if a.total() == 0 || b.total() == 0 {
		t.Errorf("work not shared: %d and %d", a.total(), b.total())
	}
}

// TestDrainAndResume: a stopped instance returns promptly with journeys waiting on
// provisioning; a new instance resumes them from their recorded state.
func TestDrainAndResume(t *testing.T) {
	e := newEnv(t)
	cfg := e.Config()
	first := e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)
	ids := []string{"drain-a", "drain-b", "drain-c"}
	for _, id := range ids {
		e.Publish(id, jiraOnNewSite(id))
	}
	// Ordered, not yet provisioned: stop advancing time once every order is in.
	e.EventuallyStep("every journey ordered", 0, func() bool {
		n := 0
		for _, o := range e.Outcomes() {
			if o.Type == subjects.Ordered() {
				n++
			}
		}
		return n == len(ids)
	})
	first.Stop(t)
	for _, id := range ids {
		if st := e.Journey(id); st.Step != record.StepOrdered {
			t.Errorf("%s at %s after the drain", id, st.Step)
		}
	}
	e.StartDefault()
	for _, id := range ids {
		if term := e.Terminal(id); term.Type != subjects.Provisioned() {
			t.Errorf("%s: %s %v", id, term.Type, term.Data)
		}
		if n := len(e.OrdersOf(id)); n != 1 {
			t.Errorf("%s: %d orders", id, n)
		}
	}
	e.Settled()
}

// TestHardStopMidFlow kills an instance while many journeys are at different steps; a new
// instance finishes them all, each with one order and one terminal event.
func TestHardStopMidFlow(t *testing.T) {
	e := newEnv(t)
	cfg := e.Config()
	cfg.AckWait = time.Second
	first := e.startKilled(cfg, &killSwitch{afterOrders: 6})
	const n = 15
	for i := range n {
		id := fmt.Sprintf("midflow-%02d", i)
		e.Publish(id, jiraOnNewSite(id))
	}
	awaitDeath(t, first)
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)
	e.Eventually("every request ended", func() bool {
		k := 0
		for _, o := range e.Outcomes() {
			if installtest.IsTerminal(o) {
				k++
			}
		}
		return k >= n
	})
	e.Settled()
	all := e.Outcomes()
	for i := range n {
		id := fmt.Sprintf("midflow-%02d", i)
		terminals := 0
		for _, o := range installtest.Of(all, id) {
			if installtest.IsTerminal(o) {
				terminals++
				if o.Type != subjects.Provisioned() {
					t.Errorf("%s: %s %v", id, o.Type, o.Data)
				}
			}
		}
		if terminals != 1 {
			t.Errorf("%s: %d terminal events", id, terminals)
		}
		if k := len(e.OrdersOf(id)); k != 1 {
			t.Errorf("%s: %d orders", id, k)
		}
	}
}

// heldCall lets a provisioning or order POST reach the sandbox and then holds its answer
// until released, as a slow API would; a call whose context ends meanwhile returns the
// context's error, as net/http does, and says so.
type heldCall struct {
	journey.Installations
	journey.Commerce
	order   bool // hold the order POST instead of the provisioning POST
	sent    chan struct{}
	release chan struct{}
	cut     atomic.Bool
}

func newHeldCall(order bool) *heldCall {
	return &heldCall{order: order, sent: make(chan struct{}), release: make(chan struct{})}
}

func (h *heldCall) hold(ctx context.Context) error {
	close(h.sent)
	select {
	case <-h.release:
		return nil
	case <-ctx.Done():
		h.cut.Store(true)
		return ctx.Err()
	}
}

func (h *heldCall) ProvisionProducts(ctx context.Context, orgID string, req *client.ProvisionRequest) (*client.ProvisionResponse, *client.Response, error) {
	resp, r, err := h.Installations.ProvisionProducts(ctx, orgID, req)
	if !h.order {
		if err := h.hold(ctx); err != nil {
			return nil, nil, err
		}
	}
	return resp, r, err
}

func (h *heldCall) CreateOrder(ctx context.Context, req *client.OrderRequest) (*client.OrderResponse, *client.Response, error) {
	resp, r, err := h.Commerce.CreateOrder(ctx, req)
	if h.order {
		if err := h.hold(ctx); err != nil {
			return nil, nil, err
		}
	}
	return resp, r, err
}

// TestDrainWaitsForPOSTs: a graceful stop whose drain timeout passes while a provisioning
// or order POST is in flight does not cut that call: it waits for the answer and records
// it, so that the next instance neither provisions nor orders a second time.
func TestDrainWaitsForPOSTs(t *testing.T) {
	for _, order := range []bool{false, true} {
		name := map[bool]string{false: "provisioning", true: "order"}[order]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			var logs installtest.LogBuffer
			cfg := e.Config()
			cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			h := newHeldCall(order)
			h.Installations, h.Commerce = e.Client.Installations, e.Client.Commerce
			first := e.Start(e.JS, handlers.API{Installations: h, Commerce: h, Workspaces: e.Client.Workspaces}, cfg)
			id := "drain-post-" + name
			e.Publish(id, jiraOnNewSite(id))
			e.Eventually(name+" POST sent", func() bool {
				select {
				case <-h.sent:
					return true
				default:
					return false
				}
			})
			stopped := make(chan struct{})
			go func() { first.Stop(t); close(stopped) }()
			e.Eventually("drain timeout passed", func() bool { return strings.Contains(logs.String(), "drain timeout") })
			close(h.release)
			<-stopped
			if h.cut.Load() {
				t.Errorf("the drain cut the %s POST", name)
			}
			st := e.Journey(id)
			if st.StatusURL == "" || order && st.Order == nil {
				t.Errorf("the answer of the %s POST was not recorded: %+v", name, st)
			}

			e.StartDefault()
			if term := e.Terminal(id); term.Type != subjects.Provisioned() {
				t.Fatalf("%s %v", term.Type, term.Data)
			}
			e.Settled()
			if n := len(e.Sandbox.RequestsTo(atlassiantest.EndpointProvisionProducts)); n != 1 {
				t.Errorf("%d provisioning POSTs", n)
			}
			if n := len(e.Sandbox.RequestsTo(atlassiantest.EndpointCreateOrder)); n != 1 {
				t.Errorf("%d order POSTs", n)
			}
			if n := len(e.OrdersOf(id)); n != 1 {
				t.Errorf("%d orders", n)
			}
		})
	}
}
