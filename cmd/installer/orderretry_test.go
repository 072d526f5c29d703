package main

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/handlers/record"
	"github.com/procurement/atlassian-installer/internal/installtest"
	"github.com/procurement/atlassian-installer/internal/natstest"
)

// The order's retry policy set by the environment reaches the running installer: an order
// POST that hangs is cut at INSTALLER_ORDER_CALL_TIMEOUT (300ms, where the default minute
// would outlast the wait for the outcome), and an order POST answered 503 is not repeated
// within its call with INSTALLER_ORDER_RETRY_ATTEMPTS=1 (the default of 5 would repeat it at
// once): the order is read, then sent again with its orderId.
func TestOrderRetryFromEnvironment(t *testing.T) {
	ns := natstest.StartServer(t)
	sandbox := atlassiantest.NewServer(
		atlassiantest.WithAPIKey("key"),
		atlassiantest.WithProvisionDelay(10*time.Millisecond),
		atlassiantest.WithOrderProcessingDelay(10*time.Millisecond),
		atlassiantest.WithFault(atlassiantest.EndpointCreateOrder, atlassiantest.Fault{Latency: time.Hour, Times: 1}),
	)
	t.Cleanup(sandbox.Close)
	p := start(t, []string{"--http-addr=127.0.0.1:0", "--log-format=json"}, map[string]string{
		"NATS_URL":                       "nats://" + ns.Addr().String(),
		"ATLASSIAN_API_URL":              sandbox.URL,
		"ATLASSIAN_API_KEY":              "key",
		"INSTALLER_API_RATE_LIMITS":      "off",
		"INSTALLER_POLL_INTERVAL":        "20ms",
		"INSTALLER_ORDER_CALL_TIMEOUT":   "300ms",
		"INSTALLER_ORDER_RETRY_ATTEMPTS": "1",
		"INSTALLER_ORDER_RETRY_WAIT":     "50ms",
	})
	_, js := natstest.Connect(t, ns)
	data, err := os.ReadFile("../../examples/new-site-jira.json")
	if err != nil {
		t.Fatal(err)
	}

	publishRequest(t, js, "hung-order", json.RawMessage(data), false)
	if term := installtest.AwaitTerminal(t, js, waitTimeout, "hung-order")["hung-order"]; term.Type != installtest.Subjects.Provisioned() {
		t.Fatalf("hung-order: %s %v", term.Type, term.Data)
	}

	sandbox.SetFault(atlassiantest.EndpointCreateOrder, atlassiantest.Fault{Error: 1, ErrorStatus: http.StatusServiceUnavailable, Times: 1})
	other := strings.Replace(string(data), `"acme-jira"`, `"acme-jira-2"`, 1) // a new site again
	publishRequest(t, js, "refused-order", json.RawMessage(other), false)
	if term := installtest.AwaitTerminal(t, js, waitTimeout, "refused-order")["refused-order"]; term.Type != installtest.Subjects.Provisioned() {
		t.Fatalf("refused-order: %s %v", term.Type, term.Data)
	}
	id := record.OrderID("refused-order")
	var seen []string
	for _, r := range sandbox.Requests() {
		if strings.Contains(r.Path, id) || strings.Contains(r.Body, id) {
			seen = append(seen, r.Method+" "+http.StatusText(r.Status))
		}
	}
	if len(seen) < 3 || strings.Join(seen[:3], ", ") != "POST Service Unavailable, GET Not Found, POST OK" {
		t.Errorf("calls of the order %v, want one POST answered 503, a read, and the POST again", seen)
	}
	if err := p.stop(t); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.stderr.String(), `"order_call_timeout":"300ms","order_retry_attempts":1`) {
		t.Errorf("the order's retry policy is not in the configuration logged at start-up:\n%s", p.stderr)
	}
}
