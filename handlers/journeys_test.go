package handlers_test

import (
	"encoding/json"
	"testing"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/handlers/record"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

const (
	adminEmail = "admin@acme.example"
	pricingID  = "8c1ffdde-3c1d-41a1-a43d-26bd81079e9e"
	endsAt     = int64(1798761600000) // 2027-01-01, after installtest.Epoch
)

type obj = map[string]any

func newSite(name string) obj {
	return obj{"name": name, "create": true, "timezone": "Australia/Sydney"}
}

func product(offering, family, element string, parent string) obj {
	p := obj{"offeringId": offering, "location": "us", "chargeElement": element, "quantity": 100}
	if family != "" {
		p["family"] = family
	}
	if parent != "" {
		p["parentEntitlementId"] = parent
	}
	return p
}

func productsRequest(site obj, products ...obj) obj {
	return obj{"orgId": atlassiantest.OrgID, "adminEmail": adminEmail, "site": site, "products": products}
}

func users(element string, q int64) *client.OptedUsageOptions {
	return &client.OptedUsageOptions{ChargingDetails: &client.ChargingDetails{
		ChargeQuantities: []client.ChargeQuantity{{ChargeElement: element, Quantity: q}},
	}}
}

func containerItem(id string) client.OrderItem {
	return client.OrderItem{Type: client.OrderItemCreation, ItemID: id, OfferingID: atlassiantest.JiraFamilyContainerOfferingID}
}

func fromItem(id string) client.OrderItemRelation {
	return client.OrderItemRelation{RelationshipType: client.RelationFamilyContainer, ReferenceType: client.ReferenceOrderItem, ItemID: id}
}

func rel(typ, entitlement string) client.OrderItemRelation {
	return client.OrderItemRelation{RelationshipType: typ, ReferenceType: client.ReferenceEntitlement, EntitlementID: entitlement}
}

// TestCookbookJourneys runs every journey of the install cookbook end to end and checks
// the exact order sent, the ordered event, and the provisioned event.
func TestCookbookJourneys(t *testing.T) {
	jiraPremium := product(atlassiantest.JiraOfferingID, "jira", "user", atlassiantest.JiraParentEntitlementID)
	jiraPremium["pricingPlanId"] = pricingID
	jiraPremium["endsAt"] = endsAt
	jiraPremium["nextBillingAnchorTimestamp"] = endsAt
	jiraPremiumItem := client.OrderItem{
		Type: client.OrderItemCreation, ItemID: "O2", OfferingID: atlassiantest.JiraOfferingID,
		OptedUsageOptions: &client.OptedUsageOptions{
			ChargingDetails: &client.ChargingDetails{PricingPlanID: pricingID, ChargeQuantities: []client.ChargeQuantity{{ChargeElement: "user", Quantity: 100}}},
			EffectiveTime:   &client.EffectiveTime{EndsAt: &client.EndsAt{Type: client.EndsAtTimestamp, EndTimestamp: endsAt}},
		},
		RelatesFromEntitlements:    []client.OrderItemRelation{fromItem("O1"), rel(client.RelationEnterprise, atlassiantest.JiraParentEntitlementID)},
		NextBillingAnchorTimestamp: endsAt,
	}
	confluence := product(atlassiantest.ConfluenceOfferingID, "", "user", atlassiantest.ConfluenceParentEntitlementID)
	jira := product(atlassiantest.JiraOfferingID, "jira", "user", atlassiantest.JiraParentEntitlementID)
	jsm := product(atlassiantest.JSMOfferingID, "jira", "agent", atlassiantest.JSMParentEntitlementID)
	item := func(id, offering, element string, rels ...client.OrderItemRelation) client.OrderItem {
		return client.OrderItem{Type: client.OrderItemCreation, ItemID: id, OfferingID: offering,
			OptedUsageOptions: users(element, 100), RelatesFromEntitlements: rels}
	}
	app := obj{
		"appKey": atlassiantest.AppKey, "offeringId": atlassiantest.AppOfferingID, "chargeElement": "agent",
		"quantity": 100, "pricingPlanId": "99eb1387-befd-47bc-a2e6-9e66eb086281",
		"promotionCode": atlassiantest.PromotionCode, "skipTrial": true, "endsAt": int64(1800000000000),
	}
	appItem := func(dependence string) client.OrderItem {
		return client.OrderItem{
			Type: client.OrderItemCreation, ItemID: "O1", OfferingID: atlassiantest.AppOfferingID,
			OptedUsageOptions: &client.OptedUsageOptions{
				ChargingDetails: &client.ChargingDetails{PricingPlanID: "99eb1387-befd-47bc-a2e6-9e66eb086281", ChargeQuantities: []client.ChargeQuantity{{ChargeElement: "agent", Quantity: 100}}},
				Trial:           &client.Trial{SkipTrial: true},
				EffectiveTime:   &client.EffectiveTime{EndsAt: &client.EndsAt{Type: client.EndsAtTimestamp, EndTimestamp: 1800000000000}},
			},
			Promotions:                 []client.OrderPromotion{{PromotionDefinition: client.PromotionDefinition{PromotionCode: atlassiantest.PromotionCode}}},
			RelatesFromEntitlements:    []client.OrderItemRelation{rel(client.RelationAppDependence, dependence)},
			NextBillingAnchorTimestamp: atlassiantest.BillingAnchorTimestamp,
		}
	}
	withApp := func(a obj, extra map[string]any) obj {
		b := obj{}
		for k, v := range a {
			b[k] = v
		}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	existing := obj{"name": atlassiantest.ExistingSiteName, "create": false}

	tests := []struct {
		name    string
		request obj
		site    string
		items   []client.OrderItem
	}{
		{
			name:    "jira premium on a new site",
			request: productsRequest(newSite("acme-jira"), jiraPremium),
			site:    "acme-jira",
			items:   []client.OrderItem{containerItem("O1"), jiraPremiumItem},
		},
		{
			name:    "confluence enterprise on a new site",
			request: productsRequest(newSite("acme-conf"), confluence),
			site:    "acme-conf",
			items:   []client.OrderItem{item("O1", atlassiantest.ConfluenceOfferingID, "user", rel(client.RelationEnterprise, atlassiantest.ConfluenceParentEntitlementID))},
		},
		{
			name:    "jsm enterprise on a new site",
			request: productsRequest(newSite("acme-jsm"), jsm),
			site:    "acme-jsm",
			items: []client.OrderItem{containerItem("O1"),
				item("O2", atlassiantest.JSMOfferingID, "agent", fromItem("O1"), rel(client.RelationEnterprise, atlassiantest.JSMParentEntitlementID))},
		},
		{
			name:    "all enterprise products together share one family container",
			request: productsRequest(newSite("acme-all"), confluence, jira, jsm),
			site:    "acme-all",
			items: []client.OrderItem{
				item("O1", atlassiantest.ConfluenceOfferingID, "user", rel(client.RelationEnterprise, atlassiantest.ConfluenceParentEntitlementID)),
				containerItem("O2"),
				item("O3", atlassiantest.JiraOfferingID, "user", fromItem("O2"), rel(client.RelationEnterprise, atlassiantest.JiraParentEntitlementID)),
				item("O4", atlassiantest.JSMOfferingID, "agent", fromItem("O2"), rel(client.RelationEnterprise, atlassiantest.JSMParentEntitlementID)),
			},
		},
		{
			name:    "jsm added to an existing site relates to its family container",
			request: productsRequest(existing, jsm),
			site:    atlassiantest.ExistingSiteName,
			items: []client.OrderItem{item("O1", atlassiantest.JSMOfferingID, "agent",
				rel(client.RelationFamilyContainer, atlassiantest.ExistingFamilyContainerEntitlementID),
				rel(client.RelationEnterprise, atlassiantest.JSMParentEntitlementID))},
		},
		{
			name: "app on a jira host found by site and typeKey",
			request: obj{"orgId": atlassiantest.OrgID, "adminEmail": adminEmail, "site": existing,
				"app": withApp(app, obj{"hostProduct": "jira-software"})},
			site:  atlassiantest.ExistingSiteName,
			items: []client.OrderItem{appItem(atlassiantest.ExistingFamilyContainerEntitlementID)},
		},
		{
			name: "app on a confluence host given by product ARI",
			request: obj{"orgId": atlassiantest.OrgID, "adminEmail": adminEmail, "site": existing,
				"app": withApp(app, obj{"productAri": atlassiantest.ExistingConfluenceProductARI})},
			site:  atlassiantest.ExistingSiteName,
			items: []client.OrderItem{appItem(atlassiantest.ExistingConfluenceEntitlementID)},
		},
	}
	e := newEnv(t)
	e.StartDefault()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "cookbook-" + string(rune('a'+i))
			e.Publish(id, tt.request)
			term := e.Terminal(id)
			if term.Type != subjects.Provisioned() {
				t.Fatalf("terminal event %s: %v", term.Type, term.Data)
			}
			orders := e.OrdersOf(id)
			if len(orders) != 1 {
				t.Fatalf("%d orders for the request, want 1", len(orders))
			}
			var st *record.State
			e.Eventually("outcome recorded as published", func() bool {
				st = e.Journey(id)
				return len(st.Published) == 2
			})
			want := client.OrderRequest{
				OrderID:              record.OrderID(id),
				TransactionAccountID: atlassiantest.TransactionAccountID,
				InvoiceGroupID:       atlassiantest.InvoiceGroupID,
				Items:                tt.items,
				Metadata:             client.OrderMetadata{ProvisionRequestID: st.ProvisionRequestID},
			}
			assertJSONEqual(t, "order", orders[0], want)

			evs := installtest.Of(e.Outcomes(), id)
			if len(evs) != 2 || evs[0].Type != subjects.Ordered() {
				t.Fatalf("events %v, want ordered then provisioned", types(evs))
			}
			ordered, prov := evs[0].Data, evs[1].Data
			for _, k := range []string{"orderId", "provisionRequestId", "slug"} {
				if ordered[k] == "" || ordered[k] != prov[k] {
					t.Errorf("%s: ordered %v, provisioned %v", k, ordered[k], prov[k])
				}
			}
			if prov["orderId"] != record.OrderID(id) || prov["requestId"] != id || prov["orgId"] != atlassiantest.OrgID {
				t.Errorf("provisioned %v", prov)
			}
			if n := len(ordered["items"].([]any)); n != len(tt.items) {
				t.Errorf("ordered event has %d items, want %d", n, len(tt.items))
			}
			if n := len(prov["entitlements"].([]any)); n != len(tt.items) {
				t.Errorf("provisioned event has %d entitlements, want %d", n, len(tt.items))
			}
			site, _ := prov["site"].(map[string]any)
			if site["name"] != tt.site || site["url"] != "https://"+tt.site+".atlassian.net" {
				t.Errorf("site %v, want %s", site, tt.site)
			}
			if st.Status != record.StatusProvisioned || st.Step != record.StepDone || len(st.Published) != 2 {
				t.Errorf("state %s/%s published %v", st.Status, st.Step, st.Published)
			}
		})
	}
	if n := e.Sandbox.ProvisionRequests(); n != len(tests) {
		t.Errorf("%d provisioning requests, want %d", n, len(tests))
	}
	e.Settled()
}

func assertJSONEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func types(os []installtest.Message) []string {
	var s []string
	for _, o := range os {
		s = append(s, o.Type)
	}
	return s
}
