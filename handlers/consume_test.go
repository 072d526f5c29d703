package handlers_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// TestConsumerDeletedIsCreatedAgain deletes the installer's consumer while it runs: the
// installer logs it, is not ready until it has created the consumer again, and then runs
// the next request's journey, all without Run returning.
func TestConsumerDeletedIsCreatedAgain(t *testing.T) {
	e := newEnv(t)
	var logs installtest.LogBuffer
	cfg := e.Config()
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	in := e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)

	if err := e.JS.DeleteConsumer(context.Background(), "INSTALL_REQUESTS", handlers.DefaultConsumer); err != nil {
		t.Fatal(err)
	}
	e.Eventually("the consumer created again and consumed", func() bool {
		return strings.Contains(logs.String(), "consumer created") &&
			strings.Contains(logs.String(), "consuming install requests again") && in.Ready()
	})
	if !strings.Contains(logs.String(), "not consuming: obtaining the consumer again") {
		t.Errorf("the lost consumer was not logged:\n%s", logs.String())
	}
	e.Publish("after-delete", jiraOnNewSite("after-delete"))
	if term := e.Terminal("after-delete"); term.Type != subjects.Provisioned() {
		t.Errorf("terminal event %s, want provisioned", term.Type)
	}
}

// TestPullRequestsExpireSoon reads the installer's pull requests as the server receives
// them: each expires within 5s and asks for heartbeats, so that a pull request lost with
// a NATS node is replaced within seconds, not after the 30s default.
func TestPullRequestsExpireSoon(t *testing.T) {
	e := newEnv(t)
	pulls := make(chan *nats.Msg, 64)
	sub, err := e.NC.ChanSubscribe("$JS.API.CONSUMER.MSG.NEXT.INSTALL_REQUESTS."+handlers.DefaultConsumer, pulls)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	e.StartDefault()
	select {
	case m := <-pulls:
		var req struct {
			Expires   time.Duration `json:"expires"`
			Heartbeat time.Duration `json:"idle_heartbeat"`
		}
		if err := json.Unmarshal(m.Data, &req); err != nil {
			t.Fatalf("pull request %s: %v", m.Data, err)
		}
		if req.Expires <= 0 || req.Expires > 5*time.Second || req.Heartbeat <= 0 || req.Heartbeat >= req.Expires {
			t.Errorf("pull request expires after %s with heartbeats every %s, want at most 5s with heartbeats", req.Expires, req.Heartbeat)
		}
	case <-time.After(installtest.Timeout):
		t.Fatal("no pull request")
	}
}

// TestNotReadyWhileTheConsumerCannotBeObtained deletes the requests stream, and with it
// the consumer, once another stream holds its subject: the installer cannot create them
// again, reports not ready and keeps trying on its clock without Run returning; once the
// subject is free it creates the stream and the consumer again and is ready.
func TestNotReadyWhileTheConsumerCannotBeObtained(t *testing.T) {
	e := newEnv(t)
	var logs installtest.LogBuffer
	cfg := e.Config()
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	in := e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	})

	// The requests stream moves off its subject first, so that the squatter can take it
	// before the stream is gone.
	ctx := context.Background()
	s, err := e.JS.Stream(ctx, "INSTALL_REQUESTS")
	if err != nil {
		t.Fatal(err)
	}
	sc := s.CachedInfo().Config
	sc.Subjects = []string{"elsewhere.requested"}
	if _, err := e.JS.UpdateStream(ctx, sc); err != nil {
		t.Fatal(err)
	}
	if _, err := e.JS.CreateStream(ctx, jetstream.StreamConfig{Name: "SQUATTER", Subjects: []string{subjects.Requested()}}); err != nil {
		t.Fatal(err)
	}
	if err := e.JS.DeleteStream(ctx, "INSTALL_REQUESTS"); err != nil {
		t.Fatal(err)
	}
	e.Eventually("two failed attempts to obtain the consumer", func() bool {
		return strings.Count(logs.String(), "consumer not available") >= 2
	})
	if in.Ready() {
		t.Error("ready without a consumer")
	}

	if err := e.JS.DeleteStream(ctx, "SQUATTER"); err != nil {
		t.Fatal(err)
	}
	e.Eventually("the installer consuming again", in.Ready)
	e.Publish("after-squatter", jiraOnNewSite("after-squatter"))
	if term := e.Terminal("after-squatter"); term.Type != subjects.Provisioned() {
		t.Errorf("terminal event %s, want provisioned", term.Type)
	}
}
