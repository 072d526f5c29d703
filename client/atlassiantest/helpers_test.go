package atlassiantest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
)

var epoch = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

type fixture struct {
	t     *testing.T
	s     *atlassiantest.Server
	clock *clockwork.FakeClock
}

func setup(t *testing.T, opts ...atlassiantest.Option) *fixture {
	t.Helper()
	clock := clockwork.NewFakeClockAt(epoch)
	s := atlassiantest.NewServer(append([]atlassiantest.Option{atlassiantest.WithClock(clock)}, opts...)...)
	t.Cleanup(s.Close)
	return &fixture{t: t, s: s, clock: clock}
}

// do sends a request with the default API key and decodes a 2xx JSON answer into out.
func (f *fixture) do(method, path string, body any, out any, header ...string) int {
	f.t.Helper()
	status, raw := f.raw(method, path, body, header...)
	if out != nil && status/100 == 2 {
		if err := json.Unmarshal(raw, out); err != nil {
			f.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return status
}

func (f *fixture) raw(method, path string, body any, header ...string) (int, []byte) {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	url := path
	if len(path) > 0 && path[0] == '/' {
		url = f.s.URL + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+atlassiantest.DefaultAPIKey)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

func (f *fixture) mustDo(method, path string, body any, out any, header ...string) {
	f.t.Helper()
	if status, raw := f.raw(method, path, body, header...); status/100 != 2 {
		f.t.Fatalf("%s %s: status %d: %s", method, path, status, raw)
	} else if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			f.t.Fatalf("decode %s: %v", raw, err)
		}
	}
}

func productsPath() string {
	return "/admin/installations/v2/orgs/" + atlassiantest.OrgID + "/products"
}

// provision starts a products provisioning and returns the provision request id.
func (f *fixture) provision(site, timezone string, offerings ...string) string {
	f.t.Helper()
	req := client.ProvisionRequest{Parameters: client.ProvisionParameters{AdminEmail: "admin@acme.example", Name: site, Timezone: timezone}}
	for _, o := range offerings {
		req.Offerings = append(req.Offerings, client.ProvisionOffering{ID: o, Location: "us"})
	}
	var resp client.ProvisionResponse
	f.mustDo("POST", productsPath(), req, &resp)
	return lastSegment(resp.Data.StatusURL)
}

func lastSegment(u string) string {
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] == '/' {
			return u[i+1:]
		}
	}
	return u
}

func (f *fixture) status(id string) string {
	f.t.Helper()
	var st client.ProvisionStatus
	f.mustDo("GET", productsPath()+"/status/"+id, nil, &st)
	return st.Data.Status
}

func (f *fixture) getOrder(id string) client.Order {
	f.t.Helper()
	var o client.Order
	f.mustDo("GET", "/commerce/api/v2/orders/"+id, nil, &o, "X-transaction-account", atlassiantest.TransactionAccountID)
	return o
}

func entRel(typ, id string) client.OrderItemRelation {
	return client.OrderItemRelation{RelationshipType: typ, ReferenceType: client.ReferenceEntitlement, EntitlementID: id}
}

func itemRel(typ, itemID string) client.OrderItemRelation {
	return client.OrderItemRelation{RelationshipType: typ, ReferenceType: client.ReferenceOrderItem, ItemID: itemID}
}

func item(id, offering string, rels ...client.OrderItemRelation) client.OrderItem {
	return client.OrderItem{Type: client.OrderItemCreation, ItemID: id, OfferingID: offering, RelatesFromEntitlements: rels,
		OptedUsageOptions: &client.OptedUsageOptions{ChargingDetails: &client.ChargingDetails{
			ChargeQuantities: []client.ChargeQuantity{{ChargeElement: "user", Quantity: 100}}}}}
}

func newOrder(orderID, provisionID string, items ...client.OrderItem) client.OrderRequest {
	return client.OrderRequest{OrderID: orderID, TransactionAccountID: atlassiantest.TransactionAccountID,
		InvoiceGroupID: atlassiantest.InvoiceGroupID, Items: items,
		Metadata: client.OrderMetadata{ProvisionRequestID: provisionID}}
}

// jiraSuiteOrder is the cookbook's "All Enterprise products together" order.
func jiraSuiteOrder(orderID, provisionID string) client.OrderRequest {
	return newOrder(orderID, provisionID,
		item("O1", atlassiantest.ConfluenceOfferingID, entRel(client.RelationEnterprise, atlassiantest.ConfluenceParentEntitlementID)),
		client.OrderItem{Type: client.OrderItemCreation, ItemID: "O2", OfferingID: atlassiantest.JiraFamilyContainerOfferingID},
		item("O3", atlassiantest.JiraOfferingID, itemRel(client.RelationFamilyContainer, "O2"), entRel(client.RelationEnterprise, atlassiantest.JiraParentEntitlementID)),
		item("O4", atlassiantest.JSMOfferingID, itemRel(client.RelationFamilyContainer, "O2"), entRel(client.RelationEnterprise, atlassiantest.JSMParentEntitlementID)),
	)
}

func (f *fixture) order(req client.OrderRequest) (int, []byte) {
	f.t.Helper()
	return f.raw("POST", "/commerce/api/v2/orders", req)
}
