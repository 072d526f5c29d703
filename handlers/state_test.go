package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/record"
)

func TestNewInstallerRejectsBadConfig(t *testing.T) {
	e := newEnv(t)
	for name, mutate := range map[string]func(*handlers.Config, *handlers.API){
		"no commerce":       func(_ *handlers.Config, a *handlers.API) { a.Commerce = nil },
		"concurrency":       func(c *handlers.Config, _ *handlers.API) { c.Concurrency = -1 },
		"ack wait":          func(c *handlers.Config, _ *handlers.API) { c.AckWait = 10 },
		"max poll interval": func(c *handlers.Config, _ *handlers.API) { c.MaxPollInterval = c.PollInterval / 2 },
		"replicas":          func(c *handlers.Config, _ *handlers.API) { c.Replicas = 7 },
		// The order's retry policy names the field it refuses.
		"OrderRetry.CallTimeout": func(c *handlers.Config, _ *handlers.API) { c.OrderRetry.CallTimeout = -time.Second },
		"OrderRetry.Attempts":    func(c *handlers.Config, _ *handlers.API) { c.OrderRetry.Attempts = -1 },
		"OrderRetry.MaxBackoff":  func(c *handlers.Config, _ *handlers.API) { c.OrderRetry.Backoff = time.Hour },
		"OrderRetry.MaxWait":     func(c *handlers.Config, _ *handlers.API) { c.OrderRetry.MaxWait = c.PollInterval / 2 },
	} {
		cfg, api := e.Config(), handlers.ClientAPI(e.Client)
		mutate(&cfg, &api)
		_, err := handlers.NewInstaller(e.JS, api, cfg)
		if !errors.Is(err, handlers.ErrInvalidOption) {
			t.Errorf("%s: %v, want ErrInvalidOption", name, err)
		}
		if strings.HasPrefix(name, "OrderRetry.") && !strings.Contains(fmt.Sprint(err), name+" ") {
			t.Errorf("%v does not name %s", err, name)
		}
	}
}

func TestReadyFollowsRun(t *testing.T) {
	e := newEnv(t)
	i := e.StartDefault()
	if !i.Ready() {
		t.Fatal("not ready while running")
	}
	i.Stop(t)
	if i.Ready() {
		t.Error("ready after Run returned")
	}
	if err := i.Run(context.Background()); err == nil {
		t.Error("a second Run succeeded")
	}
}

// TestStateWritesPerJourney: a journey that goes the happy way writes its state four times:
// the provisioning about to be sent, with the look-ups' answers and the order that follows
// it; the answers of both; that ordered was published; and the outcome. Each write to the
// journeys bucket's stream takes one sequence number.
func TestStateWritesPerJourney(t *testing.T) {
	e := newEnv(t)
	e.StartDefault()
	const journeys = 3
	for i := range journeys {
		id := fmt.Sprintf("writes-%d", i)
		e.Publish(id, jiraOnNewSite(id))
		if term := e.Terminal(id); term.Type != subjects.Provisioned() {
			t.Fatalf("%s %v", term.Type, term.Data)
		}
	}
	e.Settled()
	s, err := e.JS.Stream(context.Background(), "KV_"+record.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := info.State.LastSeq; got != 4*journeys {
		t.Errorf("%d state writes for %d journeys, want %d", got, journeys, 4*journeys)
	}
}
