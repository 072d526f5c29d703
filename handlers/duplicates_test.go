package handlers_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/record"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// publishDuplicate publishes a request without Nats-Msg-Id, so that the requests stream
// keeps it although its id was seen: a duplicate from beyond the stream's window.
func (e *env) publishDuplicate(id string, data any) {
	e.T.Helper()
	m := installtest.BinaryMsg(e.T, subjects.Requested(), installtest.RequestEvent(e.T, id, data))
	m.Header.Del("Nats-Msg-Id")
	e.PublishMsg(m)
}

// TestDuplicateRequests: the same request id, published again while its journey runs or
// after it ended, orders once and ends in one terminal event; the duplicate after the end
// makes no Atlassian call at all.
func TestDuplicateRequests(t *testing.T) {
	e := newEnv(t)
	cfg := e.Config()
	cfg.AckWait = time.Second // the waiting duplicate comes back quickly
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)

	req := jiraOnNewSite("dup")
	e.publishDuplicate("dup-1", req)
	e.publishDuplicate("dup-1", req)
	e.Publish("dup-1", req) // deduplicated by the stream itself
	if term := e.Terminal("dup-1"); term.Type != subjects.Provisioned() {
		t.Fatalf("%s %v", term.Type, term.Data)
	}
	e.Settled()
	calls := len(e.Sandbox.Requests())

	e.publishDuplicate("dup-1", req)
	e.Settled()
	if n := len(e.Sandbox.Requests()); n != calls {
		t.Errorf("%d Atlassian calls for a request already done", n-calls)
	}
	if n := len(e.OrdersOf("dup-1")); n != 1 {
		t.Errorf("%d orders", n)
	}
	if n := e.Sandbox.ProvisionRequests(); n != 1 {
		t.Errorf("%d provisioning requests", n)
	}
	if evs := installtest.Of(e.Outcomes(), "dup-1"); len(evs) != 2 {
		t.Errorf("events %v, want ordered and provisioned once", types(evs))
	}
}

// TestStorms: 429 and 503 on every endpoint, a good share of the time; the client's
// retries and the journey's patience get every request through, each ordered once, except
// that a provisioning POST answered 503 is not sent again (a proxy may have forwarded it):
// that journey fails retryable, with nothing ordered.
func TestStorms(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault atlassiantest.Fault
	}{
		{"429", atlassiantest.Fault{RateLimit: 0.25}},
		{"503", atlassiantest.Fault{Error: 0.25, ErrorStatus: 503}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, atlassiantest.WithSeed(7))
			e.Sandbox.SetFault(atlassiantest.EndpointAll, tc.fault)
			e.StartDefault()
			ids := []string{"storm-a", "storm-b", "storm-c", "storm-d", "storm-e"}
			for _, id := range ids {
				e.Publish(id, jiraOnNewSite(id))
			}
			provisioned := 0
			for _, id := range ids {
				term := e.Terminal(id)
				orders := 0
				switch {
				case term.Type == subjects.Provisioned():
					provisioned, orders = provisioned+1, 1
				case tc.name == "503" && term.Data["stage"] == "provision" && term.Data["httpStatus"] == 503.0 && term.Data["retryable"] == true:
				default:
					t.Errorf("%s: %s %v", id, term.Type, term.Data)
				}
				if n := len(e.OrdersOf(id)); n != orders {
					t.Errorf("%s: %d orders, want %d", id, n, orders)
				}
				if n := len(installtest.Of(e.Outcomes(), id)); n != orders+1 {
					t.Errorf("%s: %d events", id, n)
				}
			}
			if provisioned == 0 {
				t.Error("no journey got through the storm")
			}
			if n := e.Sandbox.ProvisionRequests(); n != provisioned {
				t.Errorf("%d provisioning requests accepted, want %d", n, provisioned)
			}
			if n := len(e.Sandbox.RequestsTo(atlassiantest.EndpointProvisionProducts)); tc.name == "503" && n != len(ids) {
				t.Errorf("%d provisioning POSTs, want each sent once", n)
			}
			refused := 0
			for _, r := range e.Sandbox.Requests() {
				if r.Status == 429 || r.Status == 503 {
					refused++
				}
			}
			if refused == 0 {
				t.Error("the storm never hit")
			}
			e.Settled()
		})
	}
}

// TestUnpublishedOutcome: a journey whose outcome was recorded but never published (a
// crash in between) publishes it when its request comes again, with no Atlassian call.
func TestUnpublishedOutcome(t *testing.T) {
	e := newEnv(t)
	e.StartDefault()
	e.Publish("done-1", jiraOnNewSite("done"))
	e.Terminal("done-1")
	e.Settled()

	// The state of a journey that ended but crashed before publishing.
	st := e.Journey("done-1")
	// ordered went out before the journey polled; the terminal event did not.
	st.RequestID, st.Published = "done-2", []string{subjects.Ordered()}
	st.Outcome.Provisioned.RequestID = "done-2"
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := e.JS.KeyValue(context.Background(), record.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Create(context.Background(), record.Key("done-2"), b); err != nil {
		t.Fatal(err)
	}
	calls := len(e.Sandbox.Requests())
	e.Publish("done-2", jiraOnNewSite("done"))
	term := e.Terminal("done-2")
	if term.Type != subjects.Provisioned() || term.Data["requestId"] != "done-2" {
		t.Fatalf("%s %v", term.Type, term.Data)
	}
	e.Settled()
	if n := len(e.Sandbox.Requests()); n != calls {
		t.Errorf("%d Atlassian calls", n-calls)
	}
	if got := e.Journey("done-2").Published; len(got) != 2 || got[1] != subjects.Provisioned() {
		t.Errorf("published %v", got)
	}
	if evs := installtest.Of(e.Outcomes(), "done-2"); len(evs) != 1 {
		t.Errorf("events %v", types(evs))
	}
}

// ackPending is how many request messages the default consumer has delivered and not yet
// seen settled, and how many it has delivered at all.
func (e *env) ackPending() (pending int, delivered uint64) {
	e.T.Helper()
	info := e.consumerInfo()
	return info.NumAckPending, info.Delivered.Stream
}

// TestDuplicateOfRunningJourneyIsAckedAtOnce: a second message with the id of a journey
// that is still running is acknowledged at once, without waiting for the journey, while
// the journey's own message keeps driving it to its one order and terminal event.
func TestDuplicateOfRunningJourneyIsAckedAtOnce(t *testing.T) {
	e := newEnv(t, atlassiantest.WithProvisionDelay(time.Minute))
	e.StartDefault()
	req := jiraOnNewSite("dup-run")
	e.Publish("dup-run-1", req)
	e.Eventually("journey ordered", func() bool { return len(installtest.Of(e.Outcomes(), "dup-run-1")) == 1 })

	e.publishDuplicate("dup-run-1", req)
	// Time stands still: only an immediate acknowledgement settles the duplicate.
	e.EventuallyStep("duplicate acknowledged", 0, func() bool {
		pending, delivered := e.ackPending()
		return delivered == 2 && pending == 1
	})
	if term := e.Terminal("dup-run-1"); term.Type != subjects.Provisioned() {
		t.Fatalf("%s %v", term.Type, term.Data)
	}
	e.Settled()
	if n := len(e.OrdersOf("dup-run-1")); n != 1 {
		t.Errorf("%d orders", n)
	}
	if evs := installtest.Of(e.Outcomes(), "dup-run-1"); len(evs) != 2 {
		t.Errorf("events %v, want ordered and provisioned once", types(evs))
	}
}

// TestSameIDFromAnotherSourceIsACollision: a request whose id is taken by a request of
// another source is dead-lettered with a reason naming the collision, without any
// Atlassian call, and the first journey goes on untouched; so is one that comes after the
// first journey ended.
func TestSameIDFromAnotherSourceIsACollision(t *testing.T) {
	e := newEnv(t, atlassiantest.WithProvisionDelay(time.Minute))
	e.StartDefault()
	req := jiraOnNewSite("collide")
	e.Publish("collide-1", req)
	e.Eventually("journey ordered", func() bool { return len(installtest.Of(e.Outcomes(), "collide-1")) == 1 })
	// The first journey polls meanwhile; the colliding request would look up its billing and
	// provision.
	calls := func() int {
		return len(e.Sandbox.RequestsTo(atlassiantest.EndpointEntitlementDetails)) +
			len(e.Sandbox.RequestsTo(atlassiantest.EndpointProvisionProducts))
	}
	before := calls()

	other := func() *nats.Msg {
		ev := installtest.RequestEvent(t, "collide-1", jiraOnNewSite("elsewhere"))
		ev.SetSource("urn:test:another-system")
		m := installtest.BinaryMsg(t, subjects.Requested(), ev)
		m.Header.Del("Nats-Msg-Id")
		return m
	}
	e.PublishMsg(other())
	var dead []installtest.Message
	e.EventuallyStep("collision dead-lettered", 0, func() bool {
		dead = e.Stream(events.StreamDeadLetter)
		return len(dead) == 1
	})
	if reason := dead[0].Header.Get(events.HeaderError); !strings.Contains(reason, "collision") ||
		!strings.Contains(reason, "urn:test:another-system") {
		t.Errorf("Installer-Error %q does not name the collision", reason)
	}
	if n := calls(); n != before {
		t.Errorf("%d look-ups or provisioning requests for the colliding request", n-before)
	}
	if after := e.Journey("collide-1"); after.OwnerSeq != 1 || after.Source != "urn:test:procurement" || after.Request.Site.Name != "collide" {
		t.Errorf("the first journey was touched: %+v", after)
	}

	if term := e.Terminal("collide-1"); term.Type != subjects.Provisioned() || term.Data["requestId"] != "collide-1" {
		t.Fatalf("%s %v", term.Type, term.Data)
	}
	e.Settled()
	e.PublishMsg(other())
	e.EventuallyStep("collision after the end dead-lettered", 0, func() bool {
		return len(e.Stream(events.StreamDeadLetter)) == 2
	})
	e.Settled()
	if n := len(e.OrdersOf("collide-1")); n != 1 {
		t.Errorf("%d orders", n)
	}
	if evs := installtest.Of(e.Outcomes(), "collide-1"); len(evs) != 2 {
		t.Errorf("events %v, want ordered and provisioned once", types(evs))
	}
}
