package telemetry

import (
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/procurement/atlassian-installer/client"
)

func answer(id string) *client.ProvisionResponse {
	var r client.ProvisionResponse
	r.Data.StatusURL = "https://api.atlassian.com/admin/installations/v2/orgs/o/products/status/" + id
	return &r
}

// The gap is timed once per provisioning request, and answers whose order never comes are
// forgotten, so the tracker stays small whatever happens to journeys.
func TestGapTracker(t *testing.T) {
	clk := clockwork.NewFakeClock()
	g := newGapTracker(clk)
	g.answered(answer("p1"), nil)
	clk.Advance(3 * time.Millisecond)
	if d, ok := g.ordering("p1"); !ok || d != 3*time.Millisecond {
		t.Fatalf("ordering(p1) = %v, %v; want 3ms", d, ok)
	}
	if _, ok := g.ordering("p1"); ok {
		t.Fatal("a re-sent order was timed again")
	}
	if _, ok := g.ordering(""); ok {
		t.Fatal("an order without provisionRequestId was timed")
	}

	for i := range 1023 {
		g.answered(answer(fmt.Sprintf("old-%d", i)), nil)
	}
	clk.Advance(2 * gapMaxAge)
	g.answered(answer("fresh"), nil) // the 1024th: sweeps the old ones
	g.mu.Lock()
	n := len(g.at)
	g.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d answers kept after the sweep, want 1", n)
	}
	if _, ok := g.ordering("fresh"); !ok {
		t.Fatal("the fresh answer was swept")
	}
}
