package client

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recordingLimiter records the turns and pauses a client asks for.
type recordingLimiter struct {
	mu     sync.Mutex
	turns  []Turn
	pauses []string
}

func (l *recordingLimiter) Wait(ctx context.Context, t Turn) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.turns = append(l.turns, t)
	return nil
}

func (l *recordingLimiter) Pause(org string, f Family, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pauses = append(l.pauses, org+"/"+string(f)+"/"+d.String())
}

// The limiter of WithLimiter sees each attempt's organization, family and priority: order
// creation first; a held turn serves the first attempt of the first call of its family only;
// a 429 with Retry-After pauses the family for the organization.
func TestWithLimiterSeesEveryTurn(t *testing.T) {
	lim := &recordingLimiter{}
	c, mux, clk := setup(t, WithLimiter(lim), WithRetry(2, time.Second))
	var n atomic.Int32
	mux.HandleFunc("/commerce/api/v2/orders", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		writeJSON(w, 200, []byte(`{"orderId":"o1"}`))
	})
	mux.HandleFunc("/commerce/api/v2/orders/o1", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, []byte(`{"orderId":"o1"}`))
	})
	ctx := ContextWithHeldTurn(ContextWithOrganization(ctxT(t), "org1"), FamilyOrders)
	var err error
	driveClock(t, clk, func() { _, _, err = c.Commerce.CreateOrder(ctx, &OrderRequest{OrderID: "o1"}) })
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Commerce.GetOrder(ctx, "o1", ""); err != nil {
		t.Fatal(err)
	}
	want := []Turn{
		{Org: "org1", Family: FamilyOrders, Priority: PriorityCreate, Held: true},
		{Org: "org1", Family: FamilyOrders, Priority: PriorityCreate},
		{Org: "org1", Family: FamilyOrders, Priority: PriorityRead},
	}
	if len(lim.turns) != len(want) {
		t.Fatalf("turns = %+v, want %+v", lim.turns, want)
	}
	for i := range want {
		if lim.turns[i] != want[i] {
			t.Errorf("turn %d = %+v, want %+v", i, lim.turns[i], want[i])
		}
	}
	if len(lim.pauses) != 1 || lim.pauses[0] != "org1/orders/3s" {
		t.Errorf("pauses = %v, want [org1/orders/3s]", lim.pauses)
	}
	if _, err := NewClient(WithLimiter(nil)); err == nil {
		t.Error("WithLimiter(nil) accepted")
	}
}

// A call that waits for a turn of the local limiter gives back what its context's wait hook
// holds, and takes it again before it is sent; a call that does not wait calls no hook.
func TestLocalLimiterCallsWaitHook(t *testing.T) {
	l := NewLocalLimiter(map[Family]int{FamilyOrders: 600}) // a turn every 100ms, burst 10
	var released, acquired atomic.Int32
	ctx := ContextWithWaitHook(ctxT(t), func() { released.Add(1) }, func() { acquired.Add(1) })
	for range 10 {
		if err := l.Wait(ctx, Turn{Family: FamilyOrders}); err != nil {
			t.Fatal(err)
		}
	}
	if released.Load() != 0 {
		t.Fatalf("the burst waited: %d releases", released.Load())
	}
	if err := l.Wait(ctx, Turn{Family: FamilyOrders}); err != nil {
		t.Fatal(err)
	}
	if released.Load() != 1 || acquired.Load() != 1 {
		t.Errorf("released %d, acquired %d, want 1 and 1", released.Load(), acquired.Load())
	}
	// A held turn takes no token, and an unlimited family never waits.
	for range 20 {
		if err := l.Wait(ctx, Turn{Family: FamilyOrders, Held: true}); err != nil {
			t.Fatal(err)
		}
		if err := l.Wait(ctx, Turn{Family: FamilyInstallations}); err != nil {
			t.Fatal(err)
		}
	}
	if released.Load() != 1 {
		t.Errorf("held or unlimited turns waited: %d releases", released.Load())
	}
}
