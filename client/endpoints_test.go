package client

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
)

// Reference ids used in the endpoint table.
const (
	orgID      = "0d0bd1d2-1a3b-4c5d-8e9f-a0b1c2d3e4f5"
	productARI = "ari:cloud:jira-software::site/4745a76c-290c-49d4-aa23-04d5ccb3c52d"
	ariEscaped = "ari%3Acloud%3Ajira-software%3A%3Asite%2F4745a76c-290c-49d4-aa23-04d5ccb3c52d"
	txa        = "78e855e6-731e-4819-b23e-7854aad854c8"
	partner    = int64(1234)
	cloudID    = "cloud-1"
)

// decodeSample reads a testdata sample into a T.
func decodeSample[T any](t *testing.T, name string) *T {
	t.Helper()
	v := new(T)
	if err := json.Unmarshal(testdata(t, name), v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func boolPtr(b bool) *bool { return &b }

// endpointCase is one call of the client and what the API must see.
type endpointCase struct {
	name     string
	method   string
	path     string     // escaped, below the base URL
	query    url.Values // exact; nil for none
	header   map[string]string
	reqBody  string // testdata sample the body must equal; "" for no body
	respBody string // testdata sample to answer with; "" for no body
	respRaw  string // raw answer when respBody is ""
	status   int
	call     func(t *testing.T, c *Client) (any, error)
	check    func(t *testing.T, got any)
}

func endpointCases(t *testing.T) []endpointCase {
	return []endpointCase{
		{
			name: "ListProductEntitlements", method: "GET",
			path:     "/admin/installations/v2/orgs/" + orgID + "/products/" + ariEscaped + "/entitlements",
			respBody: "product_entitlements.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Installations.ListProductEntitlements(ctxT(t), orgID, productARI)
				return v, err
			},
			check: func(t *testing.T, got any) {
				p := got.(*ProductEntitlements)
				if p.ResourceARI != "ari:cloud:platform::site/c9c33dfb-7cc6-42dc-8243-4abe82128f16" ||
					p.Entitlements[0].EntitlementID != "edf3f6c3-22a3-3f34-a21f-8c6395ac0074" ||
					p.Entitlements[0].ProvisioningStatus != "ACTIVE" ||
					p.Metadata.JiraFamilyContainer != "c69b31ea-ed4b-37d0-91c3-583a40c8fd9c" {
					t.Errorf("got %+v", p)
				}
			},
		},
		{
			name: "ProvisionProducts/new site", method: "POST",
			path:    "/admin/installations/v2/orgs/" + orgID + "/products",
			reqBody: "provision_products_new_site_request.json", respBody: "provision_response.json",
			header: map[string]string{"Content-Type": "application/json"},
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Installations.ProvisionProducts(ctxT(t), orgID, decodeSample[ProvisionRequest](t, "provision_products_new_site_request.json"))
				return v, err
			},
			check: func(t *testing.T, got any) {
				if u := got.(*ProvisionResponse).Data.StatusURL; u != "https://api.atlassian.com/admin/installations/v2/orgs/{orgId}/products/status/6664d179-c5e8-4f6a-9f45-8a9f0756440" {
					t.Errorf("statusUrl = %q", u)
				}
			},
		},
		{
			name: "ProvisionProducts/existing site", method: "POST",
			path:    "/admin/installations/v2/orgs/" + orgID + "/products",
			reqBody: "provision_products_existing_site_request.json", respBody: "provision_response.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Installations.ProvisionProducts(ctxT(t), orgID, decodeSample[ProvisionRequest](t, "provision_products_existing_site_request.json"))
				return v, err
			},
		},
		{
			name: "ProvisionApp", method: "POST",
			path:    "/admin/installations/v2/orgs/" + orgID + "/products/" + ariEscaped + "/apps",
			reqBody: "provision_app_request.json", respBody: "provision_response.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Installations.ProvisionApp(ctxT(t), orgID, productARI, decodeSample[ProvisionRequest](t, "provision_app_request.json"))
				return v, err
			},
		},
		{
			name: "GetProvisionStatus", method: "GET",
			path:     "/admin/installations/v2/orgs/" + orgID + "/products/status/6664d179",
			respBody: "provision_status.json",
			call: func(t *testing.T, c *Client) (any, error) {
				u := c.BaseURL().String() + "admin/installations/v2/orgs/" + orgID + "/products/status/6664d179"
				v, _, err := c.Installations.GetProvisionStatus(ctxT(t), u)
				return v, err
			},
			check: func(t *testing.T, got any) {
				s := got.(*ProvisionStatus)
				if s.Data.RequestID != "6664d179-c5e8-4f6a-9f45-8a9f07564400" || s.Data.Status != ProvisionInProgress {
					t.Errorf("got %+v", s)
				}
			},
		},
		{
			name: "Workspaces.Query", method: "POST",
			path:    "/admin/v2/orgs/" + orgID + "/workspaces",
			reqBody: "workspaces_query_request.json", respBody: "workspaces_page.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Workspaces.Query(ctxT(t), orgID, decodeSample[WorkspaceQuery](t, "workspaces_query_request.json"))
				return v, err
			},
			check: func(t *testing.T, got any) {
				p := got.(*WorkspacePage)
				w := p.Data[0]
				if w.ID != productARI || w.Attributes.Name != "acme" || w.Attributes.HostURL != "https://acme.atlassian.net" ||
					w.Relationships.Entitlement[0].ID != "f5050916-617d-49d5-9aa8-382185a0c0b3" ||
					w.Attributes.Sandbox.ParentID != nil || p.Links.Next != "" || p.Meta.Total != 4 {
					t.Errorf("got %+v", p)
				}
			},
		},
		{
			name: "GetEntitlementDetails", method: "GET",
			path:     "/commerce/api/v2/entitlements/73a8edb7-a48f-3a03-8609-5a616930f01c/details",
			respBody: "entitlement_details.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Commerce.GetEntitlementDetails(ctxT(t), "73a8edb7-a48f-3a03-8609-5a616930f01c")
				return v, err
			},
			check: func(t *testing.T, got any) {
				d := got.(*EntitlementDetails)
				if d.Version != 3 || d.TransactionAccountID != "2666852d-2296-4c24-a999-8949db3bbf1f" ||
					d.InvoiceGroupID != "f5b07603-1330-4235-bbba-1b9d54f04882" ||
					d.FamilyContainerID() != "92ee1d1d-9f6c-3288-b1d9-12dbf5086ef6" ||
					d.BillingAnchorTimestamp() != 1752745039000 {
					t.Errorf("got %+v", d)
				}
			},
		},
		{
			name: "CreateOrder/new site Jira premium", method: "POST", path: "/commerce/api/v2/orders",
			reqBody: "order_request_jira_premium.json", respBody: "order_response.json",
			header: map[string]string{"X-Transaction-Account": "6d9cfcbc-0103-4c21-aa8b-462e1ef2d74e"},
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Commerce.CreateOrder(ctxT(t), decodeSample[OrderRequest](t, "order_request_jira_premium.json"))
				return v, err
			},
			check: func(t *testing.T, got any) {
				o := got.(*OrderResponse)
				if o.OrderID != "ff34629f-cc52-4fae-a8e3-364257229805" || o.Slug != "R-42K-N7M-D5T-4XD" ||
					o.Items[0].ItemID != "O1" || o.Items[0].OrderItemID != "ff34629f-cc52-4fae-a8e3-364257229805-1" ||
					o.Items[0].ProcessingInfo != nil || o.Metadata != nil {
					t.Errorf("got %+v", o)
				}
			},
		},
		{
			name: "CreateOrder/all enterprise products", method: "POST", path: "/commerce/api/v2/orders",
			reqBody: "order_request_all_enterprise.json", respBody: "order_response.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Commerce.CreateOrder(ctxT(t), decodeSample[OrderRequest](t, "order_request_all_enterprise.json"))
				return v, err
			},
		},
		{
			name: "CreateOrder/app with promotion code", method: "POST", path: "/commerce/api/v2/orders",
			reqBody: "order_request_app_promo.json", respBody: "order_response.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Commerce.CreateOrder(ctxT(t), decodeSample[OrderRequest](t, "order_request_app_promo.json"))
				return v, err
			},
		},
		{
			name: "CreateOrderV1/JSM on existing site", method: "POST", path: "/commerce/api/v1/orders",
			reqBody: "order_request_jsm_existing_site.json", respBody: "order_response.json",
			header: map[string]string{"X-Transaction-Account": "2666852d-2296-4c24-a999-8949db3bbf1f"},
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Commerce.CreateOrderV1(ctxT(t), decodeSample[OrderRequest](t, "order_request_jsm_existing_site.json"))
				return v, err
			},
		},
		{
			name: "GetOrder", method: "GET", path: "/commerce/api/v2/orders/0aed15e5-3d09-4319-800d-d65a5e73f783",
			header:   map[string]string{"X-Transaction-Account": txa, "Accept": "application/json"},
			respBody: "order.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Commerce.GetOrder(ctxT(t), "0aed15e5-3d09-4319-800d-d65a5e73f783", txa)
				return v, err
			},
			check: func(t *testing.T, got any) {
				o := got.(*Order)
				it := o.Items[1]
				if len(o.Items) != 2 || it.ProcessingInfo.Status != ItemSuccess ||
					it.ProcessingInfo.Entitlement.ID != "3e54ef62-8c14-33ab-9625-5de436e5625b" ||
					it.ProcessingInfo.Entitlement.Version != "2" ||
					it.RelatesFromEntitlements[0].OrderItemID != "0aed15e5-3d09-4319-800d-d65a5e73f783-1" ||
					o.CreatedDate != 1721418338715 || o.TransactionAccount.PartitionKey != "atlassian-commercial" {
					t.Errorf("got %+v", o)
				}
			},
		},
		{
			name: "Quotes.Get", method: "GET", path: "/commerce/api/v2/quotes/Q-1",
			header: map[string]string{"X-Transaction-Account": txa}, respBody: "quote.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Quotes.Get(ctxT(t), "Q-1", txa)
				return v, err
			},
			check: func(t *testing.T, got any) {
				q := got.(*Quote)
				li := q.LineItems[0]
				if q.Version != 31 || q.Status != "VALIDATION_IN_PROGRESS" || li.EndsAt.Duration.IntervalCount != 42 ||
					li.ChargeQuantities[0].Quantity != 2154 || q.UpcomingBills.Lines[0].Currency != "USD" ||
					q.AutoRefresh.InitiatedAt != 71 {
					t.Errorf("got %+v", q)
				}
			},
		},
		{
			name: "Quotes.List", method: "GET", path: "/commerce/api/v1/quotes",
			query:  url.Values{"pageSize": {"10"}, "startId": {"q-9"}, "status": {"OPEN"}},
			header: map[string]string{"X-Transaction-Account": txa}, respRaw: `{"data":[{"id":"q-10"}],"nextId":"q-11"}`,
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Quotes.List(ctxT(t), txa, &QuoteListOptions{PageSize: 10, StartID: "q-9", Status: "OPEN"})
				return v, err
			},
			check: func(t *testing.T, got any) {
				if l := got.(*QuoteList); l.Data[0].ID != "q-10" || l.NextID != "q-11" {
					t.Errorf("got %+v", l)
				}
			},
		},
		{
			name: "Promotions.ListPaged", method: "GET", path: "/marketplace/catalog/partners/1234/promotions/paged",
			query: url.Values{"limit": {"10"}, "offset": {"20"}, "order-by": {"START_DATE"}, "active-only": {"true"},
				"hosting-type": {"CLOUD"}, "app-key": {"com.example.app"}, "ascending": {"false"}, "nextId": {"n1"}},
			respBody: "promotions_paged.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Promotions.ListPaged(ctxT(t), partner, &PromotionListOptions{Limit: 10, Offset: 20, OrderBy: "START_DATE",
					ActiveOnly: boolPtr(true), HostingType: "CLOUD", AppKey: "com.example.app", Ascending: boolPtr(false), NextID: "n1"})
				return v, err
			},
			check: func(t *testing.T, got any) {
				p := got.(*PromotionPage)
				if p.TotalItems != 46 || p.Limit != 48 || p.Promotions[0].Discount[0].DiscountAmount != 43 ||
					p.Promotions[0].Links.Codes.Href != "<string>" || p.NextID != "<string>" {
					t.Errorf("got %+v", p)
				}
			},
		},
		{
			name: "Promotions.List", method: "GET", path: "/marketplace/catalog/partners/1234/promotions",
			respBody: "promotions.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Promotions.List(ctxT(t), partner)
				return v, err
			},
			check: func(t *testing.T, got any) {
				if p := got.(*PromotionList); p.Promotions[0].Status != "ACTIVE" || p.Promotions[0].MaxUses != 78 {
					t.Errorf("got %+v", p)
				}
			},
		},
		{
			name: "Promotions.Create", method: "POST", path: "/marketplace/catalog/partners/1234/promotions",
			reqBody: "create_promotion_request.json", respBody: "create_promotion_response.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Promotions.Create(ctxT(t), partner, decodeSample[CreatePromotionRequest](t, "create_promotion_request.json"))
				return v, err
			},
		},
		{
			name: "Promotions.Get", method: "GET", path: "/marketplace/catalog/partners/1234/promotions/P%2F1",
			respBody: "promotion.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Promotions.Get(ctxT(t), partner, "P/1")
				return v, err
			},
			check: func(t *testing.T, got any) {
				if p := got.(*Promotion); p.Links.Usage.Title != "<string>" || p.DiscountPercent != 71 {
					t.Errorf("got %+v", p)
				}
			},
		},
		{
			name: "Promotions.Update", method: "PATCH", path: "/marketplace/catalog/partners/1234/promotions/P1",
			reqBody: "update_promotion_request.json", status: http.StatusNoContent,
			call: func(t *testing.T, c *Client) (any, error) {
				_, err := c.Promotions.Update(ctxT(t), partner, "P1", decodeSample[UpdatePromotionRequest](t, "update_promotion_request.json"))
				return nil, err
			},
		},
		{
			name: "Promotions.ListCodes", method: "GET", path: "/marketplace/catalog/partners/1234/promotions/P1/codes",
			respBody: "promotion_codes.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Promotions.ListCodes(ctxT(t), partner, "P1")
				return v, err
			},
			check: func(t *testing.T, got any) {
				if p := got.(*PromotionCodes); p.Codes[0].Usage.OrderID != 94 {
					t.Errorf("got %+v", p)
				}
			},
		},
		{
			name: "Promotions.CreateCode", method: "POST", path: "/marketplace/catalog/partners/1234/promotions/P1/codes",
			status: http.StatusCreated,
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Promotions.CreateCode(ctxT(t), partner, "P1")
				if v != nil {
					t.Errorf("code = %+v, want nil for an empty answer", v)
				}
				return nil, err
			},
		},
		{
			name: "Promotions.GetCode", method: "GET", path: "/marketplace/catalog/partners/1234/promotions/P1/codes/ABC%20123",
			respBody: "promotion_code.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Promotions.GetCode(ctxT(t), partner, "P1", "ABC 123")
				return v, err
			},
			check: func(t *testing.T, got any) {
				if p := got.(*PromotionCode); p.Usage.Apps[0].UserTier != 76 {
					t.Errorf("got %+v", p)
				}
			},
		},
		{
			name: "Promotions.DeleteCode", method: "DELETE", path: "/marketplace/catalog/partners/1234/promotions/P1/codes/ABC",
			status: http.StatusNoContent,
			call: func(t *testing.T, c *Client) (any, error) {
				_, err := c.Promotions.DeleteCode(ctxT(t), partner, "P1", "ABC")
				return nil, err
			},
		},
		{
			name: "Promotions.GetStatus", method: "GET", path: "/marketplace/catalog/partners/1234/promotions/P1/status",
			respRaw: `"ACTIVE"`,
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.Promotions.GetStatus(ctxT(t), partner, "P1")
				return v, err
			},
			check: func(t *testing.T, got any) {
				if got.(string) != "ACTIVE" {
					t.Errorf("got %v", got)
				}
			},
		},
		{
			name: "CSM.ListDetailFields", method: "GET", path: "/jsm/csm/cloudid/cloud-1/api/v1/entitlement/details",
			respBody: "csm_detail_fields.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.CSM.ListDetailFields(ctxT(t), cloudID)
				return v, err
			},
			check: func(t *testing.T, got any) {
				f := got.(*DetailFields).Results[0]
				if f.Name != "Region" || f.Type.Name != "SELECT" || len(f.Type.Options) != 3 || f.Configuration.Position != 1 {
					t.Errorf("got %+v", f)
				}
			},
		},
		{
			name: "CSM.CreateDetailField", method: "POST", path: "/jsm/csm/cloudid/cloud-1/api/v1/entitlement/details",
			reqBody: "csm_create_detail_field_request.json", respBody: "csm_detail_field.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.CSM.CreateDetailField(ctxT(t), cloudID, decodeSample[CreateDetailFieldRequest](t, "csm_create_detail_field_request.json"))
				return v, err
			},
		},
		{
			name: "CSM.EditDetailField", method: "PUT", path: "/jsm/csm/cloudid/cloud-1/api/v1/entitlement/details/Support%20Region",
			reqBody: "csm_edit_detail_field_request.json", respBody: "csm_edit_detail_field_response.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.CSM.EditDetailField(ctxT(t), cloudID, "Support Region", decodeSample[EditDetailFieldRequest](t, "csm_edit_detail_field_request.json"))
				return v, err
			},
		},
		{
			name: "CSM.DeleteDetailField", method: "DELETE", path: "/jsm/csm/cloudid/cloud-1/api/v1/entitlement/details/Region",
			status: http.StatusNoContent,
			call: func(t *testing.T, c *Client) (any, error) {
				_, err := c.CSM.DeleteDetailField(ctxT(t), cloudID, "Region")
				return nil, err
			},
		},
		{
			name: "CSM.GetEntitlement", method: "GET", path: "/jsm/csm/cloudid/cloud-1/api/v1/entitlement/3858a61a",
			respBody: "csm_entitlement.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.CSM.GetEntitlement(ctxT(t), cloudID, "3858a61a")
				return v, err
			},
			check: func(t *testing.T, got any) {
				e := got.(*CSMEntitlement)
				if e.Product.Name != "Acme Widget" || e.EntitledEntity.Type != EntityCustomer || e.Details[0].Values[0] != "EU" {
					t.Errorf("got %+v", e)
				}
			},
		},
		{
			name: "CSM.DeleteEntitlement", method: "DELETE", path: "/jsm/csm/cloudid/cloud-1/api/v1/entitlement/3858a61a",
			status: http.StatusNoContent,
			call: func(t *testing.T, c *Client) (any, error) {
				_, err := c.CSM.DeleteEntitlement(ctxT(t), cloudID, "3858a61a")
				return nil, err
			},
		},
		{
			name: "CSM.SetEntitlementDetail", method: "PUT", path: "/jsm/csm/cloudid/cloud-1/api/v1/entitlement/3858a61a/details",
			query:   url.Values{"fieldName": {"Tier"}},
			reqBody: "csm_set_detail_request.json", respBody: "csm_set_detail_response.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.CSM.SetEntitlementDetail(ctxT(t), cloudID, "3858a61a", "Tier", []string{"EU"})
				return v, err
			},
			check: func(t *testing.T, got any) {
				if d := got.(*CSMEntitlementDetail); d.ID != "321" || d.Values[0] != "EU" {
					t.Errorf("got %+v", d)
				}
			},
		},
		{
			name: "CSM.ListEntitlements", method: "GET", path: "/jsm/csm/cloudid/cloud-1/api/v1/entitlements",
			query: url.Values{"entityType": {"ORGANIZATION"},
				"entityId": {"qm:9edf598a-85d4-4db9-bf2e-7245922b4ea8:0000e9d8-a22e-4220-ac63-412ff9eec053"},
				"start":    {"25"}, "limit": {"25"}, "productId": {"p1"}},
			header:   map[string]string{"X-ExperimentalApi": "opt-in"},
			respBody: "csm_entitlements_page.json",
			call: func(t *testing.T, c *Client) (any, error) {
				v, _, err := c.CSM.ListEntitlements(ctxT(t), cloudID, &CSMEntitlementListOptions{EntityType: EntityOrganization,
					EntityID: "qm:9edf598a-85d4-4db9-bf2e-7245922b4ea8:0000e9d8-a22e-4220-ac63-412ff9eec053", Start: 25, Limit: 25, ProductID: "p1"})
				return v, err
			},
			check: func(t *testing.T, got any) {
				p := got.(*CSMEntitlementPage)
				if p.Total != 200 || p.IsLast || p.MaxResults != 25 || p.Results[0].ID != "3858a61a-d337-42e6-993e-e13e1c366d4f" {
					t.Errorf("got %+v", p)
				}
			},
		},
	}
}

// TestEndpoints checks every endpoint of the reference: method, escaped path
// below the base URL's prefix, query, headers, the JSON body against the
// reference's sample, and the decoding of the reference's sample answer.
func TestEndpoints(t *testing.T) {
	for _, tc := range endpointCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t)
			calls := 0
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				calls++
				testMethod(t, r, tc.method)
				if got := r.URL.EscapedPath(); got != tc.path {
					t.Errorf("path = %s\nwant   %s", got, tc.path)
				}
				wantQuery := tc.query
				if wantQuery == nil {
					wantQuery = url.Values{}
				}
				if got := r.URL.Query(); got.Encode() != wantQuery.Encode() {
					t.Errorf("query = %s, want %s", got.Encode(), wantQuery.Encode())
				}
				testHeader(t, r, "Authorization", "Bearer "+testAPIKey)
				for k, v := range tc.header {
					testHeader(t, r, k, v)
				}
				if tc.reqBody != "" {
					testHeader(t, r, "Content-Type", "application/json")
					testJSONBody(t, r, testdata(t, tc.reqBody))
				} else if b, _ := io.ReadAll(r.Body); len(b) != 0 {
					t.Errorf("unexpected body %q", b)
				}
				status := tc.status
				if status == 0 {
					status = http.StatusOK
				}
				switch {
				case tc.respBody != "":
					writeJSON(w, status, testdata(t, tc.respBody))
				case tc.respRaw != "":
					writeJSON(w, status, []byte(tc.respRaw))
				default:
					w.WriteHeader(status)
				}
			})
			got, err := tc.call(t, c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if calls != 1 {
				t.Errorf("server saw %d requests, want 1", calls)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}
