package atlassiantest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
)

func TestAuth(t *testing.T) {
	f := setup(t, atlassiantest.WithAPIKey("k1"), atlassiantest.WithBasicAuth("admin@acme.example", "tok"))
	path := f.s.URL + "/commerce/api/v2/entitlements/" + atlassiantest.JiraParentEntitlementID + "/details"
	basic := func(email, token string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(email+":"+token))
	}
	for _, tc := range []struct {
		auth string
		want int
	}{
		{"", 401},
		{"Bearer " + atlassiantest.DefaultAPIKey, 401}, // replaced by WithAPIKey
		{"Bearer k1", 200},
		{basic("admin@acme.example", "tok"), 200},
		{basic("admin@acme.example", "wrong"), 401},
		{"Basic !!!", 401},
	} {
		req, _ := http.NewRequest("GET", path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("auth %q: %d, want %d", tc.auth, resp.StatusCode, tc.want)
		}
	}
	for _, r := range f.s.Requests() {
		a := r.Header.Get("Authorization")
		if strings.Contains(a, "k1") || strings.Contains(a, "dG9r") || (a != "" && !strings.HasSuffix(a, atlassiantest.Redacted)) {
			t.Fatalf("credential in the request log: %q", a)
		}
	}
	if n := len(f.s.Requests()); n != 6 {
		t.Fatalf("request log has %d entries, want 6", n)
	}
}

func TestRateLimitAndErrorFaults(t *testing.T) {
	f := setup(t)
	details := "/commerce/api/v2/entitlements/" + atlassiantest.JiraParentEntitlementID + "/details"
	f.s.SetFault(atlassiantest.EndpointEntitlementDetails, atlassiantest.Fault{RateLimit: 1, RetryAfter: 3 * time.Second, Times: 1})
	req, _ := http.NewRequest("GET", f.s.URL+details, nil)
	req.Header.Set("Authorization", "Bearer "+atlassiantest.DefaultAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" {
		t.Fatalf("got %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if status := f.do("GET", details, nil, nil); status != 200 {
		t.Fatalf("after a one-time fault: %d", status)
	}
	f.s.SetFault(atlassiantest.EndpointAll, atlassiantest.Fault{Error: 1, ErrorStatus: 503})
	if status := f.do("GET", details, nil, nil); status != 503 {
		t.Fatalf("error fault: %d", status)
	}
	f.s.ClearFaults()

	// A share is drawn from the seeded source: the same seed, the same answers.
	run := func() []int {
		g := setup(t, atlassiantest.WithSeed(7), atlassiantest.WithFault(atlassiantest.EndpointEntitlementDetails, atlassiantest.Fault{Error: 0.5}))
		var out []int
		for range 20 {
			out = append(out, g.do("GET", details, nil, nil))
		}
		return out
	}
	a, b := run(), run()
	var failed int
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different answers: %v vs %v", a, b)
		}
		if a[i] != 200 {
			failed++
		}
	}
	if failed == 0 || failed == 20 {
		t.Fatalf("a 0.5 share failed %d of 20", failed)
	}
}

func TestAmbiguousOrderIsIdempotent(t *testing.T) {
	f := setup(t)
	pid := f.provision("eps", "UTC", atlassiantest.ConfluenceOfferingID)
	o := newOrder("amb-1", pid, item("O1", atlassiantest.ConfluenceOfferingID, entRel(client.RelationEnterprise, atlassiantest.ConfluenceParentEntitlementID)))
	f.s.SetFault(atlassiantest.EndpointCreateOrder, atlassiantest.Fault{Ambiguous: 1, Times: 1})
	body, _ := json.Marshal(o)
	req, _ := http.NewRequest("POST", f.s.URL+"/commerce/api/v2/orders", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+atlassiantest.DefaultAPIKey)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped connection answered %d", resp.StatusCode)
	}
	if n := len(f.s.Orders()); n != 1 {
		t.Fatalf("the dropped order had no effect: %d orders", n)
	}
	if status, b := f.order(o); status != 200 || !strings.Contains(string(b), `"orderId":"amb-1"`) {
		t.Fatalf("retry after the drop: %d %s", status, b)
	}
	if n := len(f.s.Orders()); n != 1 {
		t.Fatalf("ordered %d times", n)
	}
	reqs := f.s.RequestsTo(atlassiantest.EndpointCreateOrder)
	if len(reqs) != 2 || reqs[0].Status != 0 || reqs[1].Status != 200 {
		t.Fatalf("request log: %+v", reqs)
	}
}

// The provisioning request is stored although its connection is dropped: its statusUrl was
// never seen, yet an order naming it is accepted.
func TestAmbiguousProvisioningIsStored(t *testing.T) {
	f := setup(t)
	f.s.SetFault(atlassiantest.EndpointProvisionProducts, atlassiantest.Fault{Ambiguous: 1, Times: 1})
	body, _ := json.Marshal(client.ProvisionRequest{Offerings: []client.ProvisionOffering{{ID: atlassiantest.ConfluenceOfferingID}},
		Parameters: client.ProvisionParameters{AdminEmail: "admin@acme.example", Name: "kappa", Timezone: "UTC"}})
	req, _ := http.NewRequest("POST", f.s.URL+productsPath(), bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+atlassiantest.DefaultAPIKey)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped provisioning answered %d", resp.StatusCode)
	}
	if n := f.s.ProvisionRequests(); n != 1 {
		t.Fatalf("the dropped provisioning request had no effect: %d stored", n)
	}
}

// ReadLag: an order and a provisioning status read as they were ReadLag ago: 404 until then,
// the old status after, and the current state once the lag has passed.
func TestReadLag(t *testing.T) {
	f := setup(t)
	lag := atlassiantest.Fault{ReadLag: 30 * time.Second}
	f.s.SetFault(atlassiantest.EndpointGetOrder, lag)
	f.s.SetFault(atlassiantest.EndpointProvisionStatus, lag)
	pid := f.provision("lambda", "UTC", atlassiantest.ConfluenceOfferingID)
	statusPath := productsPath() + "/status/" + pid
	if status := f.do("GET", statusPath, nil, nil); status != 404 {
		t.Fatalf("provisioning status read at once: %d, want 404", status)
	}
	f.clock.Advance(30 * time.Second)
	if got := f.status(pid); got != client.ProvisionInProgress {
		t.Fatalf("status %s after the lag, want IN_PROGRESS", got)
	}
	o := newOrder("lag-1", pid, item("O1", atlassiantest.ConfluenceOfferingID, entRel(client.RelationEnterprise, atlassiantest.ConfluenceParentEntitlementID)))
	if status, b := f.order(o); status != 200 {
		t.Fatalf("order: %d %s", status, b)
	}
	orderPath := "/commerce/api/v2/orders/lag-1"
	if status := f.do("GET", orderPath, nil, nil, "X-transaction-account", atlassiantest.TransactionAccountID); status != 404 {
		t.Fatalf("order read at once: %d, want 404", status)
	}
	f.clock.Advance(29 * time.Second) // provisioning completed 2s after the order, not yet visible
	if got := f.status(pid); got != client.ProvisionInProgress {
		t.Fatalf("status %s before the lag passed, want IN_PROGRESS", got)
	}
	if status := f.do("GET", orderPath, nil, nil, "X-transaction-account", atlassiantest.TransactionAccountID); status != 404 {
		t.Fatalf("order read before the lag passed: %d, want 404", status)
	}
	f.clock.Advance(time.Second)
	if got := f.getOrder("lag-1"); got.Items[0].ProcessingInfo.Status != client.ItemProcessing {
		t.Fatalf("order as of its creation: %+v", got.Items[0].ProcessingInfo)
	}
	f.clock.Advance(2 * time.Second)
	if got := f.status(pid); got != client.ProvisionCompleted {
		t.Fatalf("status %s once the lag passed, want COMPLETED", got)
	}
	if got := f.getOrder("lag-1"); got.Items[0].ProcessingInfo.Status != client.ItemSuccess {
		t.Fatalf("order item %+v, want SUCCESS", got.Items[0].ProcessingInfo)
	}
	if status, b := f.raw("PUT", "/_sandbox/faults/get-order", map[string]any{"readLag": "2m"}); status != 200 {
		t.Fatalf("set readLag: %d %s", status, b)
	}
	if got := f.s.Faults()[atlassiantest.EndpointGetOrder].ReadLag; got != 2*time.Minute {
		t.Fatalf("readLag %s", got)
	}
	if status, _ := f.raw("PUT", "/_sandbox/faults/get-order", map[string]any{"readLag": "-1s"}); status != 400 {
		t.Fatalf("negative readLag: %d", status)
	}
}

func TestProvisionAndOrderItemFailures(t *testing.T) {
	f := setup(t)
	f.s.SetFault(atlassiantest.EndpointProvisionProducts, atlassiantest.Fault{ProvisionFails: true, Times: 1})
	f.s.SetFault(atlassiantest.EndpointCreateOrder, atlassiantest.Fault{OrderItemsFail: true, Times: 1})
	pid := f.provision("zeta", "UTC", atlassiantest.ConfluenceOfferingID)
	o := newOrder("fail-1", pid, item("O1", atlassiantest.ConfluenceOfferingID, entRel(client.RelationEnterprise, atlassiantest.ConfluenceParentEntitlementID)))
	if status, b := f.order(o); status != 200 {
		t.Fatalf("order: %d %s", status, b)
	}
	f.clock.Advance(2 * time.Second)
	if got := f.status(pid); got != client.ProvisionFailed {
		t.Fatalf("status %s, want FAILED", got)
	}
	read := f.getOrder("fail-1")
	if pi := read.Items[0].ProcessingInfo; pi.Status != client.ItemFailed || pi.Entitlement != nil {
		t.Fatalf("item %+v", pi)
	}
	var page client.WorkspacePage
	f.mustDo("POST", "/admin/v2/orgs/"+atlassiantest.OrgID+"/workspaces", nameQuery("zeta"), &page)
	if len(page.Data) != 0 {
		t.Fatalf("failed site visible: %+v", page.Data)
	}
}

func TestLatencyWaitsOnTheClock(t *testing.T) {
	f := setup(t)
	f.s.SetFault(atlassiantest.EndpointAll, atlassiantest.Fault{Latency: time.Minute})
	done := make(chan int, 1)
	go func() {
		done <- f.do("GET", "/commerce/api/v2/entitlements/"+atlassiantest.JiraParentEntitlementID+"/details", nil, nil)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		t.Fatal("answered before the latency passed")
	default:
	}
	f.clock.Advance(time.Minute)
	if status := <-done; status != 200 {
		t.Fatalf("status %d", status)
	}
}

func TestGetOrderNeedsTransactionAccount(t *testing.T) {
	f := setup(t)
	pid := f.provision("eta", "UTC", atlassiantest.ConfluenceOfferingID)
	f.order(newOrder("o-eta", pid, item("O1", atlassiantest.ConfluenceOfferingID, entRel(client.RelationEnterprise, atlassiantest.ConfluenceParentEntitlementID))))
	if status, _ := f.raw("GET", "/commerce/api/v2/orders/o-eta", nil); status != 400 {
		t.Fatalf("without header: %d", status)
	}
	if status, _ := f.raw("GET", "/commerce/api/v2/orders/o-eta", nil, "X-transaction-account", "other"); status != 404 {
		t.Fatalf("other account: %d", status)
	}
}

func TestFixturesRoundTrip(t *testing.T) {
	f := setup(t)
	pid := f.provision("theta", "UTC", atlassiantest.ConfluenceOfferingID)
	f.order(newOrder("o-theta", pid, item("O1", atlassiantest.ConfluenceOfferingID, entRel(client.RelationEnterprise, atlassiantest.ConfluenceParentEntitlementID))))
	f.clock.Advance(5 * time.Second)
	var buf bytes.Buffer
	if err := f.s.Fixtures().Dump(&buf); err != nil {
		t.Fatal(err)
	}
	fx, err := atlassiantest.LoadFixtures(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	g := setup(t, atlassiantest.WithFixtures(fx))
	g.clock.Advance(5 * time.Second) // entitlements keep the VisibleAt their order gave them
	var page client.WorkspacePage
	g.mustDo("POST", "/admin/v2/orgs/"+atlassiantest.OrgID+"/workspaces", nameQuery("theta"), &page)
	if len(page.Data) != 1 || page.Data[0].Attributes.TypeKey != "confluence" {
		t.Fatalf("loaded site: %+v", page.Data)
	}
	if _, err := atlassiantest.LoadFixtures(strings.NewReader(`{"offerings":[{"id":"x","kind":"gadget"}]}`)); err == nil || !strings.Contains(err.Error(), "offerings[0].kind") {
		t.Fatalf("bad fixtures: %v", err)
	}
}

func TestConcurrentJourneys(t *testing.T) {
	f := setup(t)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			name := "c" + string(rune('a'+i%26)) + string(rune('a'+i/26))
			pid := f.provision(name, "UTC", atlassiantest.JiraOfferingID)
			o := newOrder("co-"+name, pid,
				client.OrderItem{Type: client.OrderItemCreation, ItemID: "O1", OfferingID: atlassiantest.JiraFamilyContainerOfferingID},
				item("O2", atlassiantest.JiraOfferingID, itemRel(client.RelationFamilyContainer, "O1"), entRel(client.RelationEnterprise, atlassiantest.JiraParentEntitlementID)))
			for range 2 {
				if status, b := f.order(o); status != 200 {
					t.Errorf("order %s: %d %s", name, status, b)
				}
			}
		})
	}
	wg.Wait()
	if n := len(f.s.Orders()); n != 32 {
		t.Fatalf("%d orders, want 32", n)
	}
}

func TestAdminEndpoints(t *testing.T) {
	f := setup(t)
	if status, b := f.raw("PUT", "/_sandbox/faults/get-order", map[string]any{"latency": "1s", "error": 0.25}); status != 200 {
		t.Fatalf("set fault: %d %s", status, b)
	}
	if got := f.s.Faults()[atlassiantest.EndpointGetOrder]; got.Latency != time.Second || got.Error != 0.25 {
		t.Fatalf("fault %+v", got)
	}
	if status, _ := f.raw("PUT", "/_sandbox/faults/nope", map[string]any{}); status != 404 {
		t.Fatalf("unknown endpoint: %d", status)
	}
	if status, _ := f.raw("PUT", "/_sandbox/faults/get-order", map[string]any{"error": 2}); status != 400 {
		t.Fatalf("bad share: %d", status)
	}
	if status, _ := f.raw("PUT", "/_sandbox/faults/all", map[string]any{"rateLimit": 1, "times": 1}); status != 200 || f.s.Faults()[atlassiantest.EndpointAll].RateLimit != 1 {
		t.Fatalf("fault on all: %d %v", status, f.s.Faults())
	}
	if status, _ := f.raw("DELETE", "/_sandbox/faults", nil); status != 204 || len(f.s.Faults()) != 0 {
		t.Fatalf("clear faults: %d %v", status, f.s.Faults())
	}
	f.provision("iota", "UTC", atlassiantest.ConfluenceOfferingID)
	var reqs []atlassiantest.RecordedRequest
	f.mustDo("GET", "/_sandbox/requests", nil, &reqs)
	if len(reqs) != 1 || reqs[0].Endpoint != atlassiantest.EndpointProvisionProducts || !strings.Contains(reqs[0].Body, "iota") {
		t.Fatalf("requests %+v", reqs)
	}
	status, dump := f.raw("GET", "/_sandbox/fixtures", nil)
	if status != 200 {
		t.Fatalf("dump %d", status)
	}
	if status, b := f.raw("PUT", "/_sandbox/fixtures", json.RawMessage(dump)); status != 204 {
		t.Fatalf("load %d %s", status, b)
	}
	if req, _ := http.NewRequest("GET", f.s.URL+"/_sandbox/requests", nil); true {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("admin without credentials: %d", resp.StatusCode)
		}
	}
}

func TestDocumentedRateLimits(t *testing.T) {
	f := setup(t, atlassiantest.WithDocumentedRateLimits())
	details := "/commerce/api/v2/entitlements/" + atlassiantest.JiraParentEntitlementID + "/details"
	// 3,000 a minute with two seconds of burst: 100 at once, then 50 a second.
	for i := range 100 {
		if status := f.do("GET", details, nil, nil); status != 200 {
			t.Fatalf("request %d of the burst: %d", i, status)
		}
	}
	status, _ := f.raw("GET", details, nil)
	if status != 429 {
		t.Fatalf("beyond the burst: %d", status)
	}
	if got := f.s.RequestsTo(atlassiantest.EndpointEntitlementDetails); len(got) != 101 || got[100].Status != 429 {
		t.Fatalf("log %d entries", len(got))
	}
	f.clock.Advance(time.Second)
	for i := range 50 {
		if status := f.do("GET", details, nil, nil); status != 200 {
			t.Fatalf("request %d after a second: %d", i, status)
		}
	}
	if status := f.do("GET", details, nil, nil); status != 429 {
		t.Fatalf("beyond a second's worth: %d", status)
	}
	// Quotes have a bucket of their own.
	if status := f.do("GET", "/commerce/api/v2/quotes/"+atlassiantest.QuoteID, nil, nil); status != 200 {
		t.Fatalf("quotes: %d", status)
	}
}

// Each organization has its own quota, as Atlassian counts them, and the sandbox counts the
// 429s of its rate limits per family.
func TestRateLimitsPerOrganization(t *testing.T) {
	f := setup(t, atlassiantest.WithOrganizations(), atlassiantest.WithDocumentedRateLimits())
	order := func(key string) int {
		return f.do("GET", "/commerce/api/v2/orders/nope", nil, nil, bearer(key)...)
	}
	// 600 a minute with two seconds of burst: 20 at once for each organization.
	for i := range 20 {
		if status := order(atlassiantest.OrgAPIKey); status == 429 {
			t.Fatalf("first organization, request %d: 429", i)
		}
		if status := order(atlassiantest.SecondOrgAPIKey); status == 429 {
			t.Fatalf("second organization, request %d: 429", i)
		}
	}
	for _, key := range []string{atlassiantest.OrgAPIKey, atlassiantest.SecondOrgAPIKey} {
		if status := order(key); status != 429 {
			t.Errorf("beyond the burst: %d, want 429", status)
		}
	}
	if got := f.s.RateLimited(client.FamilyOrders); got != 2 {
		t.Errorf("RateLimited(orders) = %d, want 2", got)
	}
	if got := f.s.RateLimited(client.FamilyEntitlementDetails); got != 0 {
		t.Errorf("RateLimited(entitlement-details) = %d, want 0", got)
	}
}
