package handlers_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/record"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

func jiraOnNewSite(site string) obj {
	return productsRequest(newSite(site), product(atlassiantest.JiraOfferingID, "jira", "user", atlassiantest.JiraParentEntitlementID))
}

// TestFailureCodes drives a journey into each failure of the contract and checks the
// failed event: stage, code, retryable, httpStatus, the ids known by then, and what was
// (not) sent to Atlassian.
func TestFailureCodes(t *testing.T) {
	appOn := func(host string) obj {
		return obj{"orgId": atlassiantest.OrgID, "adminEmail": adminEmail,
			"site": obj{"name": atlassiantest.ExistingSiteName, "create": false},
			"app":  obj{"appKey": atlassiantest.AppKey, "offeringId": atlassiantest.AppOfferingID, "hostProduct": host, "chargeElement": "user", "quantity": 10}}
	}
	tests := []struct {
		name       string
		request    obj
		endpoint   atlassiantest.Endpoint
		fault      atlassiantest.Fault
		stage      string
		code       string
		retryable  bool
		httpStatus float64
		ordered    bool // an order was sent: orderId in the event, one order in the sandbox
		provisions int  // provisioning requests sent
	}{
		{name: "unauthorized", request: jiraOnNewSite("f-401"), endpoint: atlassiantest.EndpointEntitlementDetails,
			fault: atlassiantest.Fault{Error: 1, ErrorStatus: 401}, stage: "lookup", code: "unauthorized", httpStatus: 401},
		{name: "forbidden", request: jiraOnNewSite("f-403"), endpoint: atlassiantest.EndpointEntitlementDetails,
			fault: atlassiantest.Fault{Error: 1, ErrorStatus: 403}, stage: "lookup", code: "forbidden", httpStatus: 403},
		{name: "not found by the API", request: jiraOnNewSite("f-404"), endpoint: atlassiantest.EndpointEntitlementDetails,
			fault: atlassiantest.Fault{Error: 1, ErrorStatus: 404}, stage: "lookup", code: "not_found", httpStatus: 404},
		{name: "no host workspace on the site", request: appOn("bitbucket"), stage: "lookup", code: "not_found"},
		{name: "rate limited beyond the client's retries", request: appOn("jira-software"), endpoint: atlassiantest.EndpointWorkspaces,
			fault: atlassiantest.Fault{RateLimit: 1}, stage: "lookup", code: "rate_limited", retryable: true, httpStatus: 429},
		{name: "server error on provisioning is not re-sent", request: jiraOnNewSite("f-500"), endpoint: atlassiantest.EndpointProvisionProducts,
			fault: atlassiantest.Fault{Error: 1, ErrorStatus: 500}, stage: "provision", code: "api_error", retryable: true, httpStatus: 500, provisions: 1},
		{name: "503 on provisioning is not re-sent", request: jiraOnNewSite("f-503"), endpoint: atlassiantest.EndpointProvisionProducts,
			fault: atlassiantest.Fault{Error: 1, ErrorStatus: 503}, stage: "provision", code: "api_error", retryable: true, httpStatus: 503, provisions: 1},
		{name: "dropped provisioning connection is not re-sent", request: jiraOnNewSite("f-drop"), endpoint: atlassiantest.EndpointProvisionProducts,
			fault: atlassiantest.Fault{Ambiguous: 1}, stage: "provision", code: "api_error", retryable: true, provisions: 1},
		{name: "client error on provisioning", request: jiraOnNewSite("f-prov-400"), endpoint: atlassiantest.EndpointProvisionProducts,
			fault: atlassiantest.Fault{Error: 1, ErrorStatus: 400}, stage: "provision", code: "api_error", httpStatus: 400, provisions: 1},
		{name: "provisioning failed", request: jiraOnNewSite("f-provfail"), endpoint: atlassiantest.EndpointProvisionProducts,
			fault: atlassiantest.Fault{ProvisionFails: true}, stage: "provision", code: "provision_failed", ordered: true, provisions: 1},
		{name: "order rejected", request: jiraOnNewSite("f-422"), endpoint: atlassiantest.EndpointCreateOrder,
			fault: atlassiantest.Fault{Error: 1, ErrorStatus: 422}, stage: "order", code: "order_rejected", httpStatus: 422, provisions: 1},
		{name: "order items failed", request: jiraOnNewSite("f-items"), endpoint: atlassiantest.EndpointCreateOrder,
			fault: atlassiantest.Fault{OrderItemsFail: true}, stage: "order", code: "order_failed", ordered: true, provisions: 1},
	}
	e := newEnv(t)
	e.StartDefault()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.Sandbox.ClearFaults()
			if tt.endpoint != "" {
				e.Sandbox.SetFault(tt.endpoint, tt.fault)
			}
			defer e.Sandbox.ClearFaults()
			e.Sandbox.ResetRequests()
			id := fmt.Sprintf("failure-%d", i)
			e.Publish(id, tt.request)
			term := e.Terminal(id)
			f := term.Data
			if term.Type != subjects.Failed() || f["code"] != tt.code || f["stage"] != tt.stage || f["retryable"] != tt.retryable ||
				f["httpStatus"] != tt.httpStatus {
				t.Fatalf("got %s %v; want failed stage %s code %s retryable %v httpStatus %v",
					term.Type, f, tt.stage, tt.code, tt.retryable, tt.httpStatus)
			}
			if f["requestId"] != id || f["orgId"] != atlassiantest.OrgID || f["message"] == "" {
				t.Errorf("failed event %v", f)
			}
			if _, has := f["orderId"]; has != (tt.ordered || tt.code == "order_rejected") {
				t.Errorf("orderId present %v, want %v (%v)", has, tt.ordered, f)
			}
			if _, has := f["provisionRequestId"]; has != (tt.ordered || tt.code == "order_rejected") {
				t.Errorf("provisionRequestId in %v", f)
			}
			if n := len(e.Sandbox.RequestsTo(atlassiantest.EndpointProvisionProducts)); n != tt.provisions {
				t.Errorf("%d provisioning requests, want %d", n, tt.provisions)
			}
			want := 0
			if tt.ordered {
				want = 1
			}
			if n := len(e.OrdersOf(id)); n != want {
				t.Errorf("%d orders, want %d", n, want)
			}
			if n := len(installtest.Of(e.Outcomes(), id)); n != want+1 {
				t.Errorf("%d events, want %d", n, want+1)
			}
			if st := e.Journey(id); st.Status != record.StatusFailed || st.Outcome == nil || st.Outcome.Failed.Code != tt.code {
				t.Errorf("state %+v", st)
			}
		})
	}
	e.Settled()
}

// TestInvalidRequest: every wrong field is listed, nothing is called.
func TestInvalidRequest(t *testing.T) {
	e := newEnv(t)
	e.StartDefault()
	e.Publish("invalid-1", obj{
		"orgId": atlassiantest.OrgID,
		"site":  obj{"name": "Not A Name", "create": true},
		"products": []obj{
			{"offeringId": atlassiantest.JiraOfferingID, "chargeElement": "user", "quantity": 0},
		},
	})
	term := e.Terminal("invalid-1")
	f := term.Data
	if term.Type != subjects.Failed() || f["stage"] != "validation" || f["code"] != "invalid_request" || f["retryable"] != false {
		t.Fatalf("got %s %v", term.Type, f)
	}
	fields := map[string]bool{}
	for _, fe := range f["errors"].([]any) {
		fields[fe.(map[string]any)["field"].(string)] = true
	}
	for _, want := range []string{"adminEmail", "site.name", "site.timezone", "products[0].quantity"} {
		if !fields[want] {
			t.Errorf("errors %v lack %s", f["errors"], want)
		}
	}
	if f["orgId"] != atlassiantest.OrgID {
		t.Errorf("orgId %v", f["orgId"])
	}
	if n := len(e.Sandbox.Requests()); n != 0 {
		t.Errorf("%d Atlassian calls for an invalid request", n)
	}
	e.Settled()
}

// TestDeadlineExceeded: provisioning that never finishes ends at the journey timeout, not
// retryable since the order was placed.
func TestDeadlineExceeded(t *testing.T) {
	e := newEnv(t, atlassiantest.WithProvisionDelay(10*time.Hour))
	cfg := e.Config()
	cfg.OrderWindow, cfg.JourneyTimeout = time.Minute, 2*time.Minute
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)
	e.Publish("slow-1", jiraOnNewSite("slow"))
	// The clock stands still until the order is placed, so the timeout cannot strike in the
	// look-ups however slowly this machine runs them.
	installtest.Eventually(t, "the order placed", func() bool { return len(e.OrdersOf("slow-1")) == 1 })
	term := e.Terminal("slow-1")
	f := term.Data
	if term.Type != subjects.Failed() || f["code"] != "deadline_exceeded" || f["stage"] != "completion" || f["retryable"] != false {
		t.Fatalf("got %s %v", term.Type, f)
	}
	if f["orderId"] != record.OrderID("slow-1") || f["provisionRequestId"] == nil {
		t.Errorf("ids missing: %v", f)
	}
	if evs := installtest.Of(e.Outcomes(), "slow-1"); len(evs) != 2 || evs[0].Type != subjects.Ordered() {
		t.Errorf("events %v", types(evs))
	}
}

// TestTransientAfterProvisioning: once provisioning was answered, an order POST that
// fails beyond the client's retries is re-sent with the same orderId, and status polls
// ride out errors; the journey still succeeds with one order.
func TestTransientAfterProvisioning(t *testing.T) {
	e := newEnv(t)
	e.StartDefault()
	e.Sandbox.SetFault(atlassiantest.EndpointCreateOrder, atlassiantest.Fault{Error: 1, ErrorStatus: 500, Times: 10})
	e.Sandbox.SetFault(atlassiantest.EndpointProvisionStatus, atlassiantest.Fault{Error: 1, ErrorStatus: 502, Times: 20})
	e.Publish("transient-1", jiraOnNewSite("transient"))
	if term := e.Terminal("transient-1"); term.Type != subjects.Provisioned() {
		t.Fatalf("%s %v", term.Type, term.Data)
	}
	if n := len(e.OrdersOf("transient-1")); n != 1 {
		t.Errorf("%d orders", n)
	}
	posts := e.Sandbox.RequestsTo(atlassiantest.EndpointCreateOrder)
	if len(posts) != 11 {
		t.Errorf("%d order POSTs, want 10 refused and 1 accepted", len(posts))
	}
	if n := e.Sandbox.ProvisionRequests(); n != 1 {
		t.Errorf("%d provisioning requests", n)
	}
}

// TestNoOrderAfterWindowDuringRetries: the client does not wait out a Retry-After that ends
// past the time left to send the order, so no attempt is accepted after it; the only attempt
// was refused with 429, so nothing can have been ordered: the journey is back before the
// order, and once the window has passed it fails order_window_expired, retryable.
func TestNoOrderAfterWindowDuringRetries(t *testing.T) {
	e := newEnv(t, atlassiantest.WithFault(atlassiantest.EndpointCreateOrder,
		atlassiantest.Fault{RateLimit: 1, RetryAfter: 3 * time.Second, Times: 6}))
	cfg := e.Config()
	cfg.OrderWindow = 2500 * time.Millisecond
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)
	e.Publish("window-retry-1", jiraOnNewSite("window-retry"))
	// Time stands still until the refused order is recorded as not sent, so that no attempt
	// is in flight when the window passes (one cut in flight may have been processed).
	e.EventuallyStep("the refused order recorded as not sent", 0, func() bool {
		return len(e.Sandbox.RequestsTo(atlassiantest.EndpointCreateOrder)) == 1 &&
			e.Journey("window-retry-1").Step == record.StepProvisionAccepted
	})
	term := e.Terminal("window-retry-1")
	if f := term.Data; term.Type != subjects.Failed() || f["code"] != "order_window_expired" || f["retryable"] != true {
		t.Fatalf("%s %v", term.Type, f)
	}
	for _, r := range e.Sandbox.RequestsTo(atlassiantest.EndpointCreateOrder) {
		if r.Status == 200 {
			t.Errorf("an order was accepted after the window: %+v", r)
		}
	}
}

// TestHungOrderCallIsCutAndResent: an order call that hangs (the sandbox answers after an
// hour) is cut after the order's call timeout, not at the window's end; the journey reads the
// order, finds none, and sends it again with the same orderId while the window is open.
func TestHungOrderCallIsCutAndResent(t *testing.T) {
	e := newEnv(t, atlassiantest.WithFault(atlassiantest.EndpointCreateOrder,
		atlassiantest.Fault{Latency: time.Hour, Times: 1}))
	e.StartDefault() // a call timeout of 5m (the harness's) and OrderWindow 10m (the default)
	e.Publish("hung-order-1", jiraOnNewSite("hung-order"))
	term := e.Terminal("hung-order-1")
	if term.Type != subjects.Provisioned() {
		t.Fatalf("%s %v, want provisioned", term.Type, term.Data)
	}
	posts := e.Sandbox.RequestsTo(atlassiantest.EndpointCreateOrder)
	if len(posts) != 2 {
		t.Fatalf("%d order POSTs, want the hung one and one more", len(posts))
	}
	orders := e.OrdersOf("hung-order-1")
	if len(orders) != 1 || orders[0].OrderID != record.OrderID("hung-order-1") {
		t.Errorf("orders %+v, want one with the request's orderId", orders)
	}
	if n := len(e.Sandbox.RequestsTo(atlassiantest.EndpointGetOrder)); n == 0 {
		t.Error("the order was sent again without reading it first")
	}
}

// TestLocalRefusalIsNotTransient: a value that cannot travel in an HTTP header (here a
// transaction account with CR LF, found by the billing look-up) is refused by the client
// before anything is sent; the journey fails at once, not retryable, instead of taking
// the refusal for a network failure and trying until the journey timeout.
func TestLocalRefusalIsNotTransient(t *testing.T) {
	f := atlassiantest.DefaultFixtures()
	for i := range f.Entitlements {
		if f.Entitlements[i].ID == atlassiantest.JiraParentEntitlementID {
			f.Entitlements[i].TransactionAccountID = "ta\r\nX-Injected: 1"
		}
	}
	e := newEnv(t, atlassiantest.WithFixtures(f))
	e.StartDefault()
	e.Publish("refused-1", jiraOnNewSite("refused"))
	term := e.Terminal("refused-1")
	if term.Type != subjects.Failed() || term.Data["code"] != "api_error" || term.Data["stage"] != "order" || term.Data["retryable"] != false {
		t.Fatalf("%s %v", term.Type, term.Data)
	}
	if msg, _ := term.Data["message"].(string); strings.Contains(msg, "X-Injected") {
		t.Errorf("message %q repeats the refused value", msg)
	}
	if n := len(e.Sandbox.RequestsTo(atlassiantest.EndpointCreateOrder)); n != 0 {
		t.Errorf("%d order POSTs reached the API", n)
	}
	if n := len(e.OrdersOf("refused-1")); n != 0 {
		t.Errorf("%d orders", n)
	}
	e.Settled()
}

// TestFailedMessagesSayWhatHappened: a failed event's message says what the API answered
// and what the installer did; the address of the API, its URLs and Go's network errors stay
// in the logs (Terminal checks every failed event of the suite for them).
func TestFailedMessagesSayWhatHappened(t *testing.T) {
	t.Run("no connection", func(t *testing.T) {
		e := newEnv(t)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := "http://" + l.Addr().String()
		l.Close() // nothing listens there any more: every dial is refused
		e.Start(e.JS, handlers.ClientAPI(e.NewClient(client.WithBaseURL(dead), client.WithAPIKey(atlassiantest.DefaultAPIKey))), e.Config())
		e.Publish("msg-dial", jiraOnNewSite("msg-dial"))
		term := e.Terminal("msg-dial")
		installtest.CheckFailedMessage(t, term, dead)
		if msg := term.Data["message"]; term.Data["code"] != "api_error" || term.Data["retryable"] != true ||
			!strings.Contains(msg.(string), "nothing was provisioned or ordered") {
			t.Errorf("%s %v", term.Type, term.Data)
		}
	})
	t.Run("answers", func(t *testing.T) {
		e := newEnv(t)
		e.StartDefault()
		for _, tc := range []struct {
			id       string
			endpoint atlassiantest.Endpoint
			fault    atlassiantest.Fault
			says     []string
		}{
			{"msg-500", atlassiantest.EndpointProvisionProducts, atlassiantest.Fault{Error: 1, ErrorStatus: 500},
				[]string{"500 Internal Server Error", "injected fault", "nothing was ordered"}},
			{"msg-drop", atlassiantest.EndpointProvisionProducts, atlassiantest.Fault{Ambiguous: 1},
				[]string{"no answer", "nothing was ordered"}},
			{"msg-404", atlassiantest.EndpointEntitlementDetails, atlassiantest.Fault{Error: 1, ErrorStatus: 404},
				[]string{"404 Not Found", "nothing was provisioned or ordered"}},
		} {
			e.Sandbox.SetFault(tc.endpoint, tc.fault)
			e.Publish(tc.id, jiraOnNewSite(tc.id))
			term := e.Terminal(tc.id)
			e.Sandbox.ClearFaults()
			msg, _ := term.Data["message"].(string)
			for _, want := range tc.says {
				if !strings.Contains(msg, want) {
					t.Errorf("%s: message %q does not say %q", tc.id, msg, want)
				}
			}
		}
	})
}
