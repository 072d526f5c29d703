package handlers_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/handlers"
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
// retries and the journey's patience get every request through, each ordered once.
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
			for _, id := range ids {
				if term := e.Terminal(id); term.Type != subjects.Provisioned() {
					t.Errorf("%s: %s %v", id, term.Type, term.Data)
				}
				if n := len(e.OrdersOf(id)); n != 1 {
					t.Errorf("%s: %d orders", id, n)
				}
			}
			if n := e.Sandbox.ProvisionRequests(); n != len(ids) {
				t.Errorf("%d provisioning requests, want %d", n, len(ids))
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
	st.RequestID, st.Published = "done-2", nil
	st.Outcome.Provisioned.RequestID = "done-2"
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := e.JS.KeyValue(context.Background(), handlers.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Create(context.Background(), handlers.Key("done-2"), b); err != nil {
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
	if got := e.Journey("done-2").Published; len(got) != 1 || got[0] != subjects.Provisioned() {
		t.Errorf("published %v", got)
	}
	if evs := installtest.Of(e.Outcomes(), "done-2"); len(evs) != 1 {
		t.Errorf("events %v", types(evs))
	}
}
