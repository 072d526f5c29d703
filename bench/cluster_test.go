package main

import (
	"context"
	"testing"
	"time"
)

// TestClusterQuota runs the cluster scenario as production does: three installers on a
// three-node cluster, the sandbox enforcing the documented quotas, one installer killed
// half-way, the quota shared by the installers. It checks what the money rules ask, never how
// fast: no call refused with 429 although the dead installer's share went to the others, every
// request ended exactly once and provisioned, one order per request.
func TestClusterQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster scenario")
	}
	const n = 40
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r, err := runCluster(ctx, n, 3, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *r)
	if !r.Killed {
		t.Error("no installer was killed")
	}
	if r.RateLimited != 0 {
		t.Errorf("%d calls answered 429", r.RateLimited)
	}
	if r.Ended != n || r.Terminal != n || r.Provisioned != n {
		t.Errorf("%d of %d requests ended exactly once, %d terminal events, %d provisioned", r.Ended, n, r.Terminal, r.Provisioned)
	}
	if r.Orders != n || r.OrderIDs != n {
		t.Errorf("%d orders with %d distinct orderIds, want %d", r.Orders, r.OrderIDs, n)
	}
}
