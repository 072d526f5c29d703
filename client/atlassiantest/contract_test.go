package atlassiantest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
)

// recorder keeps the last JSON answer, so each call's answer can also be
// decoded strictly: a field the sandbox sends that the client's type lacks
// fails the test.
type recorder struct {
	mu   sync.Mutex
	last []byte
	next http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.last = body
	r.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

func strict[T any](t *testing.T, r *recorder) {
	t.Helper()
	r.mu.Lock()
	body := r.last
	r.mu.Unlock()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var v T
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("answer does not decode strictly into %T: %v\n%s", v, err, body)
	}
}

type contract struct {
	t     *testing.T
	s     *atlassiantest.Server
	c     *client.Client
	clock *clockwork.FakeClock
	rec   *recorder
	ctx   context.Context
}

func newContract(t *testing.T, opts ...atlassiantest.Option) *contract {
	t.Helper()
	clock := clockwork.NewFakeClockAt(epoch)
	s := atlassiantest.NewServer(append([]atlassiantest.Option{atlassiantest.WithClock(clock)}, opts...)...)
	t.Cleanup(s.Close)
	rec := &recorder{next: http.DefaultTransport}
	c, err := s.Client(client.WithHTTPClient(&http.Client{Transport: rec}), client.WithRetry(1, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return &contract{t: t, s: s, c: c, clock: clock, rec: rec, ctx: context.Background()}
}

// result carries a client call's answer until a test checks it: must(c.X(…)).get(t).
type result[T any] struct {
	v   T
	err error
}

func must[T any](v T, _ *client.Response, err error) result[T] { return result[T]{v, err} }

func (r result[T]) get(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

func TestContractInstallProducts(t *testing.T) {
	k := newContract(t)
	ctx, c := k.ctx, k.c

	page := must(c.Workspaces.Query(ctx, atlassiantest.OrgID, &client.WorkspaceQuery{Query: client.WorkspaceQueryFilter{
		Field: client.WorkspaceQueryField{Name: "attributes.name", Values: []string{atlassiantest.ExistingSiteName}}}})).get(t)
	strict[client.WorkspacePage](t, k.rec)
	if len(page.Data) != 2 {
		t.Fatalf("acme workspaces: %+v", page.Data)
	}
	jiraDetails := must(c.Commerce.GetEntitlementDetails(ctx, atlassiantest.ExistingJiraEntitlementID)).get(t)
	strict[client.EntitlementDetails](t, k.rec)
	if jiraDetails.FamilyContainerID() != atlassiantest.ExistingFamilyContainerEntitlementID {
		t.Fatalf("family container %q", jiraDetails.FamilyContainerID())
	}
	parent := must(c.Commerce.GetEntitlementDetails(ctx, atlassiantest.JiraParentEntitlementID)).get(t)

	prov := must(c.Installations.ProvisionProducts(ctx, atlassiantest.OrgID, &client.ProvisionRequest{
		Offerings:  []client.ProvisionOffering{{ID: atlassiantest.JiraOfferingID, Location: "us"}, {ID: atlassiantest.JSMOfferingID, Location: "us"}},
		Parameters: client.ProvisionParameters{AdminEmail: "admin@acme.example", Name: "contract", Timezone: "Europe/Paris"},
	})).get(t)
	strict[client.ProvisionResponse](t, k.rec)
	pid, err := client.ProvisionRequestID(prov.Data.StatusURL)
	if err != nil {
		t.Fatal(err)
	}
	order := &client.OrderRequest{OrderID: "contract-order", TransactionAccountID: parent.TransactionAccountID, InvoiceGroupID: parent.InvoiceGroupID,
		Items: []client.OrderItem{
			{Type: client.OrderItemCreation, ItemID: "O1", OfferingID: atlassiantest.JiraFamilyContainerOfferingID},
			item("O2", atlassiantest.JiraOfferingID, itemRel(client.RelationFamilyContainer, "O1"), entRel(client.RelationEnterprise, atlassiantest.JiraParentEntitlementID)),
			item("O3", atlassiantest.JSMOfferingID, itemRel(client.RelationFamilyContainer, "O1"), entRel(client.RelationEnterprise, atlassiantest.JSMParentEntitlementID)),
		},
		Metadata: client.OrderMetadata{ProvisionRequestID: pid}}
	created := must(c.Commerce.CreateOrder(ctx, order)).get(t)
	strict[client.OrderResponse](t, k.rec)
	if created.OrderID != order.OrderID || len(created.Items) != 3 {
		t.Fatalf("created %+v", created)
	}
	status := must(c.Installations.GetProvisionStatus(ctx, prov.Data.StatusURL)).get(t)
	strict[client.ProvisionStatus](t, k.rec)
	if status.Data.Status != client.ProvisionInProgress {
		t.Fatalf("status %+v", status.Data)
	}
	k.clock.Advance(2 * time.Second)
	if st := must(c.Installations.GetProvisionStatus(ctx, prov.Data.StatusURL)).get(t); st.Data.Status != client.ProvisionCompleted {
		t.Fatalf("status %+v", st.Data)
	}
	got := must(c.Commerce.GetOrder(ctx, order.OrderID, order.TransactionAccountID)).get(t)
	strict[client.Order](t, k.rec)
	for _, it := range got.Items {
		if it.ProcessingInfo == nil || it.ProcessingInfo.Status != client.ItemSuccess {
			t.Fatalf("item %+v", it)
		}
	}
	var jiraARI string
	for w, err := range c.Workspaces.QueryIter(ctx, atlassiantest.OrgID, client.WorkspaceQuery{Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		if w.Attributes.Name == "contract" && w.Attributes.TypeKey == "jira-software" {
			jiraARI = w.ID
		}
	}
	if jiraARI == "" {
		t.Fatal("QueryIter did not reach the new site's Jira")
	}
	ents := must(c.Installations.ListProductEntitlements(ctx, atlassiantest.OrgID, jiraARI)).get(t)
	strict[client.ProductEntitlements](t, k.rec)
	if ents.Metadata.JiraFamilyContainer != got.Items[0].ProcessingInfo.Entitlement.ID {
		t.Fatalf("product entitlements %+v", ents)
	}
}

func TestContractInstallAppWithV1Order(t *testing.T) {
	k := newContract(t)
	ctx, c := k.ctx, k.c
	ents := must(c.Installations.ListProductEntitlements(ctx, atlassiantest.OrgID, atlassiantest.ExistingConfluenceProductARI)).get(t)
	details := must(c.Commerce.GetEntitlementDetails(ctx, ents.Entitlements[0].EntitlementID)).get(t)
	prov := must(c.Installations.ProvisionApp(ctx, atlassiantest.OrgID, atlassiantest.ExistingConfluenceProductARI, &client.ProvisionRequest{
		Offerings:  []client.ProvisionOffering{{ID: atlassiantest.AppOfferingID}},
		Parameters: client.ProvisionParameters{AdminEmail: "admin@acme.example", AppKey: atlassiantest.AppKey}})).get(t)
	pid, _ := client.ProvisionRequestID(prov.Data.StatusURL)
	it := item("O1", atlassiantest.AppOfferingID, entRel(client.RelationAppDependence, details.EntitlementID))
	it.Promotions = []client.OrderPromotion{{PromotionDefinition: client.PromotionDefinition{PromotionCode: atlassiantest.PromotionCode}}}
	it.NextBillingAnchorTimestamp = details.BillingAnchorTimestamp()
	req := &client.OrderRequest{OrderID: "app-v1", TransactionAccountID: details.TransactionAccountID, InvoiceGroupID: details.InvoiceGroupID,
		Items: []client.OrderItem{it}, Metadata: client.OrderMetadata{ProvisionRequestID: pid}}
	must(c.Commerce.CreateOrderV1(ctx, req)).get(t)
	strict[client.OrderResponse](t, k.rec)
	k.clock.Advance(2 * time.Second)
	o := must(c.Commerce.GetOrder(ctx, "app-v1", details.TransactionAccountID)).get(t)
	if o.Items[0].ProcessingInfo.Status != client.ItemSuccess {
		t.Fatalf("app item %+v", o.Items[0].ProcessingInfo)
	}
	app := must(c.Commerce.GetEntitlementDetails(ctx, o.Items[0].ProcessingInfo.Entitlement.ID)).get(t)
	if app.BillingAnchorTimestamp() != atlassiantest.BillingAnchorTimestamp {
		t.Fatalf("app entitlement anchor %d", app.BillingAnchorTimestamp())
	}
}

func TestContractErrors(t *testing.T) {
	k := newContract(t)
	ctx, c := k.ctx, k.c
	_, _, err := c.Commerce.CreateOrder(ctx, &client.OrderRequest{OrderID: "x", TransactionAccountID: "t", InvoiceGroupID: "i",
		Items: []client.OrderItem{{Type: client.OrderItemCreation, ItemID: "O1", OfferingID: "nope"}}, Metadata: client.OrderMetadata{ProvisionRequestID: "nope"}})
	var er *client.ErrorResponse
	if !errors.As(err, &er) || er.StatusCode != 400 || er.Message == "" || len(er.Errors) < 2 || er.RequestID == "" {
		t.Fatalf("invalid order: %#v", err)
	}
	for _, d := range er.Errors {
		if d.Field == "" || d.Message == "" {
			t.Fatalf("error detail without field or message: %+v", d)
		}
	}
	if _, _, err := c.Commerce.GetEntitlementDetails(ctx, "missing"); !errors.As(err, &er) || er.StatusCode != 404 {
		t.Fatalf("missing entitlement: %v", err)
	}
	k.s.SetFault(atlassiantest.EndpointEntitlementDetails, atlassiantest.Fault{RateLimit: 1, RetryAfter: 7 * time.Second})
	var rl *client.RateLimitError
	if _, _, err := c.Commerce.GetEntitlementDetails(ctx, atlassiantest.JiraParentEntitlementID); !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Fatalf("rate limited: %v", err)
	}
	bad, err := client.NewClient(client.WithBaseURL(k.s.URL), client.WithAPIKey("wrong"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := bad.Commerce.GetEntitlementDetails(ctx, atlassiantest.JiraParentEntitlementID); !errors.As(err, &er) || er.StatusCode != 401 || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("unauthorized: %v", err)
	}
}

// The client retries the order over a dropped connection with the same
// orderId; the sandbox applied the first and answers the retry with it.
func TestContractOrderRetriedOverAmbiguousFailure(t *testing.T) {
	clientClock := clockwork.NewFakeClockAt(epoch)
	k := newContract(t)
	c, err := k.s.Client(client.WithClock(clientClock), client.WithRetry(3, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	pid := (&fixture{t: t, s: k.s, clock: k.clock}).provision("retry", "UTC", atlassiantest.ConfluenceOfferingID)
	k.s.SetFault(atlassiantest.EndpointCreateOrder, atlassiantest.Fault{Ambiguous: 1, Times: 1})
	req := newOrder("retried", pid, item("O1", atlassiantest.ConfluenceOfferingID, entRel(client.RelationEnterprise, atlassiantest.ConfluenceParentEntitlementID)))
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Commerce.CreateOrder(context.Background(), &req)
		done <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if n := len(k.s.Orders()); n != 1 {
				t.Fatalf("%d orders", n)
			}
			if n := len(k.s.RequestsTo(atlassiantest.EndpointCreateOrder)); n != 2 {
				t.Fatalf("%d order requests, want 2", n)
			}
			return
		default:
		}
		waitCtx, stop := context.WithTimeout(ctx, 50*time.Millisecond)
		if clientClock.BlockUntilContext(waitCtx, 1) == nil {
			clientClock.Advance(time.Second)
		}
		stop()
		if ctx.Err() != nil {
			t.Fatal("the order call did not finish")
		}
	}
}

func TestContractQuotes(t *testing.T) {
	k := newContract(t)
	ctx, c := k.ctx, k.c
	q := must(c.Quotes.Get(ctx, atlassiantest.QuoteID, atlassiantest.TransactionAccountID)).get(t)
	strict[client.Quote](t, k.rec)
	if q.ID != atlassiantest.QuoteID || len(q.LineItems) != 2 {
		t.Fatalf("quote %+v", q)
	}
	list := must(c.Quotes.List(ctx, atlassiantest.TransactionAccountID, &client.QuoteListOptions{PageSize: 2})).get(t)
	strict[client.QuoteList](t, k.rec)
	if len(list.Data) != 2 || list.NextID == "" {
		t.Fatalf("first page %+v", list)
	}
	var ids []string
	for q, err := range c.Quotes.ListIter(ctx, atlassiantest.TransactionAccountID, client.QuoteListOptions{PageSize: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, q.ID)
	}
	if len(ids) != 3 {
		t.Fatalf("iterated %v", ids)
	}
	body, _, err := c.Quotes.Download(ctx, atlassiantest.QuoteID, atlassiantest.TransactionAccountID)
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := io.ReadAll(body)
	body.Close()
	if err != nil {
		t.Fatal(err)
	}
	checkPDF(t, pdf)
	if _, _, err := c.Quotes.Download(ctx, atlassiantest.QuoteID, "other-account"); err == nil {
		t.Fatal("downloaded a quote of another transaction account")
	}
}

func TestContractPromotions(t *testing.T) {
	k := newContract(t)
	ctx, c := k.ctx, k.c
	p := atlassiantest.PartnerID
	all := must(c.Promotions.List(ctx, p)).get(t)
	strict[client.PromotionList](t, k.rec)
	if len(all.Promotions) != 3 {
		t.Fatalf("list %+v", all)
	}
	created := must(c.Promotions.Create(ctx, p, &client.CreatePromotionRequest{Name: "Contract", EligibleApps: []string{atlassiantest.AppKey},
		ExpirationDate: "2099-01-01", PromotionType: "SINGLE_USE_PROMOTION", DiscountType: "PERCENTAGE_DISCOUNT", DiscountPercent: 30, HostingType: "CLOUD"})).get(t)
	strict[client.CreatePromotionResponse](t, k.rec)
	pct := int64(35)
	if _, err := c.Promotions.Update(ctx, p, created.ID, &client.UpdatePromotionRequest{Name: "Contract 2", DiscountPercent: &pct}); err != nil {
		t.Fatal(err)
	}
	got := must(c.Promotions.Get(ctx, p, created.ID)).get(t)
	strict[client.Promotion](t, k.rec)
	if got.Name != "Contract 2" || got.DiscountPercent != 35 || got.Links == nil {
		t.Fatalf("promotion %+v", got)
	}
	if st := must(c.Promotions.GetStatus(ctx, p, created.ID)).get(t); st != "ACTIVE" {
		t.Fatalf("status %q", st)
	}
	code := must(c.Promotions.CreateCode(ctx, p, created.ID)).get(t)
	strict[client.PromotionCode](t, k.rec)
	if code == nil || code.Code == "" {
		t.Fatalf("code %+v", code)
	}
	codes := must(c.Promotions.ListCodes(ctx, p, created.ID)).get(t)
	strict[client.PromotionCodes](t, k.rec)
	if len(codes.Codes) != 1 {
		t.Fatalf("codes %+v", codes)
	}
	if one := must(c.Promotions.GetCode(ctx, p, created.ID, code.Code)).get(t); one.Code != code.Code {
		t.Fatalf("code %+v", one)
	}
	if _, err := c.Promotions.DeleteCode(ctx, p, created.ID, code.Code); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Promotions.GetCode(ctx, p, created.ID, code.Code); err == nil {
		t.Fatal("deleted code still there")
	}
	first := must(c.Promotions.ListPaged(ctx, p, &client.PromotionListOptions{Limit: 2})).get(t)
	strict[client.PromotionPage](t, k.rec)
	if first.TotalItems != 4 || len(first.Promotions) != 2 || first.NextID == "" {
		t.Fatalf("first page %+v", first)
	}
	active := true
	var names []string
	for pr, err := range c.Promotions.ListPagedIter(ctx, p, client.PromotionListOptions{Limit: 1, ActiveOnly: &active}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, pr.Name)
	}
	if len(names) != 3 {
		t.Fatalf("active promotions %v", names)
	}
}

func TestContractCSM(t *testing.T) {
	k := newContract(t)
	ctx, c := k.ctx, k.c
	cloud := atlassiantest.CloudID
	fields := must(c.CSM.ListDetailFields(ctx, cloud)).get(t)
	strict[client.DetailFields](t, k.rec)
	if len(fields.Results) != 3 {
		t.Fatalf("fields %+v", fields)
	}
	f := must(c.CSM.CreateDetailField(ctx, cloud, &client.CreateDetailFieldRequest{Name: "Plan", Type: client.DetailFieldType{Name: "SELECT", Options: []string{"A", "B"}}})).get(t)
	strict[client.DetailField](t, k.rec)
	if f.Name != "Plan" {
		t.Fatalf("field %+v", f)
	}
	f = must(c.CSM.EditDetailField(ctx, cloud, "Plan", &client.EditDetailFieldRequest{Name: "Level", Options: []string{"A", "B", "C"}})).get(t)
	if f.Name != "Level" || len(f.Type.Options) != 3 {
		t.Fatalf("edited %+v", f)
	}
	d := must(c.CSM.SetEntitlementDetail(ctx, cloud, atlassiantest.CSMEntitlementID, "Level", []string{"C"})).get(t)
	strict[client.CSMEntitlementDetail](t, k.rec)
	if d.Name != "Level" || d.Values[0] != "C" {
		t.Fatalf("detail %+v", d)
	}
	if _, _, err := c.CSM.SetEntitlementDetail(ctx, cloud, atlassiantest.CSMEntitlementID, "Level", []string{"Z"}); err == nil {
		t.Fatal("accepted a value that is not an option")
	}
	e := must(c.CSM.GetEntitlement(ctx, cloud, atlassiantest.CSMEntitlementID)).get(t)
	strict[client.CSMEntitlement](t, k.rec)
	if len(e.Details) != 3 {
		t.Fatalf("entitlement %+v", e)
	}
	if _, err := c.CSM.DeleteDetailField(ctx, cloud, "Level"); err != nil {
		t.Fatal(err)
	}
	if e := must(c.CSM.GetEntitlement(ctx, cloud, atlassiantest.CSMEntitlementID)).get(t); len(e.Details) != 2 {
		t.Fatalf("details after deleting the field: %+v", e.Details)
	}
	page := must(c.CSM.ListEntitlements(ctx, cloud, &client.CSMEntitlementListOptions{EntityType: client.EntityOrganization, EntityID: atlassiantest.CSMOrganizationID, Limit: 1})).get(t)
	strict[client.CSMEntitlementPage](t, k.rec)
	if page.Total != 2 || page.IsLast {
		t.Fatalf("page %+v", page)
	}
	var n int
	for _, err := range c.CSM.ListEntitlementsIter(ctx, cloud, client.CSMEntitlementListOptions{EntityType: client.EntityOrganization, EntityID: atlassiantest.CSMOrganizationID, Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("iterated %d entitlements", n)
	}
	if _, err := c.CSM.DeleteEntitlement(ctx, cloud, atlassiantest.CSMEntitlementID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.CSM.GetEntitlement(ctx, cloud, atlassiantest.CSMEntitlementID); err == nil {
		t.Fatal("deleted entitlement still there")
	}
}
