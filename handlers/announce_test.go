package handlers_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// stuckAPI holds the answer of the first order until released; from then on, every look-up
// of entitlement details hangs until unstuck, as an API that stopped answering.
type stuckAPI struct {
	handlers.Commerce
	stuck        atomic.Int32 // look-ups hanging
	unstuck      chan struct{}
	orderSent    chan struct{}
	orderRelease chan struct{}
	orders       atomic.Int32
}

func (s *stuckAPI) GetEntitlementDetails(ctx context.Context, id string) (*client.EntitlementDetails, *client.Response, error) {
	if s.orders.Load() > 0 {
		s.stuck.Add(1)
		select {
		case <-s.unstuck:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	return s.Commerce.GetEntitlementDetails(ctx, id)
}

func (s *stuckAPI) CreateOrder(ctx context.Context, req *client.OrderRequest) (*client.OrderResponse, *client.Response, error) {
	resp, r, err := s.Commerce.CreateOrder(ctx, req)
	if s.orders.Add(1) == 1 {
		close(s.orderSent)
		<-s.orderRelease
	}
	return resp, r, err
}

// TestOrderedNeedsNoSlot: every concurrency slot is held by journeys whose API calls hang
// when an order's answer is recorded; the order is announced all the same, at once, since
// publishing an outcome never waits for a slot.
func TestOrderedNeedsNoSlot(t *testing.T) {
	e := newEnv(t)
	s := &stuckAPI{unstuck: make(chan struct{}), orderSent: make(chan struct{}), orderRelease: make(chan struct{})}
	s.Commerce = e.Client.Commerce
	cfg := e.Config()
	cfg.Concurrency = 2
	e.Start(e.JS, handlers.API{Installations: e.Client.Installations, Commerce: s, Workspaces: e.Client.Workspaces}, cfg)
	t.Cleanup(func() { close(s.unstuck) }) // before the installer stops

	e.Publish("announced", jiraOnNewSite("announced"))
	<-s.orderSent // the journey holds a slot until the order's answer is recorded
	// One journey takes the other slot and hangs; the next one waits for a slot (it queued
	// for one before the installer fetched only what it had slots for: the order was then
	// never announced).
	e.Publish("stuck-1", jiraOnNewSite("stuck-1"))
	e.Publish("stuck-2", jiraOnNewSite("stuck-2"))
	e.Eventually("the other slot hung", func() bool { return s.stuck.Load() == 1 })
	close(s.orderRelease)

	e.Eventually("the order announced", func() bool {
		for _, o := range installtest.Of(e.Outcomes(), "announced") {
			if o.Type == subjects.Ordered() {
				return true
			}
		}
		return false
	})
	e.Eventually("every slot held by a hanging journey", func() bool { return s.stuck.Load() == 2 })
}
