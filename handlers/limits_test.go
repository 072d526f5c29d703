package handlers_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// A traceparent that is not a W3C trace context is dropped, never fatal: with a line break it
// used to pass, the product was provisioned and ordered, and then no outcome could be built,
// the message retried without end.
func TestInvalidTraceparentIsDropped(t *testing.T) {
	e := newEnv(t)
	e.StartDefault()
	ev := installtest.RequestEvent(t, "trace-bad", jiraOnNewSite("trace-bad"))
	ev.SetExtension(events.ExtensionTraceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nX-Evil: 1")
	ev.SetExtension(events.ExtensionTracestate, "vendor=ok")
	e.PublishMsg(installtest.StructuredMsg(t, subjects.Requested(), ev))
	if term := e.Terminal("trace-bad"); term.Type != subjects.Provisioned() {
		t.Fatalf("%s %v", term.Type, term.Data)
	}
	for _, o := range installtest.Of(e.Outcomes(), "trace-bad") {
		if v := o.Header.Get("ce-traceparent"); v != "" {
			t.Errorf("%s carries traceparent %q", o.Type, v)
		}
	}
	e.Settled()
}

// A request id or source no outcome could carry goes to the dead-letter subject with the
// reason, before any Atlassian call: a 600 KB id used to be provisioned and ordered, and then
// nothing could be published; an id with surrounding spaces or a line break would not survive
// as ce-subject (nats.go trims header values and turns line breaks into spaces).
func TestUnanswerableRequestsAreDeadLettered(t *testing.T) {
	e := newEnv(t)
	e.StartDefault()
	long := strings.Repeat("x", 600<<10)
	cases := []struct{ id, source, reason string }{
		{long, "urn:test", "request id is 614400 characters long"},
		{" padded ", "urn:test", "space"},
		{"line\r\nbreak", "urn:test", "control character"},
		{strings.Repeat("y", events.MaxRequestIDLen+1), "urn:test", "request id is 257 characters long"},
		{"long-source", "urn:" + strings.Repeat("s", events.MaxSourceLen), "source is 1028 characters long"},
	}
	for _, c := range cases {
		// Structured mode: binary mode could not even carry some of these ids. The sdk trims
		// the id it is given, so the id is written into the JSON.
		ev := installtest.RequestEvent(t, "placeholder-id", jiraOnNewSite("unanswerable"))
		ev.SetSource(c.source)
		m := installtest.StructuredMsg(t, subjects.Requested(), ev)
		id, _ := json.Marshal(c.id)
		m.Data = bytes.Replace(m.Data, []byte(`"placeholder-id"`), id, 1)
		e.PublishMsg(m)
	}
	var dead []installtest.Message
	e.Eventually("every message dead-lettered", func() bool {
		dead = e.Stream(events.StreamDeadLetter)
		return len(dead) == len(cases)
	})
	for _, c := range cases {
		found := false
		for _, d := range dead {
			found = found || strings.Contains(d.Header.Get(events.HeaderError), c.reason)
		}
		if !found {
			t.Errorf("no dead letter says %q", c.reason)
		}
	}
	if n := len(e.Sandbox.Requests()); n != 0 {
		t.Errorf("%d Atlassian calls", n)
	}
	if n := len(e.Outcomes()); n != 0 {
		t.Errorf("%d outcome events", n)
	}
	e.Publish("after-unanswerable", jiraOnNewSite("after"))
	if term := e.Terminal("after-unanswerable"); term.Type != subjects.Provisioned() {
		t.Fatalf("after: %s %v", term.Type, term.Data)
	}
	e.Settled()
}

// An app without chargeElement and quantity is ordered without charge quantities: it used to
// be ordered with [{"chargeElement": "", "quantity": 0}].
func TestAppWithoutChargeHasNoChargeQuantities(t *testing.T) {
	e := newEnv(t)
	e.StartDefault()
	e.Publish("app-no-charge", obj{"orgId": atlassiantest.OrgID, "adminEmail": adminEmail,
		"site": obj{"name": atlassiantest.ExistingSiteName, "create": false},
		"app":  obj{"appKey": atlassiantest.AppKey, "offeringId": atlassiantest.AppOfferingID, "hostProduct": "jira-software"}})
	if term := e.Terminal("app-no-charge"); term.Type != subjects.Provisioned() {
		t.Fatalf("%s %v", term.Type, term.Data)
	}
	orders := e.OrdersOf("app-no-charge")
	if len(orders) != 1 || len(orders[0].Items) != 1 {
		t.Fatalf("orders %+v", orders)
	}
	if u := orders[0].Items[0].OptedUsageOptions; u != nil && u.ChargingDetails != nil && u.ChargingDetails.ChargeQuantities != nil {
		t.Errorf("charge quantities %+v, want none", u.ChargingDetails.ChargeQuantities)
	}
}

// A request whose answer would not fit an outcome is invalid_request, before any Atlassian
// call: 4,000 empty products used to take seconds to validate and give a failed event of
// megabytes that could be neither stored nor published, the message retried forever.
func TestOversizedRequestsAreInvalid(t *testing.T) {
	e := newEnv(t)
	e.StartDefault()
	empty := make([]obj, 4000)
	for i := range empty {
		empty[i] = obj{}
	}
	e.Publish("empty-products", productsRequest(newSite("empty"), empty...))
	many := make([]obj, 300)
	for i := range many {
		many[i] = product(atlassiantest.JiraOfferingID, "jira", "user", atlassiantest.JiraParentEntitlementID)
	}
	e.Publish("many-products", productsRequest(newSite("many"), many...))

	for id, want := range map[string]string{"empty-products": "products[0].offeringId", "many-products": "products"} {
		term := e.Terminal(id)
		if term.Type != subjects.Failed() || term.Data["code"] != events.CodeInvalidRequest {
			t.Fatalf("%s: %s %v", id, term.Type, term.Data["code"])
		}
		errs, _ := term.Data["errors"].([]any)
		if len(errs) == 0 || len(errs) > events.MaxFieldErrors+1 {
			t.Fatalf("%s: %d errors", id, len(errs))
		}
		if first := errs[0].(map[string]any); first["field"] != want {
			t.Errorf("%s: first error %v, want %s", id, first, want)
		}
		if n := len(term.Raw); n > events.MaxOutcomeData {
			t.Errorf("%s: %d bytes of data", id, n)
		}
	}
	if n := len(e.Sandbox.Requests()); n != 0 {
		t.Errorf("%d Atlassian calls", n)
	}
	e.Settled()
}
