package quota

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/internal/installtest"
	"github.com/procurement/atlassian-installer/internal/natstest"
)

const org = "2e3b5c1a-org"

// instance is one installer's quota, on a connection of its own.
type instance struct {
	q      *Quota
	nc     *nats.Conn
	cancel context.CancelFunc
	done   chan struct{}
}

// start runs a quota of limits on its own connection to s.
func start(t *testing.T, s *server.Server, limits map[client.Family]int) *instance {
	t.Helper()
	nc, js := natstest.Connect(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	q, err := New(ctx, js, Config{Prefix: "atlassian", Limits: limits, Lease: time.Second, AskTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{q: q, nc: nc, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(in.done)
		_ = q.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-in.done
		_ = q.Close()
	})
	return in
}

// leader waits until one of the instances leads and returns it.
func leader(t *testing.T, ins ...*instance) *instance {
	t.Helper()
	var lead *instance
	installtest.Eventually(t, "a leader", func() bool {
		for _, in := range ins {
			if in.q.Leader() {
				lead = in
				return true
			}
		}
		return false
	})
	return lead
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), installtest.Timeout)
	t.Cleanup(cancel)
	return ctx
}

// Three instances taking turns as fast as they can stay within the quota together: over any
// run, at most a burst plus the rate times the run's length.
func TestInstancesShareTheQuota(t *testing.T) {
	s := natstest.StartServer(t)
	const perMinute = 1200 // 20 a second, a burst of 20
	limits := map[client.Family]int{client.FamilyOrders: perMinute}
	ins := []*instance{start(t, s, limits), start(t, s, limits), start(t, s, limits)}
	leader(t, ins...)

	var turns atomic.Int64
	perInstance := make([]atomic.Int64, len(ins))
	begin := time.Now()
	run := 2 * time.Second
	var wg sync.WaitGroup
	for i, in := range ins {
		for range 8 {
			wg.Go(func() {
				for time.Since(begin) < run {
					if err := in.q.Wait(ctxT(t), client.Turn{Org: org, Family: client.FamilyOrders}); err != nil {
						t.Error(err)
						return
					}
					turns.Add(1)
					perInstance[i].Add(1)
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(begin)
	allowed := perMinute/60 + int64(elapsed.Seconds()*perMinute/60)
	got := turns.Load()
	t.Logf("%d turns in %s (pace %.1f/s, quota %d/s); per instance %d %d %d", got, elapsed.Round(time.Millisecond),
		float64(got)/elapsed.Seconds(), perMinute/60, perInstance[0].Load(), perInstance[1].Load(), perInstance[2].Load())
	if got > allowed {
		t.Errorf("%d turns in %s, more than the quota's %d", got, elapsed, allowed)
	}
	for i := range perInstance {
		if perInstance[i].Load() == 0 {
			t.Errorf("instance %d got no turn", i)
		}
	}
}

// Each organization has a quota of its own, and an unlimited family never asks the leader.
func TestQuotaPerOrganization(t *testing.T) {
	s := natstest.StartServer(t)
	in := start(t, s, map[client.Family]int{client.FamilyOrders: 60}) // a turn a second, no burst
	leader(t, in)
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(ctxT(t), 500*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	for _, o := range []string{"org-a", "org-b"} {
		if err := in.q.Wait(ctxT(t), client.Turn{Org: o, Family: client.FamilyOrders}); err != nil {
			t.Fatalf("%s: first turn: %v", o, err)
		}
	}
	if err := in.q.Wait(short(), client.Turn{Org: "org-a", Family: client.FamilyOrders}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("org-a's second turn within 500ms: %v, want DeadlineExceeded", err)
	}
	if err := in.q.Wait(ctxT(t), client.Turn{Org: "org-b", Family: client.FamilyOrders}); err != nil {
		t.Errorf("org-b's second turn: %v", err)
	}
	for range 100 {
		if err := in.q.Wait(short(), client.Turn{Org: "org-a", Family: client.FamilyInstallations}); err != nil {
			t.Fatal(err)
		}
	}
}

// A turn that cannot come before the caller's deadline is refused at once, not at the
// deadline: a journey that cannot have its order's turn in time provisions nothing.
func TestTurnAfterDeadlineRefusedAtOnce(t *testing.T) {
	s := natstest.StartServer(t)
	in := start(t, s, map[client.Family]int{client.FamilyOrders: 6}) // a turn every 10s
	leader(t, in)
	if err := in.q.Wait(ctxT(t), client.Turn{Org: org, Family: client.FamilyOrders, Priority: client.PriorityCreate}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctxT(t), 5*time.Second)
	defer cancel()
	begin := time.Now()
	err := in.q.Wait(ctx, client.Turn{Org: org, Family: client.FamilyOrders, Priority: client.PriorityCreate})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if ctx.Err() != nil {
		t.Errorf("refused only at the deadline, after %s", time.Since(begin))
	}
}

// A 429's pause reaches every instance: the others wait it out too, and so does a held turn.
func TestPauseReachesEveryInstance(t *testing.T) {
	s := natstest.StartServer(t)
	limits := map[client.Family]int{client.FamilyOrders: 6000}
	a, b := start(t, s, limits), start(t, s, limits)
	leader(t, a, b)
	const pause = 700 * time.Millisecond
	begin := time.Now()
	a.q.Pause(org, client.FamilyOrders, pause)
	installtest.Eventually(t, "the pause to reach the other instance", func() bool {
		return b.q.pausedFor(lane{org, client.FamilyOrders}) > 0
	})
	for _, turn := range []client.Turn{{Org: org, Family: client.FamilyOrders}, {Org: org, Family: client.FamilyOrders, Held: true}} {
		if err := b.q.Wait(ctxT(t), turn); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(begin); waited < pause {
			t.Errorf("turn %+v came %s after a pause of %s", turn, waited, pause)
		}
	}
	// Another organization is not paused.
	if err := b.q.Wait(ctxT(t), client.Turn{Org: "other", Family: client.FamilyOrders}); err != nil {
		t.Fatal(err)
	}
}

// A leader that dies (its connection lost, its lease no longer renewed) is replaced within
// about a lease, and the others get their turns from the new leader.
func TestDeadLeaderReplaced(t *testing.T) {
	s := natstest.StartServer(t)
	limits := map[client.Family]int{client.FamilyOrders: 6000}
	ins := []*instance{start(t, s, limits), start(t, s, limits), start(t, s, limits)}
	old := leader(t, ins...)
	old.nc.Close() // a crash: nothing is given up
	var rest []*instance
	for _, in := range ins {
		if in != old {
			rest = append(rest, in)
		}
	}
	begin := time.Now()
	if err := rest[0].q.Wait(ctxT(t), client.Turn{Org: org, Family: client.FamilyOrders}); err != nil {
		t.Fatal(err)
	}
	t.Logf("first turn %s after the leader died (lease 1s)", time.Since(begin).Round(time.Millisecond))
	if l := leader(t, rest...); l == old {
		t.Fatal("the dead instance still leads")
	}
	// A leader that stops gracefully gives its lease up: another leads at once.
	l := leader(t, rest...)
	l.cancel()
	<-l.done
	other := rest[0]
	if other == l {
		other = rest[1]
	}
	begin = time.Now()
	if err := other.q.Wait(ctxT(t), client.Turn{Org: org, Family: client.FamilyOrders}); err != nil {
		t.Fatal(err)
	}
	t.Logf("first turn %s after the leader stopped", time.Since(begin).Round(time.Millisecond))
}

// Without limits (INSTALLER_API_RATE_LIMITS=off) no call waits, with no leader at all.
func TestNoLimits(t *testing.T) {
	_, _, js := natstest.RunServer(t)
	q, err := New(ctxT(t), js, Config{Prefix: "atlassian"})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	for range 1000 {
		if err := q.Wait(ctxT(t), client.Turn{Org: org, Family: client.FamilyOrders, Priority: client.PriorityCreate}); err != nil {
			t.Fatal(err)
		}
	}
}

// Order creation comes before reads across instances: a creation asked of one instance while
// another's reads fill the queue gets one of the next turns, not the turn after every read.
func TestCreationBeforeReads(t *testing.T) {
	s := natstest.StartServer(t)
	limits := map[client.Family]int{client.FamilyOrders: 600} // 10 a second
	reader, creator := start(t, s, limits), start(t, s, limits)
	leader(t, reader, creator)
	ctx, cancel := context.WithCancel(ctxT(t))
	var reads atomic.Int64
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	const readers = 30 // three seconds of turns queued
	for range readers {
		wg.Go(func() {
			for ctx.Err() == nil {
				if reader.q.Wait(ctx, client.Turn{Org: org, Family: client.FamilyOrders}) == nil {
					reads.Add(1)
				}
			}
		})
	}
	// The burst is spent: every reader has asked at least once.
	installtest.Eventually(t, "every reader's first turn", func() bool { return reads.Load() >= readers })
	for i := range 3 {
		before := reads.Load()
		if err := creator.q.Wait(ctxT(t), client.Turn{Org: org, Family: client.FamilyOrders, Priority: client.PriorityCreate}); err != nil {
			t.Fatal(err)
		}
		// The reads answered while the request was on its way, at most: far fewer than the
		// queue, which order of arrival alone would serve first.
		if between := reads.Load() - before; between > 5 {
			t.Errorf("creation %d: %d reads were served before it, of %d queued", i, between, readers)
		}
	}
}
