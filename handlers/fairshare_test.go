package handlers_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/record"
	"github.com/procurement/atlassian-installer/internal/natstest"
)

// TestBacklogSharedOut: two installers on one server and a backlog whose look-ups hang.
// Each takes only as many requests as it has slots for, so both hold work, neither holds
// requests it cannot begin, and the rest of the backlog stays on the server for whichever
// instance has room first.
func TestBacklogSharedOut(t *testing.T) {
	e := newEnv(t, atlassiantest.WithFault(atlassiantest.EndpointEntitlementDetails, atlassiantest.Fault{Latency: time.Hour}))
	const n, slots = 20, 2
	var delivered [2]counter
	var begun [2]atomic.Int32
	for i := range 2 {
		cfg := e.Config()
		cfg.Concurrency = slots
		cfg.Middleware = []handlers.Middleware{delivered[i].middleware}
		cfg.Observe = func(ctx context.Context, s handlers.StepInfo) (context.Context, func(error)) {
			if s.Name == record.StepNameLookup {
				begun[i].Add(1)
			}
			return ctx, func(error) {}
		}
		_, js := natstest.Connect(t, e.Server)
		e.Start(js, handlers.ClientAPI(e.Client), cfg)
	}
	for i := range n {
		id := fmt.Sprintf("backlog-%02d", i)
		e.Publish(id, jiraOnNewSite(id))
	}
	t.Cleanup(func() { // before the installers stop: the look-ups answer
		e.Sandbox.ClearFaults()
		e.Clock.Advance(time.Hour)
	})

	e.Eventually("every slot of both instances on a look-up", func() bool {
		return begun[0].Load() == slots && begun[1].Load() == slots
	})
	for i := range 2 {
		if got := delivered[i].total(); got != slots {
			t.Errorf("instance %d holds %d requests with %d slots", i, got, slots)
		}
	}
	info := e.consumerInfo()
	if info.NumAckPending != 2*slots || info.NumPending != n-2*slots {
		t.Errorf("%d requests held and %d left on the server, want %d and %d", info.NumAckPending, info.NumPending, 2*slots, n-2*slots)
	}
}
