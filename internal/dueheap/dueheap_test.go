package dueheap

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// drain pops every item and returns their values in the order popped.
func drain(t *testing.T, h *Heap[int]) []int {
	t.Helper()
	var vs []int
	for h.Len() > 0 {
		it := h.Pop()
		if it.Queued() {
			t.Fatalf("popped item %d is still queued", it.Value)
		}
		vs = append(vs, it.Value)
	}
	return vs
}

func TestOrderByTimeThenPush(t *testing.T) {
	var h Heap[int]
	at := []time.Duration{3, 1, 2, 1, 3, 0, 1}
	for i, d := range at {
		h.Push(&Item[int]{Value: i}, epoch.Add(d*time.Second))
	}
	if got, want := drain(t, &h), []int{5, 1, 3, 6, 2, 0, 4}; !slices.Equal(got, want) {
		t.Fatalf("popped %v, want %v", got, want)
	}
	if h.Pop() != nil || h.Peek() != nil {
		t.Fatal("an empty heap gave an item")
	}
}

func TestRemove(t *testing.T) {
	var h Heap[int]
	items := make([]*Item[int], 6)
	for i := range items {
		items[i] = &Item[int]{Value: i}
		h.Push(items[i], epoch.Add(time.Duration(i%3)*time.Second))
	}
	if !h.Remove(items[0]) || !h.Remove(items[4]) {
		t.Fatal("Remove of a queued item reported false")
	}
	if items[0].Queued() || h.Remove(items[0]) {
		t.Fatal("a removed item is still queued")
	}
	if got, want := drain(t, &h), []int{3, 1, 2, 5}; !slices.Equal(got, want) {
		t.Fatalf("popped %v, want %v", got, want)
	}
	for _, it := range items {
		if it.Queued() {
			t.Fatalf("item %d still queued after the heap emptied", it.Value)
		}
	}
}

func TestMoveKeepsPushOrder(t *testing.T) {
	var h Heap[int]
	a, b, c := &Item[int]{Value: 0}, &Item[int]{Value: 1}, &Item[int]{Value: 2}
	h.Push(a, epoch)
	h.Push(b, epoch.Add(2*time.Second))
	h.Push(c, epoch.Add(3*time.Second))
	h.Move(a, epoch.Add(3*time.Second)) // later, but pushed before c
	if got := h.Peek(); got != b {
		t.Fatalf("earliest is %d, want 1", got.Value)
	}
	h.Move(c, epoch.Add(time.Second)) // earlier
	if got, want := drain(t, &h), []int{2, 1, 0}; !slices.Equal(got, want) {
		t.Fatalf("popped %v, want %v", got, want)
	}
	if !a.At().Equal(epoch.Add(3 * time.Second)) {
		t.Fatalf("a is due at %v", a.At())
	}
}

func TestPushOfQueuedItemPanics(t *testing.T) {
	var h Heap[int]
	it := &Item[int]{}
	h.Push(it, epoch)
	defer func() {
		if recover() == nil {
			t.Fatal("a second Push did not panic")
		}
	}()
	h.Push(it, epoch)
}

// TestAgainstSort pushes, removes and moves items at random and checks that the heap pops
// them as a sort by (due instant, push order) of those left would.
func TestAgainstSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var h Heap[int]
		var live []*Item[int]
		order := map[*Item[int]]int{} // push order
		for i := range 200 {
			switch op := r.IntN(4); {
			case op < 2 || len(live) == 0:
				it := &Item[int]{Value: i}
				h.Push(it, epoch.Add(time.Duration(r.IntN(20))*time.Second))
				order[it] = i
				live = append(live, it)
			case op == 2:
				k := r.IntN(len(live))
				if !h.Remove(live[k]) {
					t.Fatal("Remove of a queued item reported false")
				}
				live = slices.Delete(live, k, k+1)
			default:
				h.Move(live[r.IntN(len(live))], epoch.Add(time.Duration(r.IntN(20))*time.Second))
			}
		}
		slices.SortFunc(live, func(a, b *Item[int]) int {
			if c := a.At().Compare(b.At()); c != 0 {
				return c
			}
			return order[a] - order[b]
		})
		for _, want := range live {
			if got := h.Pop(); got != want {
				t.Fatalf("popped %d, want %d", got.Value, want.Value)
			}
		}
		if h.Len() != 0 {
			t.Fatalf("%d items left", h.Len())
		}
	}
}
