package handlers_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
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
	info := e.consumerInfo()
	if info.NumRedelivered != 0 {
		t.Errorf("%d messages redelivered while their journeys waited", info.NumRedelivered)
	}
}

// TestOneConsumerConfiguration: a second installer configured with another AckWait and
// MaxAckPending leaves the consumer as the first created it, says so, and follows the
// consumer's: its leases last twice the consumer's ack wait, not its own.
func TestOneConsumerConfiguration(t *testing.T) {
	e := newEnv(t)
	first := e.StartDefault()
	var logs installtest.LogBuffer
	cfg := e.Config()
	cfg.AckWait, cfg.MaxAckPending = 2*time.Second, 100
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	h := newHeldCall(false)
	h.Installations, h.Commerce = e.Client.Installations, e.Client.Commerce
	e.Start(e.JS, handlers.API{Installations: h, Commerce: h, Workspaces: e.Client.Workspaces}, cfg)
	first.Stop(t) // the second installer runs the journey

	stream, err := e.JS.Stream(context.Background(), events.StreamRequests)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := stream.Consumer(context.Background(), handlers.DefaultConsumer)
	if err != nil {
		t.Fatal(err)
	}
	want := e.Config().AckWait
	if cc := cons.CachedInfo().Config; cc.AckWait != want || cc.MaxAckPending != handlers.DefaultMaxAckPending {
		t.Errorf("consumer ack wait %s, max ack pending %d; want the first installer's %s, %d", cc.AckWait, cc.MaxAckPending, want, handlers.DefaultMaxAckPending)
	}
	for _, s := range []string{"level=WARN", "ack_wait=30s configured_ack_wait=2s", "max_ack_pending=20000 configured_max_ack_pending=100", "nats consumer edit"} {
		if !strings.Contains(logs.String(), s) {
			t.Errorf("log lacks %q:\n%s", s, logs.String())
		}
	}

	e.Publish("follows", jiraOnNewSite("follows"))
	e.Eventually("provisioning sent", func() bool {
		select {
		case <-h.sent:
			return true
		default:
			return false
		}
	})
	if st := e.Journey("follows"); st.Lease.Until.Sub(st.ProvisionSentAt) != 2*want {
		t.Errorf("lease of %s, want twice the consumer's ack wait %s", st.Lease.Until.Sub(st.ProvisionSentAt), want)
	}
	close(h.release)
	if term := e.Terminal("follows"); term.Type != subjects.Provisioned() {
		t.Errorf("terminal event %s %v", term.Type, term.Data)
	}
}
