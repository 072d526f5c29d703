package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
)

var subjects = events.NewSubjects("")

// request is the cookbook's commonest journey: a new site with Jira Software under an
// Enterprise parent, billing read from the parent's entitlement details. Its journey makes
// five Atlassian calls when nothing waits: entitlement details, provisioning, the order,
// one provisioning status and one order read.
func request(site string) *events.Request {
	return &events.Request{
		OrgID:      atlassiantest.OrgID,
		AdminEmail: "admin@acme.example",
		Site:       &events.Site{Name: site, Create: true, Timezone: "Australia/Sydney"},
		Products: []events.Product{{
			OfferingID:          atlassiantest.JiraOfferingID,
			Family:              events.FamilyJira,
			Location:            "us",
			ChargeElement:       "user",
			Quantity:            100,
			ParentEntitlementID: atlassiantest.JiraParentEntitlementID,
		}},
	}
}

// requestMsg is request i of a run as a binary-mode CloudEvent, as a procurement system
// publishes it; its id (the request id) is run-i.
func requestMsg(run string, i int, at time.Time) (*nats.Msg, string, error) {
	id := fmt.Sprintf("%s-%06d", run, i)
	ev := cloudevents.NewEvent()
	ev.SetID(id)
	ev.SetSource("urn:bench:procurement")
	ev.SetType(subjects.Requested())
	ev.SetTime(at)
	if err := ev.SetData(cloudevents.ApplicationJSON, request(fmt.Sprintf("%s-%d", run, i))); err != nil {
		return nil, "", err
	}
	m, err := events.ToNATS(subjects.Requested(), &ev)
	return m, id, err
}

// requestMsgs builds n requests ahead of a measurement, so that building them is not
// measured.
func requestMsgs(run string, n int) ([]*nats.Msg, []string, error) {
	msgs, ids := make([]*nats.Msg, n), make([]string, n)
	now := time.Now()
	for i := range n {
		m, id, err := requestMsg(run, i, now)
		if err != nil {
			return nil, nil, err
		}
		msgs[i], ids[i] = m, id
	}
	return msgs, ids, nil
}

// tracker is the procurement side's view of outcomes: when each request was published and
// when its terminal event arrived (a plain subscription to the outcome subjects).
type tracker struct {
	mu       sync.Mutex
	sentAt   map[string]time.Time
	latency  map[string]time.Duration
	ordered  atomic.Int64
	failed   atomic.Int64
	lastFail string
	// done receives each request id once, when its terminal event arrives.
	done chan string
	subs []*nats.Subscription
}

func newTracker(nc *nats.Conn, capacity int) (*tracker, error) {
	t := &tracker{
		sentAt:  make(map[string]time.Time, capacity),
		latency: make(map[string]time.Duration, capacity),
		done:    make(chan string, capacity),
	}
	for _, subj := range []string{subjects.Ordered(), subjects.Provisioned(), subjects.Failed()} {
		sub, err := nc.Subscribe(subj, t.receive)
		if err != nil {
			t.close()
			return nil, err
		}
		_ = sub.SetPendingLimits(-1, -1)
		t.subs = append(t.subs, sub)
	}
	return t, nc.Flush()
}

func (t *tracker) close() {
	for _, s := range t.subs {
		_ = s.Unsubscribe()
	}
}

// sent records the moment a request is handed to the publisher.
func (t *tracker) sent(id string) {
	now := time.Now()
	t.mu.Lock()
	t.sentAt[id] = now
	t.mu.Unlock()
}

func (t *tracker) receive(m *nats.Msg) {
	now := time.Now()
	id := m.Header.Get(events.HeaderPrefix + "subject")
	if m.Subject == subjects.Ordered() {
		t.ordered.Add(1)
		return
	}
	t.mu.Lock()
	sent, known := t.sentAt[id]
	_, seen := t.latency[id]
	if known && !seen {
		t.latency[id] = now.Sub(sent)
	}
	if known && !seen && m.Subject == subjects.Failed() {
		t.failed.Add(1)
		t.lastFail = string(m.Data)
	}
	t.mu.Unlock()
	if known && !seen {
		select {
		case t.done <- id: // closedLoop reads these; it never has more than capacity
		default:
		}
	}
}

// finished is how many requests have their terminal event.
func (t *tracker) finished() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.latency)
}

// waitFinished waits until n requests have their terminal event, bounded by ctx.
func (t *tracker) waitFinished(ctx context.Context, n int) error {
	for t.finished() < n {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d journeys finished: %w", t.finished(), n, ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}

func (t *tracker) latencies() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]time.Duration, 0, len(t.latency))
	for _, d := range t.latency {
		out = append(out, d)
	}
	return out
}

// failure reports failed journeys: every journey of a scenario is expected to succeed.
func (t *tracker) failure() error {
	if n := t.failed.Load(); n > 0 {
		t.mu.Lock()
		defer t.mu.Unlock()
		return fmt.Errorf("%d journeys failed, e.g. %s", n, t.lastFail)
	}
	return nil
}

// publishAll publishes msgs without waiting for each acknowledgement, then waits for all.
func publishAll(ctx context.Context, js jetstream.JetStream, t *tracker, msgs []*nats.Msg, ids []string) error {
	var futures []jetstream.PubAckFuture
	for i, m := range msgs {
		t.sent(ids[i])
		f, err := js.PublishMsgAsync(m, jetstream.WithStallWait(time.Minute))
		if err != nil {
			return fmt.Errorf("publish %s: %w", ids[i], err)
		}
		futures = append(futures, f)
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, f := range futures {
		select {
		case err := <-f.Err():
			return fmt.Errorf("publish %s: %w", f.Msg().Header.Get(nats.MsgIdHdr), err)
		default:
		}
	}
	return nil
}

// closedLoop keeps inFlight requests outstanding: it publishes the next request each time
// one reaches its terminal event, until all msgs are done.
func closedLoop(ctx context.Context, js jetstream.JetStream, t *tracker, msgs []*nats.Msg, ids []string, inFlight int) error {
	next := 0
	publish := func() error {
		t.sent(ids[next])
		_, err := js.PublishMsgAsync(msgs[next], jetstream.WithStallWait(time.Minute))
		next++
		return err
	}
	for next < min(inFlight, len(msgs)) {
		if err := publish(); err != nil {
			return err
		}
	}
	for finished := 0; finished < len(msgs); finished++ {
		select {
		case <-t.done:
		case <-ctx.Done():
			return fmt.Errorf("%d of %d journeys finished: %w", finished, len(msgs), ctx.Err())
		}
		if next < len(msgs) {
			if err := publish(); err != nil {
				return err
			}
		}
	}
	return nil
}
