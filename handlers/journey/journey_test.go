package journey_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
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
	api     journey.API
	cfg     journey.Config
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
	w := &world{t: t, clock: clock, sandbox: s, api: journey.ClientAPI(c), cfg: journey.Config{
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
	}}
	w.j = journey.New(w.api, w.cfg)
	return w
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

// TestDecisions follows a journey's decisions from its record to its outcome: the look-ups'
// answers are recorded with the provisioning about to be sent and the orderId, and the order
// follows the provisioning answer with nothing written in between.
func TestDecisions(t *testing.T) {
	w := newWorld(t)
	r := w.start("req-1")

	d := w.step(r)
	if d.Kind != journey.Advance || d.Record.Step != record.StepProvisioning || d.Record.Plan == nil ||
		d.Record.OrderID == "" || d.Record.OrderSentAt.IsZero() || d.Record.Lease.Owner == "" || !r.EffectDue() {
		t.Fatalf("first decision: %v %+v", d.Kind, d.Record)
	}
	if n := len(w.sandbox.Requests()); n != 1 { // the billing look-up
		t.Errorf("%d calls before the provisioning record", n)
	}
	d = w.step(r)
	if d.Kind != journey.Wait || d.Record.Step != record.StepOrdered || d.Record.Order == nil ||
		d.Record.StatusURL == "" || d.Record.Lease.Owner != "" || d.After != pollInterval {
		t.Fatalf("second decision: %v after %s %+v", d.Kind, d.After, d.Record)
	}
	if p, o := w.posts(atlassiantest.EndpointProvisionProducts), w.posts(atlassiantest.EndpointCreateOrder); p != 1 || o != 1 {
		t.Fatalf("%d provisioning requests and %d orders, want 1 and 1", p, o)
	}
	w.pollToEnd(r)
	if p, o := w.posts(atlassiantest.EndpointProvisionProducts), w.posts(atlassiantest.EndpointCreateOrder); p != 1 || o != 1 {
		t.Errorf("provisioning sent %d times, order %d", p, o)
	}
}

// pollToEnd polls until the journey ends provisioned.
func (w *world) pollToEnd(r *journey.Run) {
	w.t.Helper()
	var waits []time.Duration
	for range 20 {
		d := w.step(r)
		if d.Kind == journey.End {
			if r.Record.Outcome.Provisioned == nil {
				w.t.Fatalf("ended %+v", r.Record.Outcome)
			}
			return
		}
		if d.Kind != journey.Wait {
			w.t.Fatalf("while polling: %v (%v)", d.Kind, d.Err)
		}
		waits = append(waits, d.After)
	}
	w.t.Fatalf("no outcome after polls waiting %v", waits)
}

// TestResumedProvisioning: a journey read back at provisioning lost the answers of both the
// provisioning request and the order that followed it. It records a second attempt and sends
// provisioning once more; the sandbox refuses it (the first is creating the site), so the
// order, which may exist, is read: found, it names the first provisioning request, which the
// journey then follows. Read back at the second attempt, the order is only read.
func TestResumedProvisioning(t *testing.T) {
	w := newWorld(t)
	r := w.start("req-1")
	w.step(r)
	first := *r.Record // the provisioning record, as written
	w.step(r)          // provisioning and order sent; their answers are lost with the process
	placedWith := r.Record.ProvisionRequestID

	st := first
	r = w.run(&st)
	if r.EffectDue() {
		t.Fatal("a record read back announces an effect due")
	}
	d := w.step(r)
	if d.Kind != journey.Advance || r.Record.ProvisionAttempts != 2 || w.posts(atlassiantest.EndpointProvisionProducts) != 1 {
		t.Fatalf("resumed: %v, attempts %d, %d provisioning requests", d.Kind, r.Record.ProvisionAttempts,
			w.posts(atlassiantest.EndpointProvisionProducts))
	}
	second := *r.Record
	d = w.step(r)
	if d.Kind != journey.Wait || d.Record.Order == nil {
		t.Fatalf("second attempt: %v %v", d.Kind, d.Err)
	}
	if p, o := w.posts(atlassiantest.EndpointProvisionProducts), len(w.sandbox.Orders()); p != 2 || o != 1 {
		t.Fatalf("%d provisioning requests and %d orders, want 2 and 1", p, o)
	}
	if got := r.Record.ProvisionRequestID; got != placedWith || !strings.HasSuffix(r.Record.StatusURL, "/"+placedWith) {
		t.Fatalf("following provisioning request %s (%s), want the order's %s", got, r.Record.StatusURL, placedWith)
	}
	w.pollToEnd(r)

	st = second
	r = w.run(&st)
	d = w.step(r)
	if d.Kind != journey.Wait || d.Record.Order == nil || d.Record.ProvisionRequestID != placedWith {
		t.Fatalf("read back at the second attempt: %v %v %+v", d.Kind, d.Err, d.Record)
	}
	if p, o := w.posts(atlassiantest.EndpointProvisionProducts), w.posts(atlassiantest.EndpointCreateOrder); p != 2 || o != 1 {
		t.Errorf("%d provisioning requests and %d order POSTs, want 2 and 1", p, o)
	}
}

// TestProvisioningRefused: a provisioning request refused at the first attempt ends the
// journey retryable, nothing ordered, though the record said the order would follow.
func TestProvisioningRefused(t *testing.T) {
	w := newWorld(t, atlassiantest.WithFault(atlassiantest.EndpointProvisionProducts, atlassiantest.Fault{Error: 1, ErrorStatus: http.StatusServiceUnavailable}))
	r := w.start("req-1")
	w.step(r)
	d := w.step(r)
	f := r.Record.Outcome.Failed
	if d.Kind != journey.End || f == nil || !f.Retryable || f.OrderID != "" || !strings.Contains(f.Message, "nothing was ordered") {
		t.Fatalf("%v %+v", d.Kind, f)
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
	w.step(r)
	w.step(r) // ordered; its answer is lost: the journey is read back at ordering
	st := *r.Record
	st.Step, st.Order, st.Published, st.Lease = record.StepOrdering, nil, nil, record.Lease{Owner: "lapsed"}
	again := st

	resumed := w.run(&st)
	d := w.step(resumed) // the lease first: a stale delivery's write then meets a conflict
	if d.Kind != journey.Advance || d.Record.Step != record.StepOrdering || d.Record.Lease.Owner != "test" ||
		w.posts(atlassiantest.EndpointCreateOrder) != 1 || !resumed.EffectDue() {
		t.Fatalf("resumed: %v at %s, lease %q, %d order POSTs", d.Kind, d.Record.Step, d.Record.Lease.Owner,
			w.posts(atlassiantest.EndpointCreateOrder))
	}
	d = w.step(resumed) // sent again
	if d.Kind != journey.Wait || d.Record.Step != record.StepOrdered {
		t.Fatalf("resumed: %v %v", d.Kind, d.Err)
	}
	orders := w.sandbox.Orders()
	if len(orders) != 1 || orders[0].OrderID != st.OrderID || w.posts(atlassiantest.EndpointCreateOrder) != 2 {
		t.Fatalf("orders %+v, want the one of orderId %s, sent twice", orders, st.OrderID)
	}

	// Past the window, resumed again at ordering: the order is read, never sent.
	w.clock.Advance(10 * time.Minute)
	d = w.step(w.run(&again))
	if d.Kind != journey.Wait || d.Record.Order == nil {
		t.Fatalf("past the window: %v %v", d.Kind, d.Err)
	}
	if w.posts(atlassiantest.EndpointCreateOrder) != 2 || w.posts(atlassiantest.EndpointGetOrder) == 0 {
		t.Errorf("past the window: %d order POSTs, %d reads", w.posts(atlassiantest.EndpointCreateOrder),
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

// noTurn is a quota that never has a turn for the order.
type noTurn struct{}

func (noTurn) Wait(ctx context.Context, _ client.Turn) error {
	<-ctx.Done()
	return ctx.Err()
}

func (noTurn) Pause(string, client.Family, time.Duration) {}

// TestNoTurnForASecondAttempt: a journey read back at provisioning, its order possibly placed,
// that gets no turn of the orders quota for a second attempt reads the order instead of
// failing as if nothing had been provisioned or ordered.
func TestNoTurnForASecondAttempt(t *testing.T) {
	w := newWorld(t)
	r := w.start("req-1")
	w.step(r)
	first := *r.Record
	w.step(r) // provisioning and order sent; their answers are lost with the process

	w.cfg.Limiter = noTurn{}
	w.j = journey.New(w.api, w.cfg)
	st := first
	st.CreatedAt = w.clock.Now().Add(-2*time.Hour + 10*time.Minute + time.Millisecond) // the window barely fits
	r = w.run(&st)
	d := w.step(r)
	if d.Kind != journey.Wait || d.Record.Order == nil {
		t.Fatalf("no turn for a second attempt: %v %v %+v", d.Kind, d.Err, d.Record.Outcome)
	}
	if p := w.posts(atlassiantest.EndpointProvisionProducts); p != 1 {
		t.Errorf("%d provisioning requests", p)
	}
}

// TestSecondAttemptOrderRefusedUnprocessed: after a second provisioning request (the first's
// answers lost), an order refused with 429 before Atlassian processed it does not take the
// journey back to before the order: the first attempt's order may exist, and is read.
func TestSecondAttemptOrderRefusedUnprocessed(t *testing.T) {
	w := newWorld(t)
	r := w.start("req-1")
	w.step(r)
	w.step(r) // the first attempt's order is placed
	st := *r.Record
	st.Step, st.ProvisionAttempts, st.Order, st.Published = record.StepProvisionAccepted, 2, nil, nil
	w.sandbox.SetFault(atlassiantest.EndpointCreateOrder, atlassiantest.Fault{RateLimit: 1, RetryAfter: time.Second})

	r = w.run(&st)
	if d := w.step(r); d.Kind != journey.Advance || d.Record.Step != record.StepOrdering {
		t.Fatalf("order recorded: %v %+v", d.Kind, d.Record)
	}
	d := w.step(r)
	if d.Record != nil && d.Record.OrderSentAt.IsZero() {
		t.Fatalf("the journey went back before the order: %+v", d.Record)
	}
	if d.Kind != journey.Wait || d.Record.Order == nil {
		t.Fatalf("refused unprocessed: %v %v", d.Kind, d.Err)
	}
}
