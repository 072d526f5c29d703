package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/journey"
	"github.com/procurement/atlassian-installer/handlers/record"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// TestAmbiguousOrderAtWindowEnd: every order POST is stored and its answer dropped, until
// the call is cut at the window's end, and reads of the order lag its creation past the
// window. One read's 404 does not end the journey "nothing was ordered": it reads the order
// with back-off until it appears, announces it, and finishes.
func TestAmbiguousOrderAtWindowEnd(t *testing.T) {
	e := newEnv(t,
		atlassiantest.WithFault(atlassiantest.EndpointCreateOrder, atlassiantest.Fault{Ambiguous: 1}),
		atlassiantest.WithFault(atlassiantest.EndpointGetOrder, atlassiantest.Fault{ReadLag: 12 * time.Minute}))
	e.StartDefault()
	e.Publish("amb-window-1", jiraOnNewSite("amb-window"))
	term := e.Terminal("amb-window-1")
	if term.Type != subjects.Provisioned() {
		t.Fatalf("%s %v, want provisioned", term.Type, term.Data)
	}
	if evs := installtest.Of(e.Outcomes(), "amb-window-1"); len(evs) != 2 || evs[0].Type != subjects.Ordered() {
		t.Errorf("events %v, want ordered then provisioned", types(evs))
	}
	if n := len(e.OrdersOf("amb-window-1")); n != 1 {
		t.Errorf("%d orders", n)
	}
	e.Settled()
}

// TestAmbiguousOrderNeverSeen: the order is stored, its answers dropped, and every read of it
// fails until the journey timeout: the journey fails then, not retryable, with the orderId,
// and without saying that nothing was ordered.
func TestAmbiguousOrderNeverSeen(t *testing.T) {
	e := newEnv(t,
		atlassiantest.WithFault(atlassiantest.EndpointCreateOrder, atlassiantest.Fault{Ambiguous: 1}),
		atlassiantest.WithFault(atlassiantest.EndpointGetOrder, atlassiantest.Fault{ReadLag: 3 * time.Hour}))
	cfg := e.Config()
	cfg.OrderWindow, cfg.JourneyTimeout = time.Minute, 5*time.Minute
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)
	e.Publish("amb-never-1", jiraOnNewSite("amb-never"))
	term := e.Terminal("amb-never-1")
	f := term.Data
	if term.Type != subjects.Failed() || f["code"] != "deadline_exceeded" || f["retryable"] != false || f["orderId"] != record.OrderID("amb-never-1") {
		t.Fatalf("%s %v", term.Type, f)
	}
	if msg, _ := f["message"].(string); msg == "" || strings.Contains(msg, "nothing was ordered") {
		t.Errorf("message %q", msg)
	}
	if n := len(e.OrdersOf("amb-never-1")); n != 1 {
		t.Errorf("%d orders", n)
	}
	if n := len(e.Sandbox.RequestsTo(atlassiantest.EndpointGetOrder)); n < 3 {
		t.Errorf("the order was read %d times before the journey gave up", n)
	}
}

// TestStatusURLRefusalsAfterOrder: after the order, 401, 403 and 404 from the status URL are
// polled through until they pass, not a failure of the paid journey.
func TestStatusURLRefusalsAfterOrder(t *testing.T) {
	e := newEnv(t)
	e.StartDefault()
	for _, status := range []int{401, 403, 404} {
		id := fmt.Sprintf("status-%d", status)
		e.Sandbox.SetFault(atlassiantest.EndpointProvisionStatus, atlassiantest.Fault{Error: 1, ErrorStatus: status, Times: 3})
		e.Publish(id, jiraOnNewSite(id))
		if term := e.Terminal(id); term.Type != subjects.Provisioned() {
			t.Errorf("%d from the status URL: %s %v, want provisioned", status, term.Type, term.Data)
		}
	}
	e.Settled()
}

// TestTimeoutAtOrderingReadsTheOrder: an instance dies once its order was accepted, before
// recording the answer, and the journey timeout passes before another instance resumes it.
// The order is read first: announced as ordered, then the journey fails, not retryable.
func TestTimeoutAtOrderingReadsTheOrder(t *testing.T) {
	e := newEnv(t)
	cfg := e.Config()
	cfg.AckWait = time.Second
	first := e.startKilled(cfg, &killSwitch{afterOrder: true})
	id := "timeout-ordering-1"
	e.Publish(id, jiraOnNewSite("timeout-ordering"))
	awaitDeath(t, first)
	e.Clock.Advance(3 * time.Hour)
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)
	term := e.Terminal(id)
	f := term.Data
	if term.Type != subjects.Failed() || f["code"] != "deadline_exceeded" || f["retryable"] != false || f["orderId"] != record.OrderID(id) {
		t.Fatalf("%s %v", term.Type, f)
	}
	if evs := installtest.Of(e.Outcomes(), id); len(evs) != 2 || evs[0].Type != subjects.Ordered() {
		t.Errorf("events %v, want ordered then failed", types(evs))
	}
	if n := len(e.OrdersOf(id)); n != 1 {
		t.Errorf("%d orders", n)
	}
}

// TestProvisioningNeedsTheWholeWindow: look-ups that leave less than the order window before
// the journey timeout end the journey before provisioning, retryable: nothing was provisioned.
func TestProvisioningNeedsTheWholeWindow(t *testing.T) {
	e := newEnv(t, atlassiantest.WithFault(atlassiantest.EndpointEntitlementDetails, atlassiantest.Fault{Latency: 6 * time.Minute}))
	cfg := e.Config()
	cfg.JourneyTimeout = 15 * time.Minute
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)
	e.Publish("late-lookup-1", jiraOnNewSite("late-lookup"))
	term := e.Terminal("late-lookup-1")
	if f := term.Data; term.Type != subjects.Failed() || f["code"] != "deadline_exceeded" || f["retryable"] != true || f["orderId"] != nil {
		t.Fatalf("%s %v", term.Type, f)
	}
	if n := e.Sandbox.ProvisionRequests(); n != 0 {
		t.Errorf("%d provisioning requests", n)
	}
}

// lateInstallations answers provisioning only after a delay on the fake clock, as a slow
// network would.
type lateInstallations struct {
	journey.Installations
	e     *env
	delay time.Duration
}

func (s lateInstallations) ProvisionProducts(ctx context.Context, orgID string, req *client.ProvisionRequest) (*client.ProvisionResponse, *client.Response, error) {
	resp, r, err := s.Installations.ProvisionProducts(ctx, orgID, req)
	s.e.Clock.Advance(s.delay)
	return resp, r, err
}

// TestOrderWindowMargin: no order is sent in the window's last tenth (at most 30s): with a
// 10 minute window, an order that could go out only 9m40s after the provisioning request is
// not sent.
func TestOrderWindowMargin(t *testing.T) {
	e := newEnv(t)
	api := handlers.ClientAPI(e.Client)
	api.Installations = lateInstallations{Installations: e.Client.Installations, e: e, delay: 9*time.Minute + 40*time.Second}
	e.Start(e.JS, api, e.Config())
	e.Publish("margin-1", jiraOnNewSite("margin"))
	term := e.Terminal("margin-1")
	if f := term.Data; term.Type != subjects.Failed() || f["code"] != "order_window_expired" || f["retryable"] != true {
		t.Fatalf("%s %v", term.Type, f)
	}
	if n := len(e.Sandbox.RequestsTo(atlassiantest.EndpointCreateOrder)); n != 0 {
		t.Errorf("%d order requests in the window's margin", n)
	}
}
