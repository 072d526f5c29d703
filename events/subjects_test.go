package events_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/procurement/atlassian-installer/events"
)

func TestSubjects(t *testing.T) {
	for _, tt := range []struct {
		s      events.Subjects
		prefix string
	}{
		{events.Subjects{}, "atlassian"},
		{events.NewSubjects(""), "atlassian"},
		{events.NewSubjects("atlassian"), "atlassian"},
		{events.NewSubjects("acme.tools"), "acme.tools"},
	} {
		got := []string{tt.s.Requested(), tt.s.Ordered(), tt.s.Provisioned(), tt.s.Failed(), tt.s.DeadLetter()}
		p := tt.prefix
		want := []string{p + ".install.requested", p + ".install.ordered", p + ".install.provisioned", p + ".install.failed", p + ".install.deadletter"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("prefix %q: %q, want %q", tt.s.Prefix, got, want)
		}
		if err := tt.s.Validate(); err != nil {
			t.Errorf("prefix %q: %v", tt.s.Prefix, err)
		}
		if !tt.s.IsOutcome(tt.s.Failed()) || tt.s.IsOutcome(tt.s.Requested()) {
			t.Errorf("prefix %q: IsOutcome wrong", tt.s.Prefix)
		}
	}
	for _, bad := range []string{"a..b", ".a", "a.", "a.*", "a.>", "a b", "x>"} {
		if err := events.NewSubjects(bad).Validate(); !errors.Is(err, events.ErrInvalidOption) {
			t.Errorf("prefix %q: err = %v, want ErrInvalidOption", bad, err)
		}
	}
}

func TestEventID(t *testing.T) {
	a := events.EventID("req-1", "atlassian.install.ordered")
	if a != events.EventID("req-1", "atlassian.install.ordered") {
		t.Fatal("EventID is not deterministic")
	}
	u, err := uuid.Parse(a)
	if err != nil || u.Version() != 5 || u.Variant() != uuid.RFC4122 {
		t.Fatalf("EventID %q: not an RFC 4122 UUIDv5 (%v)", a, err)
	}
	others := []string{
		events.EventID("req-1", "atlassian.install.failed"),
		events.EventID("req-2", "atlassian.install.ordered"),
		events.EventID("req-1atlassian", ".install.ordered"),
		events.EventID("", "req-1atlassian.install.ordered"),
	}
	seen := map[string]bool{a: true}
	for _, o := range others {
		if seen[o] {
			t.Errorf("EventID collision: %q", o)
		}
		seen[o] = true
	}
}
