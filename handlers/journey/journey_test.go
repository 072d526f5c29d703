package journey_test

import (
	"context"
	"io"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/jonboulle/clockwork"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/calls"
	"github.com/procurement/atlassian-installer/handlers/journey"
	"github.com/procurement/atlassian-installer/handlers/record"
)

var epoch = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

const pollInterval = 5 * time.Second

// world is the journey package on its own: the sandbox over HTTP and a fake clock, no NATS.
type world struct {
	t       *testing.T
	clock   *clockwork.FakeClock
	sandbox *atlassiantest.Server
	j       *journey.Journey
}

func newWorld(t *testing.T, opts ...atlassiantest.Option) *world {
	t.Helper()
	clock := clockwork.NewFakeClockAt(epoch)
	s := atlassiantest.NewServer(append([]atlassiantest.Option{atlassiantest.WithClock(clock)}, opts...)...)
	t.Cleanup(s.Close)
	c, err := s.Client(client.WithClock(clock), client.WithRetry(1, time.Second),
		client.WithRateLimit(client.FamilyOrders, 0), client.WithRateLimit(client.FamilyEntitlementDetails, 0))
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, clock: clock, sandbox: s, j: journey.New(journey.ClientAPI(c), journey.Config{
		Subjects:        events.NewSubjects(""),
		CheckOutcomes:   func(string, *events.Request) error { return nil },
		OrderWindow:     10 * time.Minute,
		PollInterval:    pollInterval,
		MaxPollInterval: time.Minute,
		JourneyTimeout:  2 * time.Hour,
		// Within an order call too, one attempt, as the client's.
		OrderRetry: calls.OrderRetry{Attempts: 1, MaxBackoff: time.Second}.WithDefaults(pollInterval, time.Minute),
		Clock:      clock,
		Now:        clock.Now,
	})}
}

// start is the run of a new request for a new site with Jira Software.
func (w *world) start(id string) *journey.Run {
	w.t.Helper()
	ev := cloudevents.NewEvent()
	ev.SetID(id)
	ev.SetSource("urn:test:procurement")
	ev.SetType(events.NewSubjects("").Requested())
	ev.SetTime(epoch)
	err := ev.SetData(cloudevents.ApplicationJSON, map[string]any{
		"orgId": atlassiantest.OrgID, "adminEmail": "admin@acme.example",
		"site": map[string]any{"name": "acme-jira", "create": true, "timezone": "Australia/Sydney"},
		"products": []map[string]any{{
			"offeringId": atlassiantest.JiraOfferingID, "location": "us", "family": "jira",
			"chargeElement": "USER", "quantity": 10, "parentEntitlementId": atlassiantest.JiraParentEntitlementID,
		}},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	st := w.j.Start(&ev, 1)
	if st.Terminal() {
		w.t.Fatalf("request refused: %+v", st.Outcome.Failed)
	}
	return w.run(st)
}

// run is a Run of st as the runtime makes one for a delivery: read back from the store.
func (w *world) run(st *record.State) *journey.Run {
	return &journey.Run{ID: st.RequestID, Record: st, Drain: make(chan struct{}), Owner: "test", LeaseFor: time.Minute,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// step takes one step as the runtime does: the decision's record is "written", and waits
// pass on the fake clock.
func (w *world) step(r *journey.Run) journey.Decision {
	w.t.Helper()
	d, err := w.j.Step(context.Background(), r)
	if err != nil {
		w.t.Fatalf("step at %s: %v", r.Record.Step, err)
	}
	if d.Record != nil {
		r.Record = d.Record
	}
	r.Advanced = d.Kind == journey.Advance && d.Record != nil
	w.clock.Advance(d.After)
	return d
}

func (w *world) posts(e atlassiantest.Endpoint) int { return len(w.sandbox.RequestsTo(e)) }

// TestDecisions follows a journey's decisions from its record to its outcome: every effect
// comes after the record announcing it, the look-ups are recorded with the provisioning
// about to be sent, and the order follows provisioning with no wait.
func TestDecisions(t *testing.T) {
	w := newWorld(t)
	r := w.start("req-1")

	type want struct {
		kind        journey.Kind
		step        record.Step
		provisions  int // provisioning POSTs once the step is taken
		orders      int
		leased      bool
		wantOrderID bool
	}
	for i, s := range []want{
		{journey.Advance, record.StepProvisioning, 0, 0, true, true}, // the look-ups' answers with it
		{journey.Advance, record.StepOrdering, 1, 0, true, true},
		{journey.Wait, record.StepOrdered, 1, 1, false, true},
	} {
		d := w.step(r)
		if d.Kind != s.kind || d.Record == nil || d.Record.Step != s.step {
			t.Fatalf("decision %d: %v at %v, want %v recording %s", i, d.Kind, d.Record, s.kind, s.step)
		}
		if got := w.posts(atlassiantest.EndpointProvisionProducts); got != s.provisions {
			t.Errorf("after decision %d: %d provisioning requests, want %d", i, got, s.provisions)
		}
		if got := w.posts(atlassiantest.EndpointCreateOrder); got != s.orders {
			t.Errorf("after decision %d: %d orders, want %d", i, got, s.orders)
		}
		if got := d.Record.Lease.Owner != ""; got != s.leased {
			t.Errorf("decision %d: leased %v, want %v", i, got, s.leased)
		}
		if got := d.Record.OrderID != ""; got != s.wantOrderID {
			t.Errorf("decision %d: orderId %q", i, d.Record.OrderID)
		}
	}
	if r.Record.StatusURL == "" || r.Record.Order == nil {
		t.Fatalf("ordered without the provisioning or order answer: %+v", r.Record)
	}
	// Polls wait with back-off until both the provisioning and the order have finished.
	var waits []time.Duration
	for range 20 {
		d := w.step(r)
		if d.Kind == journey.End {
			if r.Record.Outcome.Provisioned == nil {
				t.Fatalf("ended %+v", r.Record.Outcome)
			}
			if w.posts(atlassiantest.EndpointProvisionProducts) != 1 || w.posts(atlassiantest.EndpointCreateOrder) != 1 {
				t.Errorf("provisioning sent %d times, order %d", w.posts(atlassiantest.EndpointProvisionProducts), w.posts(atlassiantest.EndpointCreateOrder))
			}
			return
		}
		if d.Kind != journey.Wait {
			t.Fatalf("while polling: %v (%v)", d.Kind, d.Err)
		}
		waits = append(waits, d.After)
	}
	t.Fatalf("no outcome after polls waiting %v", waits)
}

// TestResumedProvisioning: a record of provisioning read back (its answer lost) is recorded
// again, as a second attempt, before the provisioning request is sent once more; a second
// loss ends the journey, retryable, with nothing ordered.
func TestResumedProvisioning(t *testing.T) {
	w := newWorld(t)
	r := w.start("req-1")
	w.step(r) // looked up, provisioning recorded
	for attempt := 1; attempt <= 2; attempt++ {
		w.step(r) // provisioning sent, ordering recorded: its answer is lost with the record
		st := r.Record
		st.Step, st.StatusURL, st.ProvisionRequestID, st.OrderSentAt = record.StepProvisioning, "", "", time.Time{}
		r = w.run(st)
		if r.EffectDue() {
			t.Fatal("a record read back announces an effect due")
		}
		d := w.step(r)
		if attempt == 2 {
			if d.Kind != journey.End || r.Record.Outcome.Failed == nil || !r.Record.Outcome.Failed.Retryable {
				t.Fatalf("after two lost answers: %v %+v", d.Kind, r.Record.Outcome)
			}
			break
		}
		if d.Kind != journey.Advance || r.Record.ProvisionAttempts != 2 || w.posts(atlassiantest.EndpointProvisionProducts) != 1 {
			t.Fatalf("resumed: %v, attempts %d, %d provisioning requests", d.Kind, r.Record.ProvisionAttempts,
				w.posts(atlassiantest.EndpointProvisionProducts))
		}
		if !r.EffectDue() {
			t.Fatal("the recorded attempt is not due")
		}
	}
	if n := w.posts(atlassiantest.EndpointProvisionProducts); n != 2 {
		t.Errorf("%d provisioning requests, want 2", n)
	}
	if n := w.posts(atlassiantest.EndpointCreateOrder); n != 0 {
		t.Errorf("%d orders", n)
	}
}

// TestResumedOrdering: a journey read back at ordering records its own lease, then re-sends
// the order with the same orderId while the window allows; past it, it only reads the order.
func TestResumedOrdering(t *testing.T) {
	w := newWorld(t)
	r := w.start("req-1")
	for range 2 {
		w.step(r) // up to ordering recorded
	}
	if !r.EffectDue() || r.Record.Step != record.StepOrdering {
		t.Fatalf("at %s, due %v", r.Record.Step, r.EffectDue())
	}
	st := *r.Record
	resumed := w.run(r.Record)
	resumed.Record.Lease = record.Lease{Owner: "lapsed"}
	d := w.step(resumed) // the lease first: a stale delivery's write then meets a conflict
	if d.Kind != journey.Advance || d.Record.Step != record.StepOrdering || d.Record.Lease.Owner != "test" ||
		w.posts(atlassiantest.EndpointCreateOrder) != 0 || !resumed.EffectDue() {
		t.Fatalf("resumed: %v at %s, lease %q, %d order POSTs", d.Kind, d.Record.Step, d.Record.Lease.Owner,
			w.posts(atlassiantest.EndpointCreateOrder))
	}
	d = w.step(resumed) // sent again
	if d.Kind != journey.Wait || d.Record.Step != record.StepOrdered {
		t.Fatalf("resumed: %v %v", d.Kind, d.Err)
	}
	orders := w.sandbox.Orders()
	if len(orders) != 1 || orders[0].OrderID != st.OrderID {
		t.Fatalf("orders %+v, want the one of orderId %s", orders, st.OrderID)
	}

	// Past the window, resumed again at ordering: the order is read, never sent.
	w.clock.Advance(10 * time.Minute)
	sent := w.posts(atlassiantest.EndpointCreateOrder)
	d = w.step(w.run(&st))
	if d.Kind != journey.Wait || d.Record.Order == nil {
		t.Fatalf("past the window: %v %v", d.Kind, d.Err)
	}
	if w.posts(atlassiantest.EndpointCreateOrder) != sent || w.posts(atlassiantest.EndpointGetOrder) == 0 {
		t.Errorf("past the window: %d order POSTs (was %d), %d reads", w.posts(atlassiantest.EndpointCreateOrder), sent,
			w.posts(atlassiantest.EndpointGetOrder))
	}
}

// TestNoNATS: the journey package decides without NATS: none of its imports is NATS, nor
// the runtime in package handlers.
func TestNoNATS(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool:", err)
	}
	out, err := exec.Command(goTool, "list", "-f", `{{join .Imports " "}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := strings.Fields(string(out))
	if !slices.Contains(imports, "github.com/procurement/atlassian-installer/client") {
		t.Fatalf("imports %v: this test checks nothing", imports)
	}
	for _, p := range imports {
		if strings.Contains(p, "nats-io") || p == "github.com/procurement/atlassian-installer/handlers" {
			t.Errorf("package journey imports %s", p)
		}
	}
}
