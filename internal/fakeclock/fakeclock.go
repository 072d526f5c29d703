// Package fakeclock is a fake clockwork.Clock for runs with tens of thousands of waiting
// timers. Its timers and tickers sit in a heap: adding, stopping or firing one costs
// O(log n). clockwork's FakeClock sorts all of its timers each time one is added or a
// ticker fires, and finds a stopped one by a linear scan, so that n journeys each waiting
// on a timer and a heartbeat ticker cost O(n² log n) per round of waits, under the lock
// every Now takes.
package fakeclock

import (
	"container/heap"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

var _ clockwork.Clock = (*Clock)(nil)

// Clock is a fake clock that moves only when Advance is called. It is safe for concurrent
// use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64 // orders timers due at the same instant by creation
	timers timerHeap
}

// New returns a clock that reads t until it is advanced.
func New(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Since returns the time elapsed since t on the clock.
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Until returns the duration until t on the clock.
func (c *Clock) Until(t time.Time) time.Duration { return t.Sub(c.Now()) }

// After returns a channel that receives the clock's time once it has moved d.
func (c *Clock) After(d time.Duration) <-chan time.Time { return c.NewTimer(d).Chan() }

// Sleep blocks until the clock has moved d.
func (c *Clock) Sleep(d time.Duration) { <-c.After(d) }

// NewTimer returns a timer that fires once the clock has moved d; at once when d <= 0.
func (c *Clock) NewTimer(d time.Duration) clockwork.Timer {
	t := &timer{clock: c, c: make(chan time.Time, 1), index: -1}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.schedule(t, d)
	return t
}

// AfterFunc runs f in its own goroutine once the clock has moved d; at once when d <= 0.
func (c *Clock) AfterFunc(d time.Duration, f func()) clockwork.Timer {
	t := &timer{clock: c, f: f, index: -1}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.schedule(t, d)
	return t
}

// NewTicker returns a ticker that ticks every d of the clock's time. It panics when
// d <= 0, as time.NewTicker does.
func (c *Clock) NewTicker(d time.Duration) clockwork.Ticker {
	if d <= 0 {
		panic("fakeclock: non-positive interval for NewTicker")
	}
	t := &timer{clock: c, c: make(chan time.Time, 1), period: d, index: -1}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.schedule(t, d)
	return &ticker{t}
}

// Advance moves the clock by d, firing in order every timer and tick due by then; each
// fires with the clock at its own instant.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	end := c.now.Add(d)
	for len(c.timers) > 0 && !c.timers[0].at.After(end) {
		t := c.timers[0]
		c.now = t.at
		if t.period > 0 {
			t.at = t.at.Add(t.period)
			heap.Fix(&c.timers, 0)
		} else {
			heap.Pop(&c.timers)
		}
		t.fire(c.now)
	}
	c.now = end
}

// schedule puts t in the heap, due d from now, or fires it at once when d <= 0 (never a
// ticker). The caller holds c.mu and t is not in the heap.
func (c *Clock) schedule(t *timer, d time.Duration) {
	if d <= 0 {
		t.fire(c.now)
		return
	}
	c.seq++
	t.at, t.seq = c.now.Add(d), c.seq
	heap.Push(&c.timers, t)
}

// unschedule takes t out of the heap and reports whether it was there. The caller holds
// c.mu.
func (c *Clock) unschedule(t *timer) bool {
	if t.index < 0 {
		return false
	}
	heap.Remove(&c.timers, t.index)
	return true
}

// timer is a timer, an AfterFunc or, with a period, a ticker.
type timer struct {
	clock  *Clock
	c      chan time.Time // nil for an AfterFunc
	f      func()
	period time.Duration
	at     time.Time
	seq    uint64
	index  int // in the heap; -1 when not waiting
}

// fire delivers now without blocking: a receiver that has not taken the last value misses
// this one, as with package time.
func (t *timer) fire(now time.Time) {
	if t.f != nil {
		go t.f()
		return
	}
	select {
	case t.c <- now:
	default:
	}
}

func (t *timer) Chan() <-chan time.Time { return t.c }

// Stop keeps the timer from firing; it reports whether it was waiting.
func (t *timer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	return t.clock.unschedule(t)
}

// Reset makes the timer fire once the clock has moved d from now; it reports whether it
// was waiting.
func (t *timer) Reset(d time.Duration) bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	waiting := t.clock.unschedule(t)
	t.clock.schedule(t, d)
	return waiting
}

// ticker is a timer with a period, behind clockwork.Ticker's methods.
type ticker struct{ t *timer }

func (k *ticker) Chan() <-chan time.Time { return k.t.c }

func (k *ticker) Stop() { k.t.Stop() }

// Reset stops the ticker and makes it tick every d from now. It panics when d <= 0, as
// time.Ticker.Reset does.
func (k *ticker) Reset(d time.Duration) {
	if d <= 0 {
		panic("fakeclock: non-positive interval for Ticker.Reset")
	}
	k.t.clock.mu.Lock()
	defer k.t.clock.mu.Unlock()
	k.t.clock.unschedule(k.t)
	k.t.period = d
	k.t.clock.schedule(k.t, d)
}

// timerHeap orders timers by due instant, then by creation; it keeps each timer's index.
type timerHeap []*timer

func (h timerHeap) Len() int { return len(h) }

func (h timerHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}

func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *timerHeap) Push(x any) {
	t := x.(*timer)
	t.index = len(*h)
	*h = append(*h, t)
}

func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}
