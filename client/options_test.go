package client

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestNewClientDefaults(t *testing.T) {
	c, err := NewClient()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.BaseURL().String(); got != DefaultBaseURL {
		t.Errorf("BaseURL = %s, want %s", got, DefaultBaseURL)
	}
	if c.retry != (Retry{Attempts: 5, Backoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second}) || c.retry != DefaultRetry || c.timeout != DefaultTimeout {
		t.Errorf("retry/timeout defaults = %+v %s", c.retry, c.timeout)
	}
	// The documented limits: 600/min for orders and quotes, 3,000/min for entitlement details.
	for f, perSecond := range map[Family]rate.Limit{FamilyOrders: 10, FamilyQuotes: 10, FamilyEntitlementDetails: 50} {
		lim := c.limiter.(*LocalLimiter).buckets[f]
		if lim == nil || lim.Limit() != perSecond {
			t.Errorf("%s limiter = %v, want %v/s", f, lim, perSecond)
		}
	}
	if c.limiter.(*LocalLimiter).buckets[FamilyInstallations] != nil {
		t.Errorf("installations should be unlimited by default")
	}
	if c.httpClient.CheckRedirect == nil {
		t.Errorf("redirects must be refused")
	}
}

func TestWithHTTPClientIsNotModified(t *testing.T) {
	h := &http.Client{Timeout: time.Minute}
	c, err := NewClient(WithHTTPClient(h))
	if err != nil {
		t.Fatal(err)
	}
	if h.CheckRedirect != nil {
		t.Errorf("the caller's http.Client was changed")
	}
	if c.httpClient.Timeout != time.Minute || c.httpClient.CheckRedirect == nil {
		t.Errorf("copy = %+v", c.httpClient)
	}
}

func TestWithBaseURLKeepsPathPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":          "http://127.0.0.1:8080/",
		"http://127.0.0.1:8080/sandbox":  "http://127.0.0.1:8080/sandbox/",
		"https://gw.example/a/b/":        "https://gw.example/a/b/",
		"https://api.atlassian.com:8443": "https://api.atlassian.com:8443/",
	} {
		c, err := NewClient(WithBaseURL(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := c.BaseURL().String(); got != want {
			t.Errorf("%s: BaseURL = %s, want %s", in, got, want)
		}
	}
}

func TestInvalidOptions(t *testing.T) {
	tests := []struct {
		opt  Option
		name string
	}{
		{WithBaseURL("ftp://x"), "WithBaseURL"},
		{WithBaseURL("api.atlassian.com"), "WithBaseURL"},
		{WithBaseURL("https://"), "WithBaseURL"},
		{WithBaseURL("https://x/?q=1"), "WithBaseURL"},
		{WithBaseURL("https://u@x/"), "WithBaseURL"},
		{WithBaseURL("%zz"), "WithBaseURL"},
		{WithAPIKey(""), "WithAPIKey"},
		{WithAPIKey("a\nb"), "WithAPIKey"},
		{WithBasicAuth("", "t"), "WithBasicAuth"},
		{WithBasicAuth("a:b", "t"), "WithBasicAuth"},
		{WithBasicAuth("a@b", " "), "WithBasicAuth"},
		{WithHTTPClient(nil), "WithHTTPClient"},
		{WithClock(nil), "WithClock"},
		{WithRetry(0, time.Second), "WithRetry"},
		{WithRetry(3, 0), "WithRetry"},
		{WithRateLimit("nope", 10), "WithRateLimit"},
		{WithRateLimit(FamilyOrders, -1), "WithRateLimit"},
		{WithTimeout(0), "WithTimeout"},
		{WithUserAgent(""), "WithUserAgent"},
		{WithOnRetry(nil), "WithOnRetry"},
	}
	for _, tc := range tests {
		_, err := NewClient(tc.opt)
		if !errors.Is(err, ErrInvalidOption) || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("err = %v, want ErrInvalidOption naming %s", err, tc.name)
		}
	}
}

func TestInvalidArguments(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("no request expected, got %s %s", r.Method, r.URL)
	})
	ctx := ctxT(t)
	calls := map[string]func() error{
		"orgID": func() error { _, _, err := c.Installations.ListProductEntitlements(ctx, "", "a"); return err },
		"productARI": func() error {
			_, _, err := c.Installations.ProvisionApp(ctx, "o", " ", &ProvisionRequest{})
			return err
		},
		"req":                  func() error { _, _, err := c.Installations.ProvisionProducts(ctx, "o", nil); return err },
		"req.OrderID":          func() error { _, _, err := c.Commerce.CreateOrder(ctx, &OrderRequest{}); return err },
		"entitlementID":        func() error { _, _, err := c.Commerce.GetEntitlementDetails(ctx, ""); return err },
		"transactionAccountID": func() error { _, _, err := c.Quotes.Download(ctx, "q", ""); return err },
		"partnerID":            func() error { _, _, err := c.Promotions.List(ctx, 0); return err },
		"promotionCode":        func() error { _, err := c.Promotions.DeleteCode(ctx, 1, "p", ""); return err },
		"opts.EntityType":      func() error { _, _, err := c.CSM.ListEntitlements(ctx, "c", &CSMEntitlementListOptions{}); return err },
		"fieldName":            func() error { _, _, err := c.CSM.SetEntitlementDetail(ctx, "c", "e", "", nil); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument naming it", name, err)
		}
	}
}

func TestProvisionRequestID(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"https://api.atlassian.com/admin/installations/v2/orgs/o/products/status/6664d179-c5e8", "6664d179-c5e8", true},
		{"https://api.atlassian.com/admin/installations/v2/orgs/o/products/status/r1/", "r1", true},
		{"https://api.atlassian.com/admin/installations/v2/orgs/o/products/status/r1?x=y", "r1", true},
		{"https://api.atlassian.com/admin/installations/v2/orgs/o/products/status/", "", false},
		{"", "", false},
		{"%zz", "", false},
	}
	for _, tc := range tests {
		got, err := ProvisionRequestID(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ProvisionRequestID(%q) = %q, %v", tc.in, got, err)
		}
		if !tc.ok && !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("ProvisionRequestID(%q) err = %v, want ErrInvalidArgument", tc.in, err)
		}
	}
}

func TestClientRateLimit(t *testing.T) {
	c, mux, _ := setup(t, WithRateLimit(FamilyOrders, 1), WithRateLimit(FamilyEntitlementDetails, 0))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, []byte(`{}`)) })
	if _, _, err := c.Commerce.GetOrder(ctxT(t), "o1", ""); err != nil {
		t.Fatal(err)
	}
	// The next order call would have to wait a minute: with a shorter
	// deadline the limiter refuses at once rather than sending it.
	ctx, cancel := context.WithTimeout(ctxT(t), 5*time.Second)
	defer cancel()
	if _, _, err := c.Commerce.GetOrder(ctx, "o2", ""); err == nil || !strings.Contains(err.Error(), "rate limit of orders") {
		t.Errorf("err = %v, want the client-side rate limit", err)
	}
	// Other families are not held back, and 0 turns a limit off.
	for range 100 {
		if _, _, err := c.Commerce.GetEntitlementDetails(ctx, "e1"); err != nil {
			t.Fatal(err)
		}
	}
}

// A pooled client keeps a connection per concurrent call: rounds of conns calls, all in flight
// at once, open exactly conns connections in all (net/http's default transport keeps two idle
// and opens conns-2 more on every round).
func TestPooledHTTPClientReusesConnections(t *testing.T) {
	const conns, rounds = 8, 10
	// Every call of a round is held until all of them have arrived, so that each round needs
	// conns connections at once.
	type round struct{ arrived, release chan struct{} }
	var current atomic.Pointer[round]
	var opened atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		r := current.Load()
		r.arrived <- struct{}{}
		<-r.release
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	hc := PooledHTTPClient(conns)
	t.Cleanup(hc.CloseIdleConnections)
	for range rounds {
		r := &round{arrived: make(chan struct{}), release: make(chan struct{})}
		current.Store(r)
		var wg sync.WaitGroup
		for range conns {
			wg.Go(func() {
				resp, err := hc.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				// Read to the end: the connection is back in the pool when Read reports EOF.
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			})
		}
		for range conns {
			select {
			case <-r.arrived:
			case <-time.After(10 * time.Second):
				close(r.release)
				t.Fatal("the calls of a round did not all arrive at once")
			}
		}
		close(r.release)
		wg.Wait()
	}
	if n := opened.Load(); n != conns {
		t.Errorf("%d connections opened for %d rounds of %d calls at once, want %d", n, rounds, conns, conns)
	}
}
