package quota

import (
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/client"
)

// The leader's buckets, on an injected clock: a new leader starts empty, turns follow the
// rate, order creation goes before reads whatever their age, reads before their callers give
// up, and a pause holds everything back.
func TestSchedulerOrder(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	s := newScheduler(map[client.Family]int{client.FamilyOrders: 600}, t0) // every 100ms, burst 10
	l := lane{org, client.FamilyOrders}
	var granted []string
	reply := func(to string, r takeReply) {
		if r.Refused {
			t.Errorf("%s refused", to)
		}
		granted = append(granted, to)
	}
	w := func(name string, p client.Priority, age time.Duration) *waiter {
		return &waiter{reply: name, priority: p, since: t0.Add(-age), expires: t0.Add(time.Hour)}
	}
	for _, x := range []*waiter{
		w("read-old", client.PriorityRead, time.Minute),
		w("read-new", client.PriorityRead, 0),
		w("create-new", client.PriorityCreate, 0),
		w("create-old", client.PriorityCreate, time.Second),
	} {
		if !s.add(l, x, t0, time.Time{}) {
			t.Fatalf("%s refused", x.reply)
		}
	}
	// Empty at the start: one turn now, then one every 100ms.
	next := s.grant(t0, nil, reply)
	if len(granted) != 1 || granted[0] != "create-old" || !next.Equal(t0.Add(100*time.Millisecond)) {
		t.Fatalf("at start: granted %v, next %s", granted, next.Sub(t0))
	}
	// Paused for a second from 50ms on: nothing until the pause ends.
	paused := map[lane]time.Time{l: t0.Add(time.Second)}
	if next := s.grant(t0.Add(100*time.Millisecond), paused, reply); len(granted) != 1 || !next.Equal(t0.Add(time.Second)) {
		t.Fatalf("paused: granted %v, next %s", granted, next.Sub(t0))
	}
	s.grant(t0.Add(time.Second), paused, reply)
	s.grant(t0.Add(1100*time.Millisecond), paused, reply)
	s.grant(t0.Add(1200*time.Millisecond), paused, reply)
	want := []string{"create-old", "create-new", "read-old", "read-new"}
	if len(granted) != len(want) {
		t.Fatalf("granted %v, want %v", granted, want)
	}
	for i := range want {
		if granted[i] != want[i] {
			t.Fatalf("granted %v, want %v", granted, want)
		}
	}
}

// A turn that cannot come before its deadline, given the calls of its priority or higher
// queued ahead of it, is refused; a waiter whose caller stopped waiting is dropped unanswered.
func TestSchedulerDeadlines(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	s := newScheduler(map[client.Family]int{client.FamilyOrders: 60}, t0) // a turn a second
	l := lane{org, client.FamilyOrders}
	for range 5 {
		s.add(l, &waiter{reply: "c", priority: client.PriorityCreate, since: t0, expires: t0.Add(time.Hour)}, t0, time.Time{})
	}
	late := &waiter{reply: "late", priority: client.PriorityCreate, since: t0, expires: t0.Add(time.Hour), deadline: t0.Add(3 * time.Second)}
	if s.add(l, late, t0, time.Time{}) {
		t.Error("a creation behind five, a turn a second, accepted with 3s to go")
	}
	gone := &waiter{reply: "gone", priority: client.PriorityCreate, since: t0.Add(-time.Hour), expires: t0.Add(500 * time.Millisecond)}
	s.add(l, gone, t0, time.Time{})
	var granted []string
	s.grant(t0.Add(time.Second), nil, func(to string, _ takeReply) { granted = append(granted, to) })
	for _, g := range granted {
		if g == "gone" {
			t.Errorf("a waiter whose caller stopped waiting was answered: %v", granted)
		}
	}
}
