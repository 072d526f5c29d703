package waits_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/procurement/atlassian-installer/internal/fakeclock"
	"github.com/procurement/atlassian-installer/internal/installtest"
	"github.com/procurement/atlassian-installer/internal/waits"
)

var epoch = time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)

// dispatched collects what a queue dispatches, with the clock's time when it did.
type dispatched struct {
	clock *fakeclock.Clock
	mu    sync.Mutex
	at    map[string]time.Time
}

func newDispatched(c *fakeclock.Clock) *dispatched {
	return &dispatched{clock: c, at: map[string]time.Time{}}
}

func (d *dispatched) add(v string) {
	now := d.clock.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.at[v] = now
}

func (d *dispatched) get(v string) (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	at, ok := d.at[v]
	return at, ok
}

func (d *dispatched) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.at)
}

func TestDueValuesAreDispatchedOnTime(t *testing.T) {
	c := fakeclock.New(epoch)
	got := newDispatched(c)
	q := waits.New(c, got.add)
	q.After(3*time.Second, "late")
	q.After(time.Second, "early")
	q.After(time.Second, "same")
	c.Advance(500 * time.Millisecond)
	if n := q.Len(); n != 3 {
		t.Fatalf("%d values waiting after 500ms, want 3", n)
	}
	c.Advance(time.Second)
	installtest.Eventually(t, "early and same", func() bool { return got.len() == 2 })
	if _, ok := got.get("late"); ok || q.Len() != 1 {
		t.Fatalf("late dispatched early (%d waiting)", q.Len())
	}
	q.After(500*time.Millisecond, "sooner") // due before late: the timer is armed again
	c.Advance(time.Second)
	installtest.Eventually(t, "sooner", func() bool { _, ok := got.get("sooner"); return ok })
	if _, ok := got.get("late"); ok {
		t.Fatal("late dispatched early")
	}
	c.Advance(time.Second)
	installtest.Eventually(t, "late", func() bool { return got.len() == 4 })
	if at, _ := got.get("late"); at.Before(epoch.Add(3 * time.Second)) {
		t.Errorf("late dispatched at %v, before its time", at)
	}
	q.After(0, "now")
	installtest.Eventually(t, "a value due at once", func() bool { _, ok := got.get("now"); return ok })
}

func TestDrainReturnsEveryWaitingValue(t *testing.T) {
	c := fakeclock.New(epoch)
	got := newDispatched(c)
	q := waits.New(c, got.add)
	for i, d := range []time.Duration{5, 1, 3, 2, 4} {
		q.After(d*time.Second, fmt.Sprint(i))
	}
	c.Advance(time.Second)
	installtest.Eventually(t, "the first due", func() bool { return got.len() == 1 })
	vs := q.Drain()
	if fmt.Sprint(vs) != "[3 2 4 0]" {
		t.Errorf("drained %v, want [3 2 4 0] (due order, without the one dispatched)", vs)
	}
	if q.After(time.Second, "late") {
		t.Error("a drained queue took a value")
	}
	c.Advance(time.Minute)
	if got.len() != 1 || q.Len() != 0 {
		t.Errorf("after the drain: %d dispatched, %d waiting", got.len(), q.Len())
	}
}

// TestManyValuesOneTimer: thousands of values with random due times are each dispatched
// once, never before their time, and the clock holds one timer for all of them.
func TestManyValuesOneTimer(t *testing.T) {
	c := fakeclock.New(epoch)
	got := newDispatched(c)
	timers := &liveTimers{Clock: c}
	q := waits.New(timers, got.add)
	r := rand.New(rand.NewPCG(1, 2))
	due := map[string]time.Time{}
	var times []time.Time // sorted
	const n = 5000
	for i := range n {
		d := time.Duration(r.IntN(120)) * time.Second
		v := fmt.Sprint(i)
		due[v] = epoch.Add(d)
		times = append(times, epoch.Add(d))
		q.After(d, v)
	}
	slices.SortFunc(times, time.Time.Compare)
	if k, most := timers.count(); k != 1 || most != 1 {
		t.Errorf("%d timers on the clock for %d waiting values (at most %d at once), want 1", k, n, most)
	}
	for range 130 {
		c.Advance(time.Second)
		k := sort.Search(n, func(i int) bool { return times[i].After(c.Now()) })
		installtest.Eventually(t, fmt.Sprintf("%d values due by %v (%d waiting)", k, c.Now(), q.Len()), func() bool { return got.len() == k })
	}
	for v, at := range due {
		if d, _ := got.get(v); d.Before(at) {
			t.Fatalf("%s dispatched at %v, due %v", v, d, at)
		}
	}
}

// liveTimers counts the AfterFunc timers waiting on a clock: made, neither stopped nor fired.
type liveTimers struct {
	*fakeclock.Clock
	mu         sync.Mutex
	live, most int
}

func (c *liveTimers) AfterFunc(d time.Duration, f func()) clockwork.Timer {
	c.add(1)
	return stopCounted{c.Clock.AfterFunc(d, func() { c.add(-1); f() }), c}
}

func (c *liveTimers) add(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live += n
	c.most = max(c.most, c.live)
}

func (c *liveTimers) count() (live, most int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live, c.most
}

type stopCounted struct {
	clockwork.Timer
	c *liveTimers
}

func (s stopCounted) Stop() bool {
	stopped := s.Timer.Stop()
	if stopped {
		s.c.add(-1)
	}
	return stopped
}

// BenchmarkQueue is the cost of one wait in a queue of many (one heap entry).
func BenchmarkQueue(b *testing.B) {
	q := waits.New(fakeclock.New(epoch), func(int) {})
	b.ReportAllocs()
	for i := range b.N {
		q.After(time.Duration(i%600)*time.Second, i)
	}
}

// BenchmarkAfterFuncEach is the cost of one wait as a timer of its own on the real clock.
func BenchmarkAfterFuncEach(b *testing.B) {
	ts := make([]*time.Timer, 0, b.N)
	b.ReportAllocs()
	for i := range b.N {
		ts = append(ts, time.AfterFunc(time.Hour+time.Duration(i%600)*time.Second, func() {}))
	}
	b.StopTimer()
	for _, t := range ts {
		t.Stop()
	}
}
