package handlers_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/journey"
	"github.com/procurement/atlassian-installer/internal/installtest"
	"github.com/procurement/atlassian-installer/internal/quota"
)

// startQuota runs a shared quota of the orders family on the Env's NATS until the test ends.
func startQuota(t *testing.T, e *env, perMinute int) *quota.Quota {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	q, err := quota.New(ctx, e.JS, quota.Config{Prefix: "atlassian", Limits: map[client.Family]int{client.FamilyOrders: perMinute}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = q.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = q.Close()
	})
	e.Eventually("a quota leader", q.Leader)
	return q
}

// turnLog is a client.Limiter that records the turns asked of another.
type turnLog struct {
	client.Limiter
	mu    sync.Mutex
	turns []string // "provision" marks a provisioning request sent
}

func (l *turnLog) Wait(ctx context.Context, t client.Turn) error {
	err := l.Limiter.Wait(ctx, t)
	if err == nil && t.Priority == client.PriorityCreate {
		l.add(fmt.Sprintf("create held=%v", t.Held))
	}
	return err
}

func (l *turnLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.turns = append(l.turns, s)
}

// provisionLog marks each provisioning request in the turn log.
type provisionLog struct {
	journey.Installations
	log *turnLog
}

func (p provisionLog) ProvisionProducts(ctx context.Context, orgID string, req *client.ProvisionRequest) (*client.ProvisionResponse, *client.Response, error) {
	p.log.add("provision")
	return p.Installations.ProvisionProducts(ctx, orgID, req)
}

// saturate keeps n callers asking for read turns of the orders family until the test ends:
// the quota is spent on reads, as by thousands of waiting journeys' order polls.
func saturate(t *testing.T, q *quota.Quota, n int) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				_ = q.Wait(ctx, client.Turn{Org: atlassiantest.OrgID, Family: client.FamilyOrders})
			}
		})
	}
}

// With the orders quota saturated by reads, each journey takes its order's turn before it
// sends its provisioning request, and the order call uses that turn without waiting again:
// the order follows the provisioning answer at once.
func TestOrderTurnTakenBeforeProvisioning(t *testing.T) {
	e := newEnv(t)
	q := startQuota(t, e, 120) // two turns a second
	saturate(t, q, 16)
	log := &turnLog{Limiter: q}
	api := handlers.ClientAPI(e.NewClient(client.WithAPIKey(atlassiantest.DefaultAPIKey), client.WithLimiter(log)))
	api.Installations = provisionLog{Installations: api.Installations, log: log}
	cfg := e.Config()
	cfg.Limiter = log
	e.Start(e.JS, api, cfg)

	const n = 6
	for i := range n {
		id := fmt.Sprintf("turn-%d", i)
		e.Publish(id, jiraOnNewSite(id))
	}
	e.EventuallyStep("every journey ordered", 0, func() bool {
		k := 0
		for _, o := range e.Outcomes() {
			if o.Type == subjects.Ordered() {
				k++
			}
		}
		return k == n
	})
	log.mu.Lock()
	turns := slices.Clone(log.turns)
	log.mu.Unlock()
	// Per journey: its order's turn, its provisioning request, then the order on the held turn.
	taken, provisioned, held := 0, 0, 0
	for _, s := range turns {
		switch s {
		case "create held=false":
			taken++
		case "provision":
			provisioned++
			if provisioned > taken {
				t.Errorf("a provisioning request was sent before its order's turn: %v", turns)
			}
		case "create held=true":
			held++
		}
	}
	if taken != n || provisioned != n || held != n {
		t.Errorf("%d turns taken, %d provisioning requests, %d orders on held turns, want %d each: %v", taken, provisioned, held, n, turns)
	}
}

// A journey whose order's turn cannot come while the order window still fits in the journey
// timeout sends no provisioning request: it fails at stage provision, retryable, nothing
// provisioned or ordered.
func TestNoProvisioningWithoutOrderTurn(t *testing.T) {
	e := newEnv(t)
	q := startQuota(t, e, 6) // a turn every 10 s
	// The next turns are spoken for by creations queued ahead.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for range 4 {
		wg.Go(func() {
			_ = q.Wait(ctx, client.Turn{Org: atlassiantest.OrgID, Family: client.FamilyOrders, Priority: client.PriorityCreate})
		})
	}
	cfg := e.Config()
	cfg.Limiter = q
	cfg.OrderWindow = time.Minute
	cfg.JourneyTimeout = time.Minute + 5*time.Second // provisioning must start within 5 s
	e.Start(e.JS, handlers.ClientAPI(e.NewClient(client.WithAPIKey(atlassiantest.DefaultAPIKey), client.WithLimiter(q))), cfg)

	e.Publish("no-turn", jiraOnNewSite("no-turn"))
	got := installtest.AwaitTerminal(t, e.JS, installtest.Timeout, "no-turn")["no-turn"]
	if got.Type != subjects.Failed() || got.Data["stage"] != events.StageProvision ||
		got.Data["code"] != events.CodeDeadlineExceeded || got.Data["retryable"] != true {
		t.Fatalf("outcome %s %v, want failed provision deadline_exceeded retryable", got.Type, got.Data)
	}
	if n := len(e.Sandbox.RequestsTo(atlassiantest.EndpointProvisionProducts)); n != 0 {
		t.Errorf("%d provisioning requests sent without the order's turn", n)
	}
	if n := len(e.Sandbox.Orders()); n != 0 {
		t.Errorf("%d orders", n)
	}
}

// gate lets the first order turn through and holds the others until it is opened, waiting as
// a shared quota does: it gives the step's slot back meanwhile (client.Waiting).
type gate struct {
	mu    sync.Mutex
	taken int
	open  chan struct{}
}

func (g *gate) Wait(ctx context.Context, t client.Turn) error {
	g.mu.Lock()
	g.taken++
	first := g.taken == 1
	g.mu.Unlock()
	if first {
		return nil
	}
	defer client.Waiting(ctx)()
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gate) Pause(string, client.Family, time.Duration) {}

// A journey waiting for its order's turn holds no concurrency slot: with one slot, another
// journey's status polls run meanwhile, and it ends provisioned.
func TestWaitingForQuotaHoldsNoSlot(t *testing.T) {
	e := newEnv(t)
	g := &gate{open: make(chan struct{})}
	cfg := e.Config()
	cfg.Concurrency = 1
	cfg.Limiter = g
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)

	e.Publish("first", jiraOnNewSite("first"))
	e.EventuallyStep("first ordered", 0, func() bool {
		return len(installtest.Of(e.Outcomes(), "first")) == 1
	})
	e.Publish("second", jiraOnNewSite("second"))
	e.EventuallyStep("second waiting for its order's turn", 0, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.taken == 2
	})
	if got := e.Terminal("first"); got.Type != subjects.Provisioned() {
		t.Fatalf("first ended %s", got.Type)
	}
	if n := len(e.Sandbox.RequestsTo(atlassiantest.EndpointProvisionProducts)); n != 1 {
		t.Errorf("%d provisioning requests while the second journey waits for its order's turn, want 1", n)
	}
	close(g.open)
	if got := e.Terminal("second"); got.Type != subjects.Provisioned() {
		t.Fatalf("second ended %s", got.Type)
	}
}
