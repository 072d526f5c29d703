package journey_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/calls"
	"github.com/procurement/atlassian-installer/handlers/journey"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// TestOrderRetryDecisions: the journey's decisions about an order whose call failed follow
// its retry policy: a retry after Wait while the order may still be sent, and past the
// send-by time, reads only, after Wait doubling up to MaxWait. (Attempts within a call wait
// on the clock: handlers' TestOrderRetryWithinAndBetweenCalls runs them.)
func TestOrderRetryDecisions(t *testing.T) {
	w := newWorld(t, atlassiantest.WithFault(atlassiantest.EndpointCreateOrder,
		atlassiantest.Fault{Error: 1, ErrorStatus: http.StatusServiceUnavailable}))
	// The client's own retry would repeat each order POST: the policy's one attempt wins.
	c, err := w.sandbox.Client(client.WithClock(w.clock), client.WithRetry(5, time.Second),
		client.WithRateLimit(client.FamilyOrders, 0), client.WithRateLimit(client.FamilyEntitlementDetails, 0))
	if err != nil {
		t.Fatal(err)
	}
	policy := calls.OrderRetry{Attempts: 1, Wait: 40 * time.Second, MaxWait: 100 * time.Second}.WithDefaults(pollInterval, time.Minute)
	w.j = journey.New(journey.ClientAPI(c), journey.Config{
		Subjects:      events.NewSubjects(""),
		CheckOutcomes: func(string, *events.Request) error { return nil },
		OrderWindow:   2 * time.Minute, PollInterval: pollInterval, MaxPollInterval: time.Minute, JourneyTimeout: 2 * time.Hour,
		OrderRetry: policy,
		Clock:      w.clock, Now: w.clock.Now,
	})
	r := w.start("req-1")
	// Sent at 0s, 40s and 80s after the first order POST; read only from 120s, past the
	// send-by time of 108s.
	want := []time.Duration{40 * time.Second, 40 * time.Second, 40 * time.Second, 40 * time.Second, 80 * time.Second, 100 * time.Second, 100 * time.Second}
	var waits []time.Duration
	for range 50 {
		if len(waits) == len(want) {
			break
		}
		d := w.step(r)
		switch {
		case d.Kind == journey.Retry && r.Record.Step == record.StepOrdering:
			waits = append(waits, d.After)
		case d.Kind != journey.Advance:
			t.Fatalf("at %s: %v %v, want the order retried", r.Record.Step, d.Kind, d.Err)
		}
	}
	if len(waits) < len(want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want %v…", waits, want)
		}
	}
	posts := w.sandbox.RequestsTo(atlassiantest.EndpointCreateOrder)
	if len(posts) != 3 {
		t.Errorf("%d order POSTs, want one attempt in each of the three calls before the send-by time", len(posts))
	}
	for _, p := range posts {
		if !strings.Contains(p.Body, r.Record.OrderID) {
			t.Errorf("order POST without the journey's orderId: %s", p.Body)
		}
	}
}
