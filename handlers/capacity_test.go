package handlers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// TestWaitingJourneysHoldNoSlot: with two slots, many journeys wait on provisioning at
// once, and their messages, marked in progress, are never redelivered meanwhile.
func TestWaitingJourneysHoldNoSlot(t *testing.T) {
	e := newEnv(t, atlassiantest.WithProvisionDelay(2*time.Minute))
	cfg := e.Config()
	cfg.Concurrency = 2
	cfg.AckWait = 3 * time.Second // in progress every second of fake time
	cfg.MaxPollInterval = 20 * time.Second
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)

	const n = 40
	for i := range n {
		id := fmt.Sprintf("wait-%02d", i)
		e.Publish(id, jiraOnNewSite(id))
	}
	waiting := 0 // most journeys ordered and not yet ended at once
	e.EventuallyStep("every journey ordered", 100*time.Millisecond, func() bool {
		ordered, ended := 0, 0
		for _, o := range e.Outcomes() {
			switch {
			case o.Type == subjects.Ordered():
				ordered++
			case installtest.IsTerminal(o):
				ended++
			}
		}
		waiting = max(waiting, ordered-ended)
		return ordered == n
	})
	if waiting < n/2 {
		t.Errorf("at most %d journeys waited at once with %d slots", waiting, cfg.Concurrency)
	}
	t.Logf("%d journeys waited at once", waiting)
	e.EventuallyStep("every journey ended", 2*time.Second, func() bool {
		k := 0
		for _, o := range e.Outcomes() {
			if o.Type == subjects.Provisioned() {
				k++
			}
		}
		return k == n
	})
	c, err := e.JS.Consumer(context.Background(), events.StreamRequests, handlers.DefaultConsumer)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.NumRedelivered != 0 {
		t.Errorf("%d messages redelivered while their journeys waited", info.NumRedelivered)
	}
}

// TestAckWaitFollowsConfig: a process started with another AckWait changes the existing
// consumer's, so that its heartbeat (every AckWait/3) always comes before the consumer's
// ack wait ends.
func TestAckWaitFollowsConfig(t *testing.T) {
	e := newEnv(t)
	first := e.StartDefault()
	first.Stop(t)
	cfg := e.Config()
	cfg.AckWait = 2 * time.Second
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)
	stream, err := e.JS.Stream(context.Background(), events.StreamRequests)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := stream.Consumer(context.Background(), handlers.DefaultConsumer)
	if err != nil {
		t.Fatal(err)
	}
	if got := cons.CachedInfo().Config.AckWait; got != 2*time.Second {
		t.Errorf("consumer ack wait %s, want 2s", got)
	}
}
