package handlers_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/journey"
	"github.com/procurement/atlassian-installer/handlers/record"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// faultConfig redelivers quickly (naks wait in real time) and keeps expected panics' stacks
// out of the test's output; faults counts what OnFault is told, by result.
func (e *env) faultConfig(faults map[string]*atomic.Int32) handlers.Config {
	cfg := e.Config()
	cfg.PollInterval, cfg.MaxPollInterval = 10*time.Millisecond, 50*time.Millisecond
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.OnFault = func(_ context.Context, result string) { faults[result].Add(1) }
	return cfg
}

func newFaultCounts() map[string]*atomic.Int32 {
	return map[string]*atomic.Int32{handlers.FaultRetried: {}, handlers.FaultEnded: {}, handlers.FaultDeadLettered: {}}
}

// panicky panics in every look-up of one entitlement's details.
type panicky struct {
	journey.Commerce
	entitlement string
}

func (p panicky) GetEntitlementDetails(ctx context.Context, id string) (*client.EntitlementDetails, *client.Response, error) {
	if id == p.entitlement {
		panic("look-up bug")
	}
	return p.Commerce.GetEntitlementDetails(ctx, id)
}

// TestStepPanicsEveryTime: a step that panics at every delivery ends its journey with
// internal_error after MaxFaults deliveries (nothing was provisioned: retryable), and the
// consumer goes on with other requests.
func TestStepPanicsEveryTime(t *testing.T) {
	e := newEnv(t)
	faults := newFaultCounts()
	var deliveries counter
	cfg := e.faultConfig(faults)
	cfg.Middleware = []handlers.Middleware{deliveries.middleware}
	api := handlers.ClientAPI(e.Client)
	api.Commerce = panicky{Commerce: e.Client.Commerce, entitlement: atlassiantest.JSMParentEntitlementID}
	e.Start(e.JS, api, cfg)

	e.Publish("panics-1", productsRequest(newSite("panics"), product(atlassiantest.JSMOfferingID, "jira", "agent", atlassiantest.JSMParentEntitlementID)))
	e.Publish("healthy-1", jiraOnNewSite("healthy"))
	term := e.Terminal("panics-1")
	f := term.Data
	if term.Type != subjects.Failed() || f["code"] != events.CodeInternalError || f["stage"] != "lookup" || f["retryable"] != true {
		t.Fatalf("%s %v", term.Type, f)
	}
	if msg, _ := f["message"].(string); strings.Contains(msg, "look-up bug") || !strings.Contains(msg, "nothing was provisioned or ordered") {
		t.Errorf("message %q", msg)
	}
	if term := e.Terminal("healthy-1"); term.Type != subjects.Provisioned() {
		t.Fatalf("healthy request: %s %v", term.Type, term.Data)
	}
	e.Settled()
	if n := deliveries.n["panics-1"]; n != handlers.MaxFaults+1 {
		t.Errorf("%d deliveries, want %d faulty ones and one that published the outcome", n, handlers.MaxFaults)
	}
	if r, d := faults[handlers.FaultRetried].Load(), faults[handlers.FaultEnded].Load(); r != handlers.MaxFaults-1 || d != 1 {
		t.Errorf("faults: %d retried, %d ended", r, d)
	}
	if n := e.Sandbox.ProvisionRequests(); n != 1 {
		t.Errorf("%d provisioning requests", n)
	}
}

// putJourney records a journey state as an earlier instance would have left it.
func (e *env) putJourney(st *record.State) {
	e.T.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		e.T.Fatal(err)
	}
	kv, err := e.JS.KeyValue(context.Background(), record.DefaultBucket)
	if err != nil {
		e.T.Fatal(err)
	}
	if _, err := kv.Create(context.Background(), record.Key(st.RequestID), b); err != nil {
		e.T.Fatal(err)
	}
}

// TestSameErrorEveryTime: a journey whose every delivery fails with the same error (here a
// record at a step this installer does not know) ends with internal_error after MaxFaults
// deliveries, without any Atlassian call. When its order had been accepted, ordered is
// published first, and the failure is not retryable.
func TestSameErrorEveryTime(t *testing.T) {
	for _, ordered := range []bool{false, true} {
		name := map[bool]string{false: "nothing ordered", true: "order accepted"}[ordered]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			faults := newFaultCounts()
			inst := e.Start(e.JS, handlers.ClientAPI(e.Client), e.faultConfig(faults))
			_ = inst
			id := "unknown-step"
			st := &record.State{
				RequestID: id, Source: "urn:test:procurement", OwnerSeq: 1,
				Request: &events.Request{OrgID: atlassiantest.OrgID},
				Step:    "from-a-later-version", Status: record.StatusRunning,
				RequestedAt: installtest.Epoch, CreatedAt: installtest.Epoch, UpdatedAt: installtest.Epoch,
			}
			if ordered {
				st.Plan = &record.Plan{TransactionAccountID: atlassiantest.TransactionAccountID, InvoiceGroupID: atlassiantest.InvoiceGroupID}
				st.OrderID, st.OrderSentAt, st.ProvisionSentAt = record.OrderID(id), installtest.Epoch, installtest.Epoch
				st.Order = &record.OrderAnswer{Slug: "R-1", Items: []events.OrderedItem{{ItemID: "O1", OrderItemID: "oi-1", OfferingID: atlassiantest.JiraOfferingID}}}
			}
			e.putJourney(st)
			e.Publish(id, jiraOnNewSite("unknown"))
			term := e.Terminal(id)
			f := term.Data
			if term.Type != subjects.Failed() || f["code"] != events.CodeInternalError || f["retryable"] != !ordered {
				t.Fatalf("%s %v", term.Type, f)
			}
			evs := installtest.Of(e.Outcomes(), id)
			if ordered && (len(evs) != 2 || evs[0].Type != subjects.Ordered() || f["orderId"] != record.OrderID(id)) {
				t.Errorf("events %v, want ordered then failed", types(evs))
			}
			if !ordered && len(evs) != 1 {
				t.Errorf("events %v", types(evs))
			}
			e.Settled()
			if n := len(e.Sandbox.Requests()); n != 0 {
				t.Errorf("%d Atlassian calls", n)
			}
			if d := faults[handlers.FaultEnded].Load(); d != 1 {
				t.Errorf("%d journeys ended by faults", d)
			}
		})
	}
}

// TestFaultBeforeAnyJourney: a message that fails every delivery before its journey begins
// (here a middleware that panics on it) is dead-lettered after MaxFaults deliveries, with
// Installer-Error saying so, and the consumer goes on.
func TestFaultBeforeAnyJourney(t *testing.T) {
	e := newEnv(t)
	faults := newFaultCounts()
	cfg := e.faultConfig(faults)
	cfg.Middleware = []handlers.Middleware{func(next handlers.Handler) handlers.Handler {
		return func(ctx context.Context, d *handlers.Delivery) error {
			if ev, err := d.Event(); err == nil && ev.ID() == "doomed-1" {
				panic("middleware bug")
			}
			return next(ctx, d)
		}
	}}
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)
	e.Publish("doomed-1", jiraOnNewSite("doomed"))
	e.Publish("fine-1", jiraOnNewSite("fine"))
	var dead []installtest.Message
	e.Eventually("dead letter", func() bool {
		dead = e.Stream(events.StreamDeadLetter)
		return len(dead) == 1
	})
	if reason := dead[0].Header.Get(events.HeaderError); !strings.Contains(reason, "internal error") {
		t.Errorf("Installer-Error %q", reason)
	}
	if term := e.Terminal("fine-1"); term.Type != subjects.Provisioned() {
		t.Fatalf("%s %v", term.Type, term.Data)
	}
	e.Settled()
	if n := len(installtest.Of(e.Outcomes(), "doomed-1")); n != 0 {
		t.Errorf("%d events for the dead-lettered request", n)
	}
	if r, d := faults[handlers.FaultRetried].Load(), faults[handlers.FaultDeadLettered].Load(); r != handlers.MaxFaults-1 || d != 1 {
		t.Errorf("faults: %d retried, %d dead-lettered", r, d)
	}
}

// refusingJetStream refuses to publish one subject, as NATS refuses a message it cannot take.
type refusingJetStream struct {
	jetstream.JetStream
	subject string
}

func (r refusingJetStream) PublishMsg(ctx context.Context, m *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	if m.Subject == r.subject {
		return nil, nats.ErrMaxPayload
	}
	return r.JetStream.PublishMsg(ctx, m, opts...)
}

// TestOutcomeNeverPublishable: a journey that ended but whose outcome NATS refuses at every
// delivery is not delivered forever: after MaxFaults more deliveries its message is
// dead-lettered, saying so, and the consumer goes on.
func TestOutcomeNeverPublishable(t *testing.T) {
	e := newEnv(t)
	faults := newFaultCounts()
	js := refusingJetStream{JetStream: e.JS, subject: subjects.Provisioned()}
	e.Start(js, handlers.ClientAPI(e.Client), e.faultConfig(faults))
	e.Publish("unpublishable-1", jiraOnNewSite("unpublishable"))
	var dead []installtest.Message
	e.Eventually("dead letter", func() bool {
		dead = e.Stream(events.StreamDeadLetter)
		return len(dead) == 1
	})
	if reason := dead[0].Header.Get(events.HeaderError); !strings.Contains(reason, "outcome could not be published") {
		t.Errorf("Installer-Error %q", reason)
	}
	e.Settled()
	e.Eventually("ordered", func() bool { return len(installtest.Of(e.Outcomes(), "unpublishable-1")) > 0 })
	if evs := installtest.Of(e.Outcomes(), "unpublishable-1"); len(evs) != 1 || evs[0].Type != subjects.Ordered() {
		t.Errorf("events %v, want ordered only", types(evs))
	}
	if st := e.Journey("unpublishable-1"); st.Status != record.StatusProvisioned {
		t.Errorf("journey %s", st.Status)
	}
	// Its state expires with its outcome written: the compact record keeps the id spent.
	finished, err := e.JS.KeyValue(context.Background(), record.DefaultFinishedBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := finished.Get(context.Background(), record.Key("unpublishable-1")); err != nil {
		t.Errorf("no compact record for the dead-lettered journey: %v", err)
	}
	if r, d := faults[handlers.FaultRetried].Load(), faults[handlers.FaultDeadLettered].Load(); r != handlers.MaxFaults-1 || d != 1 {
		t.Errorf("faults: %d retried, %d dead-lettered", r, d)
	}
}

// TestDuplicateFaultsLeaveTheJourney: a second message with a running journey's id that
// fails at every delivery is dead-lettered in the end; its faults never end the journey,
// which its own message drives to its outcome.
func TestDuplicateFaultsLeaveTheJourney(t *testing.T) {
	e := newEnv(t, atlassiantest.WithProvisionDelay(time.Minute))
	faults := newFaultCounts()
	cfg := e.faultConfig(faults)
	cfg.Middleware = []handlers.Middleware{func(next handlers.Handler) handlers.Handler {
		return func(ctx context.Context, d *handlers.Delivery) error {
			if d.Metadata().Sequence.Stream == 2 {
				panic("bug on the second message")
			}
			return next(ctx, d)
		}
	}}
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)
	req := jiraOnNewSite("dup-fault")
	e.Publish("dup-fault-1", req)
	e.Eventually("journey ordered", func() bool { return len(installtest.Of(e.Outcomes(), "dup-fault-1")) == 1 })
	e.publishDuplicate("dup-fault-1", req)
	e.EventuallyStep("duplicate dead-lettered", 0, func() bool { return len(e.Stream(events.StreamDeadLetter)) == 1 })
	if st := e.Journey("dup-fault-1"); st.Faults != 0 || st.Terminal() {
		t.Errorf("the duplicate's faults reached the journey: %d faults, outcome %v", st.Faults, st.Outcome)
	}
	if term := e.Terminal("dup-fault-1"); term.Type != subjects.Provisioned() {
		t.Fatalf("%s %v", term.Type, term.Data)
	}
	e.Settled()
}

// panicAtOrder panics at every order, after sending it to Atlassian when send is set: a bug
// that loses the answer of an accepted order, or one that may come after the order went out.
type panicAtOrder struct {
	journey.Commerce
	send bool
}

func (p panicAtOrder) CreateOrder(ctx context.Context, req *client.OrderRequest) (*client.OrderResponse, *client.Response, error) {
	if p.send {
		if _, _, err := p.Commerce.CreateOrder(ctx, req); err != nil {
			return nil, nil, err
		}
	}
	panic("bug at the order")
}

// TestPanicAtTheOrder: a journey whose order POST panics at every delivery (a bug, after the
// order was placed or before) is resumed from its provisioning record, whose order may exist:
// it never ends with an accepted order unannounced, nor retryable. Placed, the order is found by
// a read and the journey goes on to provisioned, ordered first; never placed, the journey ends
// at its timeout, not retryable, with the orderId and saying it may exist. The order is placed
// at most once.
func TestPanicAtTheOrder(t *testing.T) {
	for _, sent := range []bool{true, false} {
		name := map[bool]string{true: "order accepted", false: "order never sent"}[sent]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			faults := newFaultCounts()
			api := handlers.ClientAPI(e.Client)
			api.Commerce = panicAtOrder{Commerce: e.Client.Commerce, send: sent}
			cfg := e.faultConfig(faults)
			cfg.JourneyTimeout, cfg.MaxPollInterval = handlers.DefaultOrderWindow+time.Minute, time.Minute
			e.Start(e.JS, api, cfg)
			id := "faults-ordering-1"
			e.Publish(id, jiraOnNewSite("faults-ordering"))
			term := e.Terminal(id)
			evs := installtest.Of(e.Outcomes(), id)
			if sent {
				if term.Type != subjects.Provisioned() || len(evs) != 2 || evs[0].Type != subjects.Ordered() {
					t.Fatalf("%s %v; events %v, want ordered then provisioned", term.Type, term.Data, types(evs))
				}
			} else {
				f := term.Data
				if term.Type != subjects.Failed() || f["code"] != events.CodeDeadlineExceeded || f["retryable"] != false ||
					f["orderId"] != record.OrderID(id) || len(evs) != 1 {
					t.Fatalf("%s %v; events %v", term.Type, f, types(evs))
				}
				if msg, _ := f["message"].(string); !strings.Contains(msg, "may exist") {
					t.Errorf("message %q", msg)
				}
			}
			e.Settled()
			if n, want := len(e.OrdersOf(id)), map[bool]int{true: 1, false: 0}[sent]; n != want {
				t.Errorf("%d orders, want %d", n, want)
			}
			if d := faults[handlers.FaultRetried].Load(); d == 0 {
				t.Error("no fault counted")
			}
		})
	}
}

// TestDryRunOnAnOlderEventsStream: an INSTALL_EVENTS stream created before dry runs existed
// lacks the planned subject, and the installer leaves it so: start-up warns, naming the stream
// and the subject, and a dry run, whose plan has no stream to go to, does not loop: after
// MaxFaults deliveries it ends failed internal_error (nothing was provisioned or ordered),
// while real requests go on.
func TestDryRunOnAnOlderEventsStream(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, cfg := range events.StreamConfigs(subjects, 1, events.DefaultRetention) {
		if cfg.Name == events.StreamEvents {
			cfg.Subjects = []string{subjects.Ordered(), subjects.Provisioned(), subjects.Failed()}
		}
		if _, err := e.JS.CreateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	faults := newFaultCounts()
	var log installtest.LogBuffer
	cfg := e.faultConfig(faults)
	cfg.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)
	e.Publish("old-stream-plan", dryRun(jiraOnNewSite("old-stream")))
	e.Publish("old-stream-real", jiraOnNewSite("old-stream-real"))

	term := e.Terminal("old-stream-plan")
	f := term.Data
	if term.Type != subjects.Failed() || f["code"] != events.CodeInternalError || f["retryable"] != true || f["orderId"] != nil {
		t.Fatalf("%s %v", term.Type, f)
	}
	if msg, _ := f["message"].(string); !strings.Contains(msg, subjects.Planned()) || !strings.Contains(msg, "nothing was provisioned or ordered") {
		t.Errorf("message %q", msg)
	}
	if term := e.Terminal("old-stream-real"); term.Type != subjects.Provisioned() {
		t.Fatalf("real request: %s %v", term.Type, term.Data)
	}
	e.Settled()
	if want := "stream=" + events.StreamEvents + " missing=" + subjects.Planned(); !strings.Contains(log.String(), want) {
		t.Errorf("no warning with %s in:\n%s", want, log.String())
	}
	if r, d := faults[handlers.FaultRetried].Load(), faults[handlers.FaultEnded].Load(); r != handlers.MaxFaults-1 || d != 1 {
		t.Errorf("faults: %d retried, %d ended", r, d)
	}
	if n := e.Sandbox.ProvisionRequests(); n != 1 {
		t.Errorf("%d provisioning requests, want the real request's one", n)
	}
	s, err := e.JS.Stream(ctx, events.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.CachedInfo().Config.Subjects); n != 3 {
		t.Errorf("the existing stream was changed: %d subjects", n)
	}
}
