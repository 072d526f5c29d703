package events_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/events"
)

func TestEnsureStreamsCreates(t *testing.T) {
	js := runJetStream(t)
	ctx := context.Background()
	s := events.NewSubjects("")
	if err := events.EnsureStreams(ctx, js, s, 1); err != nil {
		t.Fatalf("EnsureStreams: %v", err)
	}
	want := map[string][]string{
		events.StreamRequests:   {"atlassian.install.requested"},
		events.StreamEvents:     {"atlassian.install.ordered", "atlassian.install.provisioned", "atlassian.install.failed", "atlassian.install.planned"},
		events.StreamDeadLetter: {"atlassian.install.deadletter"},
	}
	for name, subjects := range want {
		st, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		cfg := st.CachedInfo().Config
		if !reflect.DeepEqual(cfg.Subjects, subjects) {
			t.Errorf("%s subjects = %q, want %q", name, cfg.Subjects, subjects)
		}
		if cfg.Storage != jetstream.FileStorage || cfg.Replicas != 1 {
			t.Errorf("%s storage %v replicas %d", name, cfg.Storage, cfg.Replicas)
		}
		if name != events.StreamDeadLetter && cfg.Duplicates != events.DuplicateWindow {
			t.Errorf("%s duplicate window = %v, want %v", name, cfg.Duplicates, events.DuplicateWindow)
		}
	}
	// A second call, and several at once, change nothing and fail nothing.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- events.EnsureStreams(ctx, js, s, 1) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("repeated EnsureStreams: %v", err)
		}
	}
}

func TestEnsureStreamsConcurrentFirstCalls(t *testing.T) {
	js := runJetStream(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- events.EnsureStreams(context.Background(), js, events.Subjects{}, 1) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("EnsureStreams: %v", err)
		}
	}
}

func TestEnsureStreamsKeepsExisting(t *testing.T) {
	js := runJetStream(t)
	ctx := context.Background()
	s := events.NewSubjects("acme.atl")
	// An operator's tuned events stream, with limits the installer would not choose.
	custom := jetstream.StreamConfig{
		Name:     events.StreamEvents,
		Subjects: s.Outcomes(),
		Storage:  jetstream.MemoryStorage,
		MaxMsgs:  1000,
	}
	if _, err := js.CreateStream(ctx, custom); err != nil {
		t.Fatal(err)
	}
	if err := events.EnsureStreams(ctx, js, s, 1); err != nil {
		t.Fatalf("EnsureStreams: %v", err)
	}
	st, err := js.Stream(ctx, events.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	if cfg.Storage != jetstream.MemoryStorage || cfg.MaxMsgs != 1000 {
		t.Errorf("existing stream changed: storage %v max msgs %d", cfg.Storage, cfg.MaxMsgs)
	}
	req, err := js.Stream(ctx, events.StreamRequests)
	if err != nil {
		t.Fatal(err)
	}
	if got := req.CachedInfo().Config.Subjects; !reflect.DeepEqual(got, []string{"acme.atl.install.requested"}) {
		t.Errorf("requests subjects with prefix = %q", got)
	}
}

func TestEnsureStreamsErrors(t *testing.T) {
	js := runJetStream(t)
	ctx := context.Background()
	if err := events.EnsureStreams(ctx, js, events.Subjects{}, 0); !errors.Is(err, events.ErrInvalidOption) {
		t.Errorf("replicas 0: %v", err)
	}
	if err := events.EnsureStreams(ctx, js, events.NewSubjects("a.*"), 1); !errors.Is(err, events.ErrInvalidOption) {
		t.Errorf("wildcard prefix: %v", err)
	}
	// Another stream already owns the request subject: a clear error, not a silent start.
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OTHER", Subjects: []string{"atlassian.>"}}); err != nil {
		t.Fatal(err)
	}
	err := events.EnsureStreams(ctx, js, events.Subjects{}, 1)
	if err == nil {
		t.Fatal("overlapping subjects: no error")
	}
	if !strings.Contains(err.Error(), events.StreamRequests) {
		t.Errorf("error %q does not name the stream", err)
	}
}

func TestMissingSubjects(t *testing.T) {
	s := events.NewSubjects("")
	for _, tc := range []struct {
		stream []string
		want   []string
	}{
		{s.Outcomes(), nil},
		{[]string{s.Ordered(), s.Provisioned(), s.Failed()}, []string{s.Planned()}}, // an older version's stream
		{[]string{"atlassian.install.*"}, nil},
		{[]string{"atlassian.>"}, nil},
		{[]string{">"}, nil},
		{[]string{"atlassian.install"}, s.Outcomes()},
		{[]string{"atlassian.install.x.>", "atlassian.*.planned", "*.install.failed"}, []string{s.Ordered(), s.Provisioned()}},
		{[]string{"atlassian.install.planned.>"}, s.Outcomes()},
		{nil, s.Outcomes()},
	} {
		if got := events.MissingSubjects(jetstream.StreamConfig{Subjects: tc.stream}, s.Outcomes()); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("stream %q: missing %q, want %q", tc.stream, got, tc.want)
		}
	}
}

// A stream without the event's subject refuses it for good (ErrSubjectNotInStream), which a
// stream that is away for now does not.
func TestPublishOutcomeSubjectNotInStream(t *testing.T) {
	js := runJetStream(t)
	ctx := context.Background()
	s := events.NewSubjects("")
	p := events.NewPublisher(js, s, "")
	if _, err := p.PublishOutcome(ctx, "req-1", s.Planned(), events.Planned{}, ""); err == nil || errors.Is(err, events.ErrSubjectNotInStream) {
		t.Errorf("no stream at all: %v, want an error other than ErrSubjectNotInStream", err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: events.StreamEvents, Subjects: []string{s.Ordered(), s.Provisioned(), s.Failed()}}); err != nil {
		t.Fatal(err)
	}
	_, err := p.PublishOutcome(ctx, "req-1", s.Planned(), events.Planned{}, "")
	if !errors.Is(err, events.ErrSubjectNotInStream) || errors.Is(err, jetstream.ErrNoStreamResponse) || !strings.Contains(err.Error(), s.Planned()) {
		t.Errorf("stream without the planned subject: %v", err)
	}
	if _, err := p.PublishOutcome(ctx, "req-1", s.Failed(), events.Failed{}, ""); err != nil {
		t.Errorf("a subject the stream takes: %v", err)
	}
}
