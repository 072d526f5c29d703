package handlers_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// attempt is one HTTP request the installer's client sent, with the time it was sent on the
// Env's clock and the status answered (0: no answer, or none yet).
type attempt struct {
	method, path, orderID string
	at                    time.Time
	status                int
}

// attemptLog is a transport that records every attempt of the client's calls as it is sent.
type attemptLog struct {
	clock clockwork.Clock
	mu    sync.Mutex
	list  []attempt
}

func (l *attemptLog) RoundTrip(r *http.Request) (*http.Response, error) {
	a := attempt{method: r.Method, path: r.URL.Path, at: l.clock.Now()}
	if r.Method == http.MethodPost && r.GetBody != nil {
		if body, err := r.GetBody(); err == nil {
			var o struct{ OrderID string }
			_ = json.NewDecoder(body).Decode(&o)
			a.orderID = o.OrderID
		}
	}
	l.mu.Lock()
	i := len(l.list)
	l.list = append(l.list, a)
	l.mu.Unlock()
	resp, err := http.DefaultTransport.RoundTrip(r)
	if resp != nil {
		l.mu.Lock()
		l.list[i].status = resp.StatusCode
		l.mu.Unlock()
	}
	return resp, err
}

// of returns the attempts whose path holds part, in the order they were sent.
func (l *attemptLog) of(part string) []attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []attempt
	for _, a := range l.list {
		if strings.Contains(a.path, part) {
			out = append(out, a)
		}
	}
	return out
}

const ordersPath = "/commerce/api/v2/orders"

// startLogged starts an installer with cfg whose client records its attempts.
func (e *env) startLogged(cfg handlers.Config) *attemptLog {
	l := &attemptLog{clock: e.Clock}
	c := e.NewClient(client.WithAPIKey(atlassiantest.DefaultAPIKey), client.WithHTTPClient(&http.Client{Transport: l}))
	e.Start(e.JS, handlers.ClientAPI(c), cfg)
	return l
}

// TestOrderCallCutAtConfiguredTimeout: the order's retry policy bounds an order call: a POST
// that hangs is cut at OrderRetry.CallTimeout (here 90s, not the harness's 5m), the order is
// read at once, and sent again with the same orderId. Once the POST is sent, the clock moves
// to 90s after it and is held there: only a call bound of 90s at most can end it.
func TestOrderCallCutAtConfiguredTimeout(t *testing.T) {
	e := newEnv(t, atlassiantest.WithFault(atlassiantest.EndpointCreateOrder,
		atlassiantest.Fault{Latency: time.Hour, Times: 1}))
	cfg := e.Config()
	cfg.OrderRetry.CallTimeout = 90 * time.Second
	log := e.startLogged(cfg)
	e.Publish("cut-1", jiraOnNewSite("cut"))
	e.Eventually("the order POST", func() bool { return len(log.of(ordersPath)) > 0 })
	e.Clock.Advance(90*time.Second - e.Clock.Since(log.of(ordersPath)[0].at))
	e.EventuallyStep("the order read after the cut", 0, func() bool { return len(log.of(ordersPath)) > 1 })
	if term := e.Terminal("cut-1"); term.Type != subjects.Provisioned() {
		t.Fatalf("%s %v, want provisioned", term.Type, term.Data)
	}
	calls := log.of(ordersPath)
	if len(calls) < 3 || calls[0].method != "POST" || calls[0].status != 0 || calls[1].method != "GET" || calls[2].method != "POST" || calls[2].status != 200 {
		t.Fatalf("order calls %+v, want the hung POST, a read, and a POST answered", calls)
	}
	checkOneOrder(t, e, "cut-1", calls)
}

// TestOrderRetryWithinAndBetweenCalls: the order's calls follow the policy's attempts and
// back-off (three POSTs answered 503, at least 5s apart: 10s less its jitter), then the
// journey reads the order, waits OrderRetry.Wait (40s), and sends it again with the same
// orderId. (The back-off's cap is the client's to keep: client.TestContextWithRetry.)
func TestOrderRetryWithinAndBetweenCalls(t *testing.T) {
	e := newEnv(t, atlassiantest.WithFault(atlassiantest.EndpointCreateOrder,
		atlassiantest.Fault{Error: 1, ErrorStatus: http.StatusServiceUnavailable, Times: 3}))
	cfg := e.Config()
	cfg.OrderRetry.Attempts, cfg.OrderRetry.Backoff, cfg.OrderRetry.MaxBackoff = 3, 10*time.Second, 10*time.Second
	cfg.OrderRetry.Wait = 40 * time.Second
	log := e.startLogged(cfg)
	e.Publish("attempts-1", jiraOnNewSite("attempts"))
	if term := e.Terminal("attempts-1"); term.Type != subjects.Provisioned() {
		t.Fatalf("%s %v, want provisioned", term.Type, term.Data)
	}
	calls := log.of(ordersPath)
	if len(calls) < 5 {
		t.Fatalf("order calls %+v, want 3 POSTs, a read and a POST", calls)
	}
	for i, c := range calls[:3] {
		if c.method != "POST" || c.status != http.StatusServiceUnavailable {
			t.Errorf("attempt %d: %+v, want a POST answered 503", i+1, c)
		}
		if gap := c.at.Sub(calls[max(i-1, 0)].at); i > 0 && gap < 5*time.Second {
			t.Errorf("attempt %d came %s after the one before, want at least the back-off of 10s less its jitter", i+1, gap)
		}
	}
	if calls[3].method != "GET" || calls[4].method != "POST" || calls[4].status != 200 {
		t.Fatalf("after the call: %+v, want a read, then a POST answered", calls[3:5])
	}
	if wait := calls[4].at.Sub(calls[3].at); wait < 40*time.Second {
		t.Errorf("the order was sent again %s after it was read, want the configured wait of 40s", wait)
	}
	checkOneOrder(t, e, "attempts-1", calls)
}

// TestOrderRetryWaitEndsAtTheWindow: a wait longer than what is left of the order window
// sends nothing after it: the order POSTed once (answered 503, so it may exist) is only read
// afterwards, with the policy's back-off, and the journey ends deadline_exceeded, not
// retryable.
func TestOrderRetryWaitEndsAtTheWindow(t *testing.T) {
	e := newEnv(t, atlassiantest.WithFault(atlassiantest.EndpointCreateOrder,
		atlassiantest.Fault{Error: 1, ErrorStatus: http.StatusServiceUnavailable}))
	cfg := e.Config()
	cfg.OrderWindow, cfg.JourneyTimeout = 2*time.Minute, 15*time.Minute
	cfg.OrderRetry.Attempts, cfg.OrderRetry.Wait, cfg.OrderRetry.MaxWait = 1, 3*time.Minute, 4*time.Minute
	log := e.startLogged(cfg)
	e.Publish("window-1", jiraOnNewSite("window"))
	term := e.Terminal("window-1")
	if term.Type != subjects.Failed() || term.Data["code"] != "deadline_exceeded" || term.Data["retryable"] != false {
		t.Fatalf("%s %v, want failed deadline_exceeded, not retryable", term.Type, term.Data)
	}
	provisioned := log.of("/admin/installations/")[0].at
	sendBy := provisioned.Add(2*time.Minute - 12*time.Second)
	var reads []time.Time
	for _, c := range log.of(ordersPath) {
		switch {
		case c.method == "GET":
			reads = append(reads, c.at)
		case !c.at.Before(sendBy):
			t.Errorf("order POST at %s, after the send-by time %s", c.at, sendBy)
		case c.orderID != record.OrderID("window-1"):
			t.Errorf("order POST with orderId %q", c.orderID)
		}
	}
	if len(reads) < 3 {
		t.Fatalf("reads at %v, want the order read after its POST, then with back-off until the timeout", reads)
	}
	// Read after the POST, again after the wait of 3m, then (past the send-by time) after
	// 3m, then 4m (MaxWait) until the journey timeout.
	for i, want := range []time.Duration{3 * time.Minute, 3 * time.Minute, 4 * time.Minute} {
		if i+2 < len(reads) {
			if gap := reads[i+1].Sub(reads[i]); gap < want {
				t.Errorf("read %d came %s after the one before, want at least %s", i+2, gap, want)
			}
		}
	}
	if n := len(e.Sandbox.Orders()); n != 0 {
		t.Errorf("%d orders placed, want none: every POST was answered 503", n)
	}
}

// checkOneOrder: every order POST carried the request's orderId, and one order exists.
func checkOneOrder(t *testing.T, e *env, id string, calls []attempt) {
	t.Helper()
	for _, c := range calls {
		if c.method == "POST" && c.orderID != record.OrderID(id) {
			t.Errorf("order POST with orderId %q, want %q", c.orderID, record.OrderID(id))
		}
	}
	if orders := e.OrdersOf(id); len(orders) != 1 {
		t.Errorf("%d orders, want one", len(orders))
	}
}
