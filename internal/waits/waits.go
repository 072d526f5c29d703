// Package waits holds things that wait for a time, tens of thousands of them, at the cost
// of one timer: a heap ordered by due time, and a single clock.AfterFunc armed for the
// earliest. Nothing that waits holds a goroutine; each is handed to a dispatch function
// when it is due, and all of them at once when the queue is drained.
package waits

import (
	"container/heap"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// Queue holds values of T until they are due on its clock. It is safe for concurrent use.
type Queue[T any] struct {
	clock    clockwork.Clock
	dispatch func(T)

	mu      sync.Mutex
	items   itemHeap[T]
	seq     uint64          // orders values due at the same instant by arrival
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
	q.seq++
	heap.Push(&q.items, &item[T]{at: at, seq: q.seq, v: v})
	if q.timer == nil || at.Before(q.armedAt) {
		q.arm(at)
	}
	return true
}

// Len is the number of values waiting.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
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
	vs := make([]T, 0, len(q.items))
	for len(q.items) > 0 {
		vs = append(vs, heap.Pop(&q.items).(*item[T]).v)
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
	for len(q.items) > 0 && !q.items[0].at.After(now) {
		v := heap.Pop(&q.items).(*item[T]).v
		go q.dispatch(v)
	}
	if len(q.items) == 0 {
		if q.timer != nil {
			q.timer.Stop()
		}
		q.timer = nil
		return
	}
	q.arm(q.items[0].at)
}

type item[T any] struct {
	at  time.Time
	seq uint64
	v   T
}

// itemHeap orders items by due instant, then by arrival.
type itemHeap[T any] []*item[T]

func (h itemHeap[T]) Len() int { return len(h) }

func (h itemHeap[T]) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}

func (h itemHeap[T]) Swap(i, j int) { h[i], h[j] = h[j], h[i] }

func (h *itemHeap[T]) Push(x any) { *h = append(*h, x.(*item[T])) }

func (h *itemHeap[T]) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}
