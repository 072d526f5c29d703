package handlers_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/record"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// retentionWait bounds the waits on the server's expiry, which runs on its real clock.
const retentionWait = 30 * time.Second

func streamMsgs(t *testing.T, js jetstream.JetStream, name string) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	return info.State.Msgs
}

func keyGone(t *testing.T, js jetstream.JetStream, bucket, key string) bool {
	t.Helper()
	kv, err := js.KeyValue(context.Background(), bucket)
	if err != nil {
		t.Fatalf("bucket %s: %v", bucket, err)
	}
	_, err = kv.Get(context.Background(), key)
	return errors.Is(err, jetstream.ErrKeyNotFound)
}

// With retention of seconds, outcomes, dead letters, acknowledged requests and the finished
// journey's state go; the compact record stays, and the same request id published again
// within the horizon is acknowledged without any Atlassian call and publishes nothing.
func TestRetention(t *testing.T) {
	e := newEnv(t)
	cfg := e.Config()
	cfg.Retention = events.Retention{Events: 2 * time.Second, DeadLetter: 2 * time.Second}
	cfg.JourneyRetention = time.Second
	cfg.DuplicateHorizon = time.Hour
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)

	req := jiraOnNewSite("retained")
	e.Publish("ret-1", req)
	if term := e.Terminal("ret-1"); term.Type != subjects.Provisioned() {
		t.Fatalf("%s %v", term.Type, term.Data)
	}
	e.Settled()
	e.PublishMsg(&nats.Msg{Subject: subjects.Requested(), Data: []byte("not a CloudEvent")})
	installtest.EventuallyWithin(t, retentionWait, "a dead letter", func() bool { return streamMsgs(t, e.JS, events.StreamDeadLetter) == 1 })

	installtest.EventuallyWithin(t, retentionWait, "outcomes, dead letters and acknowledged requests gone", func() bool {
		return streamMsgs(t, e.JS, events.StreamEvents) == 0 && streamMsgs(t, e.JS, events.StreamDeadLetter) == 0 &&
			streamMsgs(t, e.JS, events.StreamRequests) == 0
	})
	installtest.EventuallyWithin(t, retentionWait, "the finished journey's state gone", func() bool {
		return keyGone(t, e.JS, record.DefaultBucket, record.Key("ret-1"))
	})
	if keyGone(t, e.JS, record.DefaultFinishedBucket, record.Key("ret-1")) {
		t.Fatal("no compact record of the finished journey")
	}

	calls := len(e.Sandbox.Requests())
	e.publishDuplicate("ret-1", req)
	e.Settled()
	if n := len(e.Sandbox.Requests()); n != calls {
		t.Errorf("%d Atlassian calls for a request finished within the horizon", n-calls)
	}
	if n := streamMsgs(t, e.JS, events.StreamEvents); n != 0 {
		t.Errorf("%d events published again", n)
	}
	if n := len(e.OrdersOf("ret-1")); n != 1 {
		t.Errorf("%d orders", n)
	}
}

// Streams and buckets that already exist keep their configuration, and each that keeps
// messages forever is named in a warning at start-up.
func TestRetentionReportsUnlimitedStreams(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, cfg := range events.StreamConfigs(subjects, 1, events.Retention{}) {
		cfg.Retention, cfg.MaxAge = jetstream.LimitsPolicy, 0
		if _, err := e.JS.CreateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	for _, bucket := range []string{record.DefaultBucket, record.DefaultFinishedBucket} {
		if _, err := e.JS.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket}); err != nil {
			t.Fatal(err)
		}
	}
	var log installtest.LogBuffer
	cfg := e.Config()
	cfg.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)
	e.Publish("old-1", jiraOnNewSite("old"))
	if term := e.Terminal("old-1"); term.Type != subjects.Provisioned() {
		t.Fatalf("%s %v", term.Type, term.Data)
	}
	for _, want := range []string{
		"stream=" + events.StreamRequests + " missing=\"retention: limits",
		"stream=" + events.StreamEvents + " missing=\"max_age",
		"stream=" + events.StreamDeadLetter + " missing=\"max_age",
		"bucket=" + record.DefaultFinishedBucket + " missing=ttl",
		"bucket=" + record.DefaultBucket + " missing=limit_marker_ttl",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("no warning with %s in:\n%s", want, log.String())
		}
	}
	s, err := e.JS.Stream(ctx, events.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	if s.CachedInfo().Config.MaxAge != 0 {
		t.Error("an existing stream was changed")
	}
}
