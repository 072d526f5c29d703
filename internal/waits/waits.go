// Package waits holds things that wait for a time, tens of thousands of them, at the cost
// of one timer: a heap ordered by due time, and a single clock.AfterFunc armed for the
// earliest. Nothing that waits holds a goroutine; each is handed to a dispatch function
// when it is due, and all of them at once when the queue is drained.
package waits

import (
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/procurement/atlassian-installer/internal/dueheap"
)

// Queue holds values of T until they are due on its clock. It is safe for concurrent use.
type Queue[T any] struct {
	clock    clockwork.Clock
	dispatch func(T)

	mu      sync.Mutex
	items   dueheap.Heap[T] // by due instant, then by arrival
	timer   clockwork.Timer // armed for the earliest, nil when none is
	armedAt time.Time
	drained bool
}

// New returns a queue on clock that calls dispatch with each value once it is due, each in
// a goroutine of its own (dispatch may block), handed over in order of due time, then of
// arrival.
func New[T any](clock clockwork.Clock, dispatch func(T)) *Queue[T] {
	return &Queue[T]{clock: clock, dispatch: dispatch}
}

// After holds v until d has passed on the clock; at once when d <= 0. It reports false,
// keeping nothing, once the queue is drained: the caller then deals with v itself.
func (q *Queue[T]) After(d time.Duration, v T) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.drained {
		return false
	}
	at := q.clock.Now().Add(d)
	q.items.Push(&dueheap.Item[T]{Value: v}, at)
	if q.timer == nil || at.Before(q.armedAt) {
		q.arm(at)
	}
	return true
}

// Len is the number of values waiting.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.items.Len()
}

// Drain stops the queue and returns every value still waiting, in due order. Values already
// handed to dispatch are not among them, and After refuses new ones.
func (q *Queue[T]) Drain() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.drained = true
	if q.timer != nil {
		q.timer.Stop()
		q.timer = nil
	}
	vs := make([]T, 0, q.items.Len())
	for q.items.Len() > 0 {
		vs = append(vs, q.items.Pop().Value)
	}
	return vs
}

// arm replaces the timer with one for at. The caller holds q.mu.
func (q *Queue[T]) arm(at time.Time) {
	if q.timer != nil {
		q.timer.Stop() // one that fired already finds nothing more due, or re-arms
	}
	q.timer, q.armedAt = q.clock.AfterFunc(at.Sub(q.clock.Now()), q.fire), at
}

// fire dispatches every value due by now and arms the timer for the next.
func (q *Queue[T]) fire() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.drained {
		return
	}
	now := q.clock.Now()
	for it := q.items.Peek(); it != nil && !it.At().After(now); it = q.items.Peek() {
		q.items.Pop()
		go q.dispatch(it.Value)
	}
	next := q.items.Peek()
	if next == nil {
		if q.timer != nil {
			q.timer.Stop()
		}
		q.timer = nil
		return
	}
	q.arm(next.At())
}
