// Package dueheap is a min-heap of things due at an instant: the earliest first and, among
// those due at the same instant, the first pushed. Each item knows its place in the heap,
// so that it can be removed or moved to another instant in O(log n), as a stopped or reset
// timer is.
package dueheap

import "time"

// Item is a value waiting in a Heap. Its zero value is in no heap. An item is in at most one
// heap at a time and is changed only through that heap.
type Item[V any] struct {
	// Value is what waits: the item's owner when the item is part of it.
	Value V

	at  time.Time
	seq uint64 // order of pushing, among items due at the same instant
	pos int    // 1 + index in the heap; 0 when in none
}

// At is the instant the item is due.
func (it *Item[V]) At() time.Time { return it.at }

// Queued reports whether the item is in a heap.
func (it *Item[V]) Queued() bool { return it.pos > 0 }

// Heap orders items by due instant, then by the order they were pushed. Its zero value is
// an empty heap. It is not safe for concurrent use.
type Heap[V any] struct {
	items []*Item[V]
	seq   uint64
}

// Len is the number of items in the heap.
func (h *Heap[V]) Len() int { return len(h.items) }

// Peek returns the earliest item, leaving it in the heap; nil when the heap is empty.
func (h *Heap[V]) Peek() *Item[V] {
	if len(h.items) == 0 {
		return nil
	}
	return h.items[0]
}

// Push puts it in the heap, due at at, after every item already pushed that is due at the
// same instant. It panics when it is already in a heap.
func (h *Heap[V]) Push(it *Item[V], at time.Time) {
	if it.pos != 0 {
		panic("dueheap: Push of an item already in a heap")
	}
	h.seq++
	it.at, it.seq = at, h.seq
	h.items = append(h.items, it)
	it.pos = len(h.items)
	h.up(len(h.items) - 1)
}

// Pop takes the earliest item out of the heap and returns it; nil when the heap is empty.
func (h *Heap[V]) Pop() *Item[V] {
	if len(h.items) == 0 {
		return nil
	}
	it := h.items[0]
	h.removeAt(0)
	return it
}

// Remove takes it out of the heap and reports whether it was there. it must be in h or in
// no heap.
func (h *Heap[V]) Remove(it *Item[V]) bool {
	if it.pos == 0 {
		return false
	}
	h.removeAt(it.pos - 1)
	return true
}

// Move makes it, which is in h, due at at instead, keeping its place among the items due at
// the same instant as pushed. It panics when it is in no heap.
func (h *Heap[V]) Move(it *Item[V], at time.Time) {
	if it.pos == 0 {
		panic("dueheap: Move of an item in no heap")
	}
	it.at = at
	i := it.pos - 1
	if !h.down(i) {
		h.up(i)
	}
}

// removeAt takes out the item at index i.
func (h *Heap[V]) removeAt(i int) {
	last := len(h.items) - 1
	it := h.items[i]
	if i != last {
		h.swap(i, last)
	}
	h.items[last] = nil
	h.items = h.items[:last]
	it.pos = 0
	if i != last && !h.down(i) {
		h.up(i)
	}
}

func (h *Heap[V]) less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if c := a.at.Compare(b.at); c != 0 {
		return c < 0
	}
	return a.seq < b.seq
}

func (h *Heap[V]) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].pos, h.items[j].pos = i+1, j+1
}

// up moves the item at j towards the root while it is earlier than its parent.
func (h *Heap[V]) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		j = i
	}
}

// down moves the item at i towards the leaves while a child is earlier; it reports whether
// the item moved.
func (h *Heap[V]) down(i int) bool {
	n, start := len(h.items), i
	for {
		j := 2*i + 1
		if j >= n {
			break
		}
		if r := j + 1; r < n && h.less(r, j) {
			j = r
		}
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > start
}
