package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// driveClock runs f while firing every wait the client starts on clk, so
// retries happen without real sleeping. It returns when f does.
func driveClock(t *testing.T, clk *clockwork.FakeClock, f func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer cancel()
		f()
	}()
	for clk.BlockUntilContext(ctx, 1) == nil {
		clk.Advance(time.Hour)
	}
	<-done
}

// retryRecorder collects the client's retry events.
type retryRecorder struct {
	mu     sync.Mutex
	events []RetryEvent
}

func (r *retryRecorder) record(e RetryEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *retryRecorder) waits() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []time.Duration
	for _, e := range r.events {
		out = append(out, e.Wait)
	}
	return out
}

// scripted answers with the given statuses in turn (the last one repeats);
// 0 means "drop the connection without an answer".
func scripted(t *testing.T, mux *http.ServeMux, pattern string, header http.Header, statuses ...int) *atomic.Int32 {
	var n atomic.Int32
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		status := statuses[min(i, len(statuses)-1)]
		if status == 0 {
			hj, ok := w.(http.Hijacker)
			if !ok {
				t.Fatal("no hijacker")
			}
			conn, _, _ := hj.Hijack()
			_ = conn.Close()
			return
		}
		for k, v := range header {
			w.Header()[k] = v
		}
		if status == http.StatusOK {
			writeJSON(w, status, []byte(`{"data":{"requestId":"r1","status":"IN_PROGRESS","statusUrl":"x"},"orderId":"o1"}`))
			return
		}
		writeJSON(w, status, []byte(`{"message":"try later"}`))
	})
	return &n
}

func TestRetryPolicy(t *testing.T) {
	provision := func(c *Client) error {
		_, _, err := c.Installations.ProvisionProducts(context.Background(), orgID, &ProvisionRequest{})
		return err
	}
	get := func(c *Client) error {
		_, _, err := c.Commerce.GetEntitlementDetails(context.Background(), "e1")
		return err
	}
	order := func(c *Client) error {
		_, _, err := c.Commerce.CreateOrder(context.Background(), &OrderRequest{OrderID: "o1"})
		return err
	}
	patterns := map[string]string{"provision": "/admin/installations/v2/orgs/", "get": "/commerce/api/v2/entitlements/", "order": "/commerce/api/v2/orders"}
	calls := map[string]func(*Client) error{"provision": provision, "get": get, "order": order}
	tests := []struct {
		call      string
		statuses  []int
		wantCalls int32
		wantErr   int // status of the error, 0 for success, -1 for a transport error
	}{
		{"get", []int{503, 502, 500, 504, 200}, 5, 0},
		{"get", []int{429, 200}, 2, 0},
		{"get", []int{0, 200}, 2, 0},
		{"get", []int{400}, 1, 400},
		{"get", []int{401}, 1, 401},
		{"get", []int{404}, 1, 404},
		{"get", []int{501}, 1, 501},
		{"get", []int{503}, 5, 503},
		{"order", []int{500, 0, 502, 200}, 4, 0},
		{"order", []int{409}, 1, 409},
		{"provision", []int{429, 429, 200}, 3, 0},
		// A 503 may come from a proxy that forwarded the request: not surely without effect.
		{"provision", []int{503}, 1, 503},
		{"provision", []int{429, 503, 200}, 2, 503},
		{"provision", []int{500}, 1, 500},
		{"provision", []int{502}, 1, 502},
		{"provision", []int{0}, 1, -1},
	}
	for _, tc := range tests {
		t.Run(tc.call+"/"+statusList(tc.statuses), func(t *testing.T) {
			c, mux, clk := setup(t, WithRetry(5, time.Second))
			n := scripted(t, mux, patterns[tc.call], nil, tc.statuses...)
			var err error
			driveClock(t, clk, func() { err = calls[tc.call](c) })
			if got := n.Load(); got != tc.wantCalls {
				t.Errorf("server saw %d requests, want %d", got, tc.wantCalls)
			}
			var er *ErrorResponse
			switch {
			case tc.wantErr == 0 && err != nil:
				t.Errorf("err = %v, want success", err)
			case tc.wantErr > 0 && (!errors.As(err, &er) || er.StatusCode != tc.wantErr):
				t.Errorf("err = %v, want *ErrorResponse %d", err, tc.wantErr)
			case tc.wantErr < 0 && (err == nil || errors.As(err, &er)):
				t.Errorf("err = %v, want a transport error", err)
			}
		})
	}
}

// Unprocessed tells an order refused with 429 at every attempt, which surely had no effect,
// from one that may have been placed: a 5xx or a dropped connection at any attempt.
func TestUnprocessed(t *testing.T) {
	for _, tc := range []struct {
		statuses []int
		want     bool
	}{
		{[]int{429}, true},
		{[]int{429, 429, 429}, true},
		{[]int{500, 429}, false},
		{[]int{0, 429}, false},
		{[]int{503}, false},
		{[]int{400}, false},
	} {
		t.Run(statusList(tc.statuses), func(t *testing.T) {
			c, mux, clk := setup(t, WithRetry(len(tc.statuses), time.Second))
			scripted(t, mux, "/commerce/api/v2/orders", http.Header{"Retry-After": {"1"}}, tc.statuses...)
			var err error
			driveClock(t, clk, func() { _, _, err = c.Commerce.CreateOrder(context.Background(), &OrderRequest{OrderID: "o1"}) })
			if err == nil || Unprocessed(err) != tc.want {
				t.Errorf("Unprocessed(%v) = %v, want %v", err, Unprocessed(err), tc.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, _, _ := setup(t)
	if _, _, err := c.Commerce.CreateOrder(ctx, &OrderRequest{OrderID: "o1"}); !Unprocessed(err) {
		t.Errorf("an order never sent: Unprocessed(%v) is false", err)
	}
}

func statusList(ss []int) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = strconv.Itoa(s)
		if s == 0 {
			parts[i] = "drop"
		}
	}
	return strings.Join(parts, ",")
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	rec := &retryRecorder{}
	c, mux, clk := setup(t, WithOnRetry(rec.record), WithRetry(5, time.Second))
	var n atomic.Int32
	mux.HandleFunc("/commerce/api/v2/entitlements/e1/details", func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.Header().Set("Retry-After", clk.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			writeJSON(w, 200, []byte(`{"entitlementId":"e1"}`))
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var err error
	driveClock(t, clk, func() { _, _, err = c.Commerce.GetEntitlementDetails(ctx, "e1") })
	if err != nil {
		t.Fatal(err)
	}
	// Retry-After is honoured even beyond the back-off cap of 1s.
	if got := rec.waits(); len(got) != 2 || got[0] != 7*time.Second || got[1] < 89*time.Second || got[1] > 90*time.Second {
		t.Errorf("waits = %v, want [7s ~1m30s]", got)
	}
	if e := rec.events[0]; e.Attempt != 1 || e.Family != FamilyEntitlementDetails || e.Method != "GET" {
		t.Errorf("event = %+v", e)
	}
}

func TestRetryBackoffIsCappedAndJittered(t *testing.T) {
	rec := &retryRecorder{}
	c, mux, clk := setup(t, WithOnRetry(rec.record), WithRetry(8, 2*time.Second))
	scripted(t, mux, "/commerce/api/v2/entitlements/", nil, 500)
	driveClock(t, clk, func() { _, _, _ = c.Commerce.GetEntitlementDetails(ctxT(t), "e1") })
	waits := rec.waits()
	if len(waits) != 7 {
		t.Fatalf("waits = %v, want 7", waits)
	}
	// The first wait is the initial 500ms ±50 %; none exceeds the cap.
	if waits[0] < 250*time.Millisecond || waits[0] > 750*time.Millisecond {
		t.Errorf("first wait = %s, want 500ms ±50%%", waits[0])
	}
	for _, w := range waits {
		if w <= 0 || w > 2*time.Second {
			t.Errorf("wait %s outside (0, 2s]", w)
		}
	}
}

func TestRetryResendsBodyIntact(t *testing.T) {
	c, mux, clk := setup(t)
	want := testdata(t, "order_request_app_promo.json")
	var n atomic.Int32
	mux.HandleFunc("/commerce/api/v2/orders", func(w http.ResponseWriter, r *http.Request) {
		testJSONBody(t, r, want)
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		writeJSON(w, 200, testdata(t, "order_response.json"))
	})
	var err error
	driveClock(t, clk, func() {
		_, _, err = c.Commerce.CreateOrder(ctxT(t), decodeSample[OrderRequest](t, "order_request_app_promo.json"))
	})
	if err != nil || n.Load() != 2 {
		t.Fatalf("err = %v after %d requests", err, n.Load())
	}
}

// A provisioning POST that could not even dial is repeated: it surely never
// reached the API.
func TestRetryProvisionAfterDialError(t *testing.T) {
	var dials atomic.Int32
	transport := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{}
	transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
		}
		return dialer.DialContext(ctx, network, addr)
	}
	c, mux, clk := setup(t, WithHTTPClient(&http.Client{Transport: transport}))
	n := scripted(t, mux, "/admin/installations/v2/orgs/", nil, 200)
	var err error
	driveClock(t, clk, func() { _, _, err = c.Installations.ProvisionProducts(ctxT(t), orgID, &ProvisionRequest{}) })
	if err != nil || n.Load() != 1 || dials.Load() < 2 {
		t.Fatalf("err = %v, requests %d, dials %d", err, n.Load(), dials.Load())
	}
}

func TestRetryStopsAtDeadline(t *testing.T) {
	c, mux, _ := setup(t)
	n := scripted(t, mux, "/commerce/api/v2/entitlements/", http.Header{"Retry-After": {"3600"}}, 429)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// No clock is driven: a wait past the deadline must not even start.
	_, _, err := c.Commerce.GetEntitlementDetails(ctx, "e1")
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Hour {
		t.Fatalf("err = %v, want *RateLimitError with RetryAfter 1h", err)
	}
	if n.Load() != 1 {
		t.Errorf("server saw %d requests, want 1", n.Load())
	}
}

func TestRetryAbandonedWhenContextEnds(t *testing.T) {
	c, mux, clk := setup(t)
	scripted(t, mux, "/commerce/api/v2/entitlements/", nil, 503)
	ctx, cancel := context.WithCancel(ctxT(t))
	errc := make(chan error, 1)
	go func() {
		_, _, err := c.Commerce.GetEntitlementDetails(ctx, "e1")
		errc <- err
	}()
	if err := clk.BlockUntilContext(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	err := <-errc
	var er *ErrorResponse
	if !errors.Is(err, context.Canceled) || !errors.As(err, &er) || er.StatusCode != 503 {
		t.Errorf("err = %v, want the 503 and context.Canceled", err)
	}
}

func TestDefaultTimeout(t *testing.T) {
	c, mux, _ := setup(t, WithTimeout(50*time.Millisecond), WithRetry(1, time.Second))
	mux.HandleFunc("/commerce/api/v2/entitlements/", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // answer only when the client gives up
	})
	_, _, err := c.Commerce.GetEntitlementDetails(context.Background(), "e1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
}

// A deadline set on the client's own clock is read on that clock, even a fake one far from
// real time: the call is sent (its dial is not refused as past the deadline), retried while
// the deadline allows, and the wait that would pass it is not started.
func TestRetryStopsAtDeadlineOfClientClock(t *testing.T) {
	clk := clockwork.NewFakeClockAt(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	c, mux, _ := setup(t, WithClock(clk), WithRateLimit(FamilyOrders, 600))
	n := scripted(t, mux, "/commerce/api/v2/orders", http.Header{"Retry-After": {"2"}}, 429)
	ctx := fakeDeadline(t, clk, clk.Now().Add(3*time.Second))
	errc := make(chan error, 1)
	go func() {
		_, _, err := c.Commerce.CreateOrder(ctx, &OrderRequest{OrderID: "o1"})
		errc <- err
	}()
	// Two waiters: the deadline's timer and the client's wait after the first 429.
	if err := clk.BlockUntilContext(ctxT(t), 2); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Second)
	err := <-errc
	var rl *RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("err = %v, want *RateLimitError", err)
	}
	if got := n.Load(); got != 2 {
		t.Errorf("server saw %d requests, want 2: one at once, one 2s later, none past the deadline at 3s", got)
	}
}

// fakeDeadline is a context whose deadline is read on clk, ending when clk reaches it.
func fakeDeadline(t *testing.T, clk *clockwork.FakeClock, at time.Time) context.Context {
	ctx, cancel := context.WithCancel(ctxT(t))
	timer := clk.AfterFunc(at.Sub(clk.Now()), cancel)
	t.Cleanup(func() { timer.Stop(); cancel() })
	return deadlineCtx{ctx, at}
}

type deadlineCtx struct {
	context.Context
	at time.Time
}

func (d deadlineCtx) Deadline() (time.Time, bool) { return d.at, true }

// A request that net/http would refuse to send (a header value with CR LF) is refused
// by the client itself as an invalid argument, before any attempt, and never retried:
// nothing transient about it.
func TestLocalRefusalIsNotRetried(t *testing.T) {
	c, mux, clk := setup(t, WithRetry(5, time.Second))
	n := scripted(t, mux, "/commerce/api/v2/orders", nil, 200)
	var err error
	driveClock(t, clk, func() {
		_, _, err = c.Commerce.CreateOrder(ctxT(t), &OrderRequest{OrderID: "o1", TransactionAccountID: "ta\r\nX-Injected: 1"})
	})
	if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "X-transaction-account") {
		t.Errorf("err = %v, want ErrInvalidArgument naming the header", err)
	}
	if strings.Contains(err.Error(), "X-Injected") {
		t.Errorf("err = %v repeats the refused value", err)
	}
	if got := n.Load(); got != 0 {
		t.Errorf("server saw %d requests", got)
	}
}

// TestContextWithRetry: a call's own retry (the order's policy) decides its attempts and
// back-off over the client's; a field left zero keeps the client's value.
func TestContextWithRetry(t *testing.T) {
	for _, tc := range []struct {
		name         string
		retry        *Retry // nil: the client's WithRetry(2, 1s)
		wantRequests int32
		first        [2]time.Duration // bounds of the first wait
		maxWait      time.Duration
	}{
		{"client's own", nil, 2, [2]time.Duration{250 * time.Millisecond, 750 * time.Millisecond}, time.Second},
		{"more attempts, client's back-off", &Retry{Attempts: 4}, 4, [2]time.Duration{250 * time.Millisecond, 750 * time.Millisecond}, time.Second},
		{"its own back-off", &Retry{Attempts: 6, Backoff: 2 * time.Second, MaxBackoff: 5 * time.Second}, 6, [2]time.Duration{time.Second, 3 * time.Second}, 5 * time.Second},
		{"a start above the cap starts at the cap", &Retry{Attempts: 3, Backoff: time.Minute, MaxBackoff: 4 * time.Second}, 3, [2]time.Duration{2 * time.Second, 4 * time.Second}, 4 * time.Second},
		{"one attempt", &Retry{Attempts: 1}, 1, [2]time.Duration{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &retryRecorder{}
			c, mux, clk := setup(t, WithOnRetry(rec.record), WithRetry(2, time.Second))
			n := scripted(t, mux, "/commerce/api/v2/orders", nil, 503)
			ctx := ctxT(t)
			if tc.retry != nil {
				ctx = ContextWithRetry(ctx, *tc.retry)
			}
			var err error
			driveClock(t, clk, func() { _, _, err = c.Commerce.CreateOrder(ctx, &OrderRequest{OrderID: "o1"}) })
			var er *ErrorResponse
			if !errors.As(err, &er) || er.StatusCode != 503 {
				t.Fatalf("err = %v, want the last 503", err)
			}
			if got := n.Load(); got != tc.wantRequests {
				t.Errorf("%d order POSTs, want %d", got, tc.wantRequests)
			}
			waits := rec.waits()
			if len(waits) != int(tc.wantRequests)-1 {
				t.Fatalf("waits %v, want %d", waits, tc.wantRequests-1)
			}
			if len(waits) > 0 && (waits[0] < tc.first[0] || waits[0] > tc.first[1]) {
				t.Errorf("first wait %s, want within %v", waits[0], tc.first)
			}
			for _, w := range waits {
				if w <= 0 || w > tc.maxWait {
					t.Errorf("wait %s outside (0, %s]", w, tc.maxWait)
				}
			}
		})
	}
}
