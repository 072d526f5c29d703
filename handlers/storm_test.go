package handlers_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// stormFaults are the ambiguity storm's: a fifth of the order and provisioning answers lost
// after their effect, and reads of orders and provisioning statuses lagging writes by two
// minutes, far beyond the order window of the storm's installer.
func stormFaults() []atlassiantest.Option {
	lost := atlassiantest.Fault{Ambiguous: 0.2}
	lag := atlassiantest.Fault{ReadLag: 2 * time.Minute}
	return []atlassiantest.Option{
		atlassiantest.WithSeed(11),
		atlassiantest.WithFault(atlassiantest.EndpointCreateOrder, lost),
		atlassiantest.WithFault(atlassiantest.EndpointProvisionProducts, lost),
		atlassiantest.WithFault(atlassiantest.EndpointGetOrder, lag),
		atlassiantest.WithFault(atlassiantest.EndpointProvisionStatus, lag),
	}
}

// TestAmbiguityStorm runs a few hundred journeys on real NATS against a sandbox that loses a
// fifth of the order and provisioning answers after their effect and whose reads lag, with a
// client that tries each call once and a three second order window, so that many orders
// stay ambiguous past the window: no accepted order goes unannounced, none is placed twice,
// no failure after an order is retryable, and every request ends exactly once.
func TestAmbiguityStorm(t *testing.T) {
	const n = 240
	e := newEnv(t, stormFaults()...)
	cfg := e.Config()
	cfg.Concurrency = 32
	cfg.OrderWindow, cfg.JourneyTimeout = 3*time.Second, 20*time.Minute
	cfg.OrderRetry.Attempts = 1 // the order's calls too
	e.Start(e.JS, handlers.ClientAPI(e.NewClient(client.WithAPIKey(atlassiantest.DefaultAPIKey), client.WithRetry(1, time.Second))), cfg)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("storm-%03d", i)
		e.Publish(ids[i], jiraOnNewSite(ids[i]))
	}
	installtest.EventuallyAdvancingWithin(t, 3*time.Minute, e.Clock, installtest.Step, "every journey ended", func() bool {
		ended := map[string]bool{}
		for _, m := range e.Outcomes() {
			if installtest.IsTerminal(m) {
				ended[m.Subject] = true
			}
		}
		return len(ended) == n
	})
	e.Settled()
	s := installtest.TallyStorm(e.Outcomes(), ids, e.Sandbox.Orders())
	t.Log(s)
	for _, v := range s.Violations() {
		t.Error(v)
	}
	if s.Provisioned == 0 || s.FailedRetryable == 0 || s.Orders == 0 {
		t.Errorf("the storm did not mix its outcomes: %v", s)
	}
}
