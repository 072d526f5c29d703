// Package fakeclock is a fake clockwork.Clock for runs with tens of thousands of waiting
// timers. Its timers and tickers sit in a heap: adding, stopping or firing one costs
// O(log n). clockwork's FakeClock sorts all of its timers each time one is added or a
// ticker fires, and finds a stopped one by a linear scan, so that n journeys each waiting
// on a timer and a heartbeat ticker cost O(n² log n) per round of waits, under the lock
// every Now takes.
package fakeclock

import (
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/procurement/atlassian-installer/internal/dueheap"
)

var _ clockwork.Clock = (*Clock)(nil)

// Clock is a fake clock that moves only when Advance is called. It is safe for concurrent
// use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers dueheap.Heap[*timer] // by due instant, then by creation
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
	t := newTimer(c, make(chan time.Time, 1), nil, 0)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.schedule(t, d)
	return t
}

// AfterFunc runs f in its own goroutine once the clock has moved d; at once when d <= 0.
func (c *Clock) AfterFunc(d time.Duration, f func()) clockwork.Timer {
	t := newTimer(c, nil, f, 0)
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
	t := newTimer(c, make(chan time.Time, 1), nil, d)
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
	for it := c.timers.Peek(); it != nil && !it.At().After(end); it = c.timers.Peek() {
		t := it.Value
		c.now = it.At()
		if t.period > 0 {
			c.timers.Move(it, c.now.Add(t.period))
		} else {
			c.timers.Pop()
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
	c.timers.Push(&t.item, c.now.Add(d))
}

// unschedule takes t out of the heap and reports whether it was there. The caller holds
// c.mu.
func (c *Clock) unschedule(t *timer) bool { return c.timers.Remove(&t.item) }

// timer is a timer, an AfterFunc or, with a period, a ticker.
type timer struct {
	clock  *Clock
	c      chan time.Time // nil for an AfterFunc
	f      func()
	period time.Duration
	item   dueheap.Item[*timer] // in the clock's heap while waiting
}

func newTimer(c *Clock, ch chan time.Time, f func(), period time.Duration) *timer {
	t := &timer{clock: c, c: ch, f: f, period: period}
	t.item.Value = t
	return t
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
