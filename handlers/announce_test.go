package handlers_test

import (
	"bytes"
	"context"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/journey"
	"github.com/procurement/atlassian-installer/handlers/record"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// stuckAPI holds the answer of one request's order until released; once that order is
// sent, every provisioning status read hangs until unstuck, as an API that stopped
// answering.
type stuckAPI struct {
	journey.Installations
	journey.Commerce
	held         string // the orderId whose answer is held
	stuck        atomic.Int32
	unstuck      chan struct{}
	orderSent    chan struct{}
	orderRelease chan struct{}
	sent         atomic.Bool
}

func (s *stuckAPI) GetProvisionStatus(ctx context.Context, statusURL string) (*client.ProvisionStatus, *client.Response, error) {
	if s.sent.Load() {
		s.stuck.Add(1)
		select {
		case <-s.unstuck:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	return s.Installations.GetProvisionStatus(ctx, statusURL)
}

func (s *stuckAPI) CreateOrder(ctx context.Context, req *client.OrderRequest) (*client.OrderResponse, *client.Response, error) {
	resp, r, err := s.Commerce.CreateOrder(ctx, req)
	if req.OrderID == s.held && s.sent.CompareAndSwap(false, true) {
		close(s.orderSent)
		<-s.orderRelease
	}
	return resp, r, err
}

// queuedForSlot counts the goroutines waiting in Delivery.step for a concurrency slot:
// blocked in a select whose innermost frame is step.
func queuedForSlot() int {
	var b bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&b, 2)
	n := 0
	for _, g := range strings.Split(b.String(), "\n\n") {
		lines := strings.Split(g, "\n")
		if len(lines) > 1 && strings.Contains(lines[0], "[select") && strings.Contains(lines[1], "handlers.(*Delivery).step(") {
			n++
		}
	}
	return n
}

// TestOrderedNeedsNoSlot: the only concurrency slot is held by a journey whose order's
// answer is on its way, and another journey is queued for the slot, its next call bound to
// hang. The order is announced all the same, at once: publishing an outcome never waits
// for a slot.
func TestOrderedNeedsNoSlot(t *testing.T) {
	e := newEnv(t)
	s := &stuckAPI{held: record.OrderID("announced"),
		unstuck: make(chan struct{}), orderSent: make(chan struct{}), orderRelease: make(chan struct{})}
	s.Installations, s.Commerce = e.Client.Installations, e.Client.Commerce
	cfg := e.Config()
	cfg.Concurrency = 1
	e.Start(e.JS, handlers.API{Installations: s, Commerce: s, Workspaces: e.Client.Workspaces}, cfg)
	t.Cleanup(func() { close(s.unstuck) }) // before the installer stops

	ordered := func(id string) func() bool {
		return func() bool {
			for _, o := range installtest.Of(e.Outcomes(), id) {
				if o.Type == subjects.Ordered() {
					return true
				}
			}
			return false
		}
	}
	// Time stands still but when the test moves it. A journey waits for its first status
	// poll, which will hang.
	e.Publish("polling", jiraOnNewSite("polling"))
	e.EventuallyStep("the first journey ordered", 0, ordered("polling"))
	// The second holds the slot until its order's answer is recorded.
	e.Publish("announced", jiraOnNewSite("announced"))
	<-s.orderSent
	// The first one's poll comes due and queues for the slot (time moves until it does: the
	// first journey records its order's answer after announcing it, and only then waits).
	e.EventuallyStep("a journey queued for the slot", cfg.PollInterval, func() bool { return queuedForSlot() == 1 })
	close(s.orderRelease)

	e.EventuallyStep("the order announced", 0, ordered("announced"))
	e.EventuallyStep("the slot held by the hanging poll", 0, func() bool { return s.stuck.Load() == 1 })
}
