package journeysim

import (
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/procurement/atlassian-installer/internal/dueheap"
)

var _ clockwork.Clock = (*Clock)(nil)

// Clock is the simulation's time: one goroutine owns it, and it moves only when the
// simulation advances it (AdvanceTo) or when code under test blocks on it (Sleep, After),
// which in a world of one goroutine can only mean that the time passes. Timers and
// AfterFunc fire in the advancing goroutine, in the order they are due (then created), so
// that a run is the same at every replay. It is not safe for concurrent use.
type Clock struct {
	now    time.Time
	timers dueheap.Heap[*timer] // by due instant, then by creation
}

// NewClock returns a clock that reads start until it moves.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now is the simulated time.
func (c *Clock) Now() time.Time { return c.now }

// Since is the simulated time elapsed since t.
func (c *Clock) Since(t time.Time) time.Duration { return c.now.Sub(t) }

// Until is the simulated time left until t.
func (c *Clock) Until(t time.Time) time.Duration { return t.Sub(c.now) }

// Sleep moves the clock d: the caller is the only goroutine, so the time passes.
func (c *Clock) Sleep(d time.Duration) { c.AdvanceTo(c.now.Add(d)) }

// After moves the clock d and returns a channel that holds the time then, as a wait on
// it would have seen.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.Sleep(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// NewTimer returns a timer that fires once the clock has moved d.
func (c *Clock) NewTimer(d time.Duration) clockwork.Timer {
	t := newTimer(c, make(chan time.Time, 1), nil, 0)
	c.schedule(t, d)
	return t
}

// AfterFunc runs f, in the goroutine that advances the clock, once it has moved d; at
// once when d <= 0.
func (c *Clock) AfterFunc(d time.Duration, f func()) clockwork.Timer {
	t := newTimer(c, nil, f, 0)
	c.schedule(t, d)
	return t
}

// NewTicker returns a ticker that ticks every d.
func (c *Clock) NewTicker(d time.Duration) clockwork.Ticker {
	if d <= 0 {
		panic("journeysim: non-positive interval for NewTicker")
	}
	t := newTimer(c, make(chan time.Time, 1), nil, d)
	c.schedule(t, d)
	return ticker{t}
}

// Next is when the earliest timer is due, and whether there is one.
func (c *Clock) Next() (time.Time, bool) {
	it := c.timers.Peek()
	if it == nil {
		return time.Time{}, false
	}
	return it.At(), true
}

// AdvanceTo moves the clock to t (never back), firing every timer due by then at its own
// instant.
func (c *Clock) AdvanceTo(t time.Time) {
	for it := c.timers.Peek(); it != nil && !it.At().After(t); it = c.timers.Peek() {
		tm := it.Value
		c.now = it.At()
		if tm.period > 0 {
			c.timers.Move(it, c.now.Add(tm.period))
		} else {
			c.timers.Pop()
		}
		tm.fire(c.now)
	}
	if t.After(c.now) {
		c.now = t
	}
}

func (c *Clock) schedule(t *timer, d time.Duration) {
	if d <= 0 {
		t.fire(c.now)
		return
	}
	c.timers.Push(&t.item, c.now.Add(d))
}

type timer struct {
	clock  *Clock
	ch     chan time.Time
	f      func()
	period time.Duration
	item   dueheap.Item[*timer]
}

func newTimer(c *Clock, ch chan time.Time, f func(), period time.Duration) *timer {
	t := &timer{clock: c, ch: ch, f: f, period: period}
	t.item.Value = t
	return t
}

func (t *timer) fire(now time.Time) {
	if t.f != nil {
		t.f()
		return
	}
	select {
	case t.ch <- now:
	default:
	}
}

func (t *timer) Chan() <-chan time.Time { return t.ch }

func (t *timer) Stop() bool { return t.clock.timers.Remove(&t.item) }

func (t *timer) Reset(d time.Duration) bool {
	was := t.Stop()
	t.clock.schedule(t, d)
	return was
}

type ticker struct{ t *timer }

func (k ticker) Chan() <-chan time.Time { return k.t.ch }
func (k ticker) Stop()                  { k.t.Stop() }
func (k ticker) Reset(d time.Duration)  { k.t.Stop(); k.t.period = d; k.t.clock.schedule(k.t, d) }
