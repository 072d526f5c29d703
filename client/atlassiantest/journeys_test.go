package atlassiantest_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
)

func TestNewSiteJourney(t *testing.T) {
	f := setup(t)
	var resp client.ProvisionResponse
	f.mustDo("POST", productsPath(), client.ProvisionRequest{
		Offerings: []client.ProvisionOffering{
			{ID: atlassiantest.ConfluenceOfferingID, Location: "us"},
			{ID: atlassiantest.JiraOfferingID, Location: "us"},
			{ID: atlassiantest.JSMOfferingID, Location: "us"},
		},
		Parameters: client.ProvisionParameters{AdminEmail: "admin@acme.example", Name: "beta", Timezone: "Australia/Sydney"},
	}, &resp)
	if !strings.HasPrefix(resp.Data.StatusURL, f.s.URL+productsPath()+"/status/") {
		t.Fatalf("statusUrl %q is not on the sandbox %s", resp.Data.StatusURL, f.s.URL)
	}
	pid := lastSegment(resp.Data.StatusURL)
	var st client.ProvisionStatus
	f.mustDo("GET", resp.Data.StatusURL, nil, &st)
	if st.Data.RequestID != pid || st.Data.Status != client.ProvisionInProgress {
		t.Fatalf("status = %+v, want IN_PROGRESS of %s", st.Data, pid)
	}

	status, body := f.order(jiraSuiteOrder("order-1", pid))
	if status != 200 {
		t.Fatalf("order: %d %s", status, body)
	}
	var created client.OrderResponse
	json.Unmarshal(body, &created)
	if created.OrderID != "order-1" || len(created.Items) != 4 || created.Items[2].OrderItemID == "" || created.Slug == "" {
		t.Fatalf("order response %+v", created)
	}
	// Idempotent: the same order id returns the first answer, even with another body.
	again := jiraSuiteOrder("order-1", pid)
	again.Items = again.Items[:1]
	status2, body2 := f.order(again)
	if status2 != 200 || !bytes.Equal(body, body2) {
		t.Fatalf("replay: %d %s, want %s", status2, body2, body)
	}
	if n := len(f.s.Orders()); n != 1 {
		t.Fatalf("Orders() has %d orders, want 1", n)
	}

	o := f.getOrder("order-1")
	for _, it := range o.Items {
		if it.ProcessingInfo.Status != client.ItemProcessing || it.ProcessingInfo.Entitlement != nil {
			t.Fatalf("item before the delay: %+v", it.ProcessingInfo)
		}
	}
	if got := f.status(pid); got != client.ProvisionInProgress {
		t.Fatalf("status right after the order = %s", got)
	}
	// Nothing of the new site is visible yet.
	var page client.WorkspacePage
	f.mustDo("POST", "/admin/v2/orgs/"+atlassiantest.OrgID+"/workspaces", nameQuery("beta"), &page)
	if len(page.Data) != 0 {
		t.Fatalf("site visible before its order finished: %+v", page.Data)
	}

	f.clock.Advance(time.Second)
	o = f.getOrder("order-1")
	ents := map[string]string{}
	for _, it := range o.Items {
		if it.ProcessingInfo.Status != client.ItemSuccess || it.ProcessingInfo.Entitlement == nil || it.ProcessingInfo.Entitlement.Version != "1" {
			t.Fatalf("item after the delay: %+v", it.ProcessingInfo)
		}
		ents[it.OfferingID] = it.ProcessingInfo.Entitlement.ID
	}
	if rel := o.Items[2].RelatesFromEntitlements; len(rel) != 2 || rel[0].OrderItemID != o.Items[1].OrderItemID {
		t.Fatalf("jira relations in the order read: %+v", rel)
	}
	var jira client.EntitlementDetails
	f.mustDo("GET", "/commerce/api/v2/entitlements/"+ents[atlassiantest.JiraOfferingID]+"/details", nil, &jira)
	if jira.FamilyContainerID() != ents[atlassiantest.JiraFamilyContainerOfferingID] || jira.Version != 1 ||
		jira.TransactionAccountID != atlassiantest.TransactionAccountID || jira.BillingAnchorTimestamp() == 0 {
		t.Fatalf("jira details: %+v", jira)
	}

	if got := f.status(pid); got != client.ProvisionInProgress {
		t.Fatalf("status 1s after the order = %s", got)
	}
	f.clock.Advance(time.Second)
	if got := f.status(pid); got != client.ProvisionCompleted {
		t.Fatalf("status 2s after the order = %s", got)
	}
	page = client.WorkspacePage{}
	f.mustDo("POST", "/admin/v2/orgs/"+atlassiantest.OrgID+"/workspaces", nameQuery("beta"), &page)
	keys := map[string]bool{}
	for _, w := range page.Data {
		keys[w.Attributes.TypeKey] = true
		if w.Attributes.HostURL != "https://beta.atlassian.net" || len(w.Relationships.Entitlement) != 1 {
			t.Fatalf("workspace %+v", w)
		}
	}
	if !keys["jira-software"] || !keys["jira-servicedesk"] || !keys["confluence"] || page.Meta.Total != 3 {
		t.Fatalf("workspaces of the new site: %+v", page.Data)
	}
	var pe client.ProductEntitlements
	jiraARI := atlassiantest.ARI("jira-software", strings.TrimPrefix(page.Data[0].ID[strings.Index(page.Data[0].ID, "site/"):], "site/"))
	f.mustDo("GET", productsPath()+"/"+url.PathEscape(jiraARI)+"/entitlements", nil, &pe)
	if len(pe.Entitlements) != 1 || pe.Entitlements[0].EntitlementID != ents[atlassiantest.JiraOfferingID] ||
		pe.Metadata.JiraFamilyContainer != ents[atlassiantest.JiraFamilyContainerOfferingID] {
		t.Fatalf("product entitlements %+v", pe)
	}
}

func nameQuery(names ...string) client.WorkspaceQuery {
	return client.WorkspaceQuery{Query: client.WorkspaceQueryFilter{Field: client.WorkspaceQueryField{Name: "attributes.name", Values: names}}}
}

func TestExistingSiteAddsJSMWithFoundContainer(t *testing.T) {
	f := setup(t)
	var page client.WorkspacePage
	f.mustDo("POST", "/admin/v2/orgs/"+atlassiantest.OrgID+"/workspaces", nameQuery(atlassiantest.ExistingSiteName), &page)
	var jiraEnt string
	for _, w := range page.Data {
		if strings.HasPrefix(w.Attributes.TypeKey, "jira-") {
			jiraEnt = w.Relationships.Entitlement[0].ID
		}
	}
	if jiraEnt != atlassiantest.ExistingJiraEntitlementID {
		t.Fatalf("jira workspace entitlement = %q", jiraEnt)
	}
	var d client.EntitlementDetails
	f.mustDo("GET", "/commerce/api/v2/entitlements/"+jiraEnt+"/details", nil, &d)
	container := d.FamilyContainerID()
	if container != atlassiantest.ExistingFamilyContainerEntitlementID {
		t.Fatalf("family container = %q", container)
	}

	pid := f.provision(atlassiantest.ExistingSiteName, "", atlassiantest.JSMOfferingID)
	// Ordering a second container for a site that has one is refused.
	bad := newOrder("o-bad", pid,
		client.OrderItem{Type: client.OrderItemCreation, ItemID: "O1", OfferingID: atlassiantest.JiraFamilyContainerOfferingID},
		item("O2", atlassiantest.JSMOfferingID, itemRel(client.RelationFamilyContainer, "O1"), entRel(client.RelationEnterprise, atlassiantest.JSMParentEntitlementID)))
	if status, body := f.order(bad); status != 400 || !strings.Contains(string(body), "already has Jira family container") {
		t.Fatalf("second container: %d %s", status, body)
	}
	good := newOrder("o-good", pid,
		item("O1", atlassiantest.JSMOfferingID, entRel(client.RelationFamilyContainer, container), entRel(client.RelationEnterprise, atlassiantest.JSMParentEntitlementID)))
	if status, body := f.raw("POST", "/commerce/api/v1/orders", good); status != 200 {
		t.Fatalf("v1 order: %d %s", status, body)
	}
	f.clock.Advance(2 * time.Second)
	page = client.WorkspacePage{}
	f.mustDo("POST", "/admin/v2/orgs/"+atlassiantest.OrgID+"/workspaces", nameQuery(atlassiantest.ExistingSiteName), &page)
	if page.Meta.Total != 3 {
		t.Fatalf("acme workspaces after adding JSM: %+v", page.Data)
	}
}

func TestAppJourney(t *testing.T) {
	f := setup(t)
	var pe client.ProductEntitlements
	f.mustDo("GET", productsPath()+"/"+url.PathEscape(atlassiantest.ExistingJiraProductARI)+"/entitlements", nil, &pe)
	if len(pe.Entitlements) != 1 || pe.Metadata.JiraFamilyContainer != atlassiantest.ExistingFamilyContainerEntitlementID {
		t.Fatalf("product entitlements: %+v", pe)
	}
	var d client.EntitlementDetails
	f.mustDo("GET", "/commerce/api/v2/entitlements/"+pe.Entitlements[0].EntitlementID+"/details", nil, &d)
	if d.BillingAnchorTimestamp() != atlassiantest.BillingAnchorTimestamp {
		t.Fatalf("billing anchor %d", d.BillingAnchorTimestamp())
	}
	var resp client.ProvisionResponse
	f.mustDo("POST", productsPath()+"/"+url.PathEscape(atlassiantest.ExistingJiraProductARI)+"/apps", client.ProvisionRequest{
		Offerings:  []client.ProvisionOffering{{ID: atlassiantest.AppOfferingID}},
		Parameters: client.ProvisionParameters{AdminEmail: "admin@acme.example", AppKey: atlassiantest.AppKey},
	}, &resp)
	pid := lastSegment(resp.Data.StatusURL)
	app := func(dep string) client.OrderItem {
		it := item("O1", atlassiantest.AppOfferingID, entRel(client.RelationAppDependence, dep))
		it.Promotions = []client.OrderPromotion{{PromotionDefinition: client.PromotionDefinition{PromotionCode: atlassiantest.PromotionCode}}}
		it.NextBillingAnchorTimestamp = d.BillingAnchorTimestamp()
		return it
	}
	if status, body := f.order(newOrder("app-bad", pid, app(atlassiantest.ExistingJiraEntitlementID))); status != 400 || !strings.Contains(string(body), "depends on entitlement") {
		t.Fatalf("app depending on the jira entitlement: %d %s", status, body)
	}
	if status, body := f.order(newOrder("app-1", pid, app(d.FamilyContainerID()))); status != 200 {
		t.Fatalf("app order: %d %s", status, body)
	}
	f.clock.Advance(2 * time.Second)
	if got := f.status(pid); got != client.ProvisionCompleted {
		t.Fatalf("app status %s", got)
	}
	o := f.getOrder("app-1")
	if o.Items[0].ProcessingInfo.Status != client.ItemSuccess {
		t.Fatalf("app item %+v", o.Items[0].ProcessingInfo)
	}
}

func TestOrderValidation(t *testing.T) {
	f := setup(t)
	pid := f.provision("gamma", "UTC", atlassiantest.JiraOfferingID)
	jira := func(rels ...client.OrderItemRelation) []client.OrderItem {
		return []client.OrderItem{
			{Type: client.OrderItemCreation, ItemID: "O1", OfferingID: atlassiantest.JiraFamilyContainerOfferingID},
			item("O2", atlassiantest.JiraOfferingID, rels...),
		}
	}
	container := itemRel(client.RelationFamilyContainer, "O1")
	parent := entRel(client.RelationEnterprise, atlassiantest.JiraParentEntitlementID)
	cases := []struct {
		name  string
		edit  func(*client.OrderRequest)
		field string
	}{
		{"unknown offering", func(o *client.OrderRequest) { o.Items[1].OfferingID = "nope" }, "items[1].offeringId"},
		{"wrong transaction account", func(o *client.OrderRequest) { o.TransactionAccountID = "other" }, "transactionAccountId"},
		{"wrong invoice group", func(o *client.OrderRequest) { o.InvoiceGroupID = "other" }, "invoiceGroupId"},
		{"unknown provisioning request", func(o *client.OrderRequest) { o.Metadata.ProvisionRequestID = "nope" }, "metadata.provisionRequestId"},
		{"no container", func(o *client.OrderRequest) { o.Items = jira(parent) }, "items[1].relatesFromEntitlements"},
		{"dangling item reference", func(o *client.OrderRequest) { o.Items = jira(itemRel(client.RelationFamilyContainer, "O9"), parent) }, "items[1].relatesFromEntitlements[0].itemId"},
		{"unknown parent", func(o *client.OrderRequest) { o.Items = jira(container, entRel(client.RelationEnterprise, "nope")) }, "items[1].relatesFromEntitlements[1].entitlementId"},
		{"offering not provisioned", func(o *client.OrderRequest) {
			o.Items = append(o.Items, item("O3", atlassiantest.ConfluenceOfferingID, entRel(client.RelationEnterprise, atlassiantest.ConfluenceParentEntitlementID)))
		}, "items[2].offeringId"},
		{"missing order id", func(o *client.OrderRequest) { o.OrderID = "" }, "orderId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrder("o-"+tc.name, pid, jira(container, parent)...)
			tc.edit(&o)
			status, body := f.order(o)
			var e struct {
				Message string
				Errors  []struct{ Field, Message string }
			}
			json.Unmarshal(body, &e)
			found := false
			for _, fe := range e.Errors {
				found = found || fe.Field == tc.field
			}
			if status != 400 || !found || e.Message == "" {
				t.Fatalf("got %d %s, want 400 naming %s", status, body, tc.field)
			}
		})
	}
	if n := len(f.s.Orders()); n != 0 {
		t.Fatalf("%d invalid orders accepted", n)
	}
	if status, body := f.order(newOrder("o-ok", pid, jira(container, parent)...)); status != 200 {
		t.Fatalf("valid order: %d %s", status, body)
	}
	if status, body := f.order(newOrder("o-second", pid, jira(container, parent)...)); status != 400 || !strings.Contains(string(body), "already ordered") {
		t.Fatalf("second order for one provisioning: %d %s", status, body)
	}
}

func TestOrderWindow(t *testing.T) {
	f := setup(t, atlassiantest.WithOrderWindow(time.Minute))
	pid := f.provision("delta", "UTC", atlassiantest.ConfluenceOfferingID)
	f.clock.Advance(59 * time.Second)
	if got := f.status(pid); got != client.ProvisionInProgress {
		t.Fatalf("status inside the window = %s", got)
	}
	f.clock.Advance(time.Second)
	if got := f.status(pid); got != client.ProvisionFailed {
		t.Fatalf("status after the window = %s", got)
	}
	o := newOrder("late", pid, item("O1", atlassiantest.ConfluenceOfferingID, entRel(client.RelationEnterprise, atlassiantest.ConfluenceParentEntitlementID)))
	if status, body := f.order(o); status != 400 || !strings.Contains(string(body), "timed out") {
		t.Fatalf("late order: %d %s", status, body)
	}
}

func TestProvisionValidation(t *testing.T) {
	f := setup(t)
	cases := []struct {
		name  string
		req   client.ProvisionRequest
		field string
	}{
		{"no timezone for a new site", client.ProvisionRequest{Offerings: []client.ProvisionOffering{{ID: atlassiantest.JiraOfferingID}},
			Parameters: client.ProvisionParameters{AdminEmail: "a@b.c", Name: "new-one"}}, "parameters.timezone"},
		{"product already on the site", client.ProvisionRequest{Offerings: []client.ProvisionOffering{{ID: atlassiantest.ConfluenceOfferingID}},
			Parameters: client.ProvisionParameters{AdminEmail: "a@b.c", Name: atlassiantest.ExistingSiteName}}, "parameters.name"},
		{"unknown offering", client.ProvisionRequest{Offerings: []client.ProvisionOffering{{ID: "x"}},
			Parameters: client.ProvisionParameters{AdminEmail: "a@b.c", Name: "x1", Timezone: "UTC"}}, "offerings[0].id"},
		{"no admin email", client.ProvisionRequest{Offerings: []client.ProvisionOffering{{ID: atlassiantest.JiraOfferingID}},
			Parameters: client.ProvisionParameters{Name: "x2", Timezone: "UTC"}}, "parameters.adminEmail"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.raw("POST", productsPath(), tc.req)
			if status != 400 || !strings.Contains(string(body), `"field":"`+tc.field+`"`) {
				t.Fatalf("got %d %s, want 400 naming %s", status, body, tc.field)
			}
		})
	}
	if n := f.s.ProvisionRequests(); n != 0 {
		t.Fatalf("%d invalid provisioning requests accepted", n)
	}
}

func TestWorkspacesPagination(t *testing.T) {
	f := setup(t)
	for _, name := range []string{"p1", "p2", "p3"} {
		pid := f.provision(name, "UTC", atlassiantest.ConfluenceOfferingID)
		o := newOrder("o-"+name, pid, item("O1", atlassiantest.ConfluenceOfferingID, entRel(client.RelationEnterprise, atlassiantest.ConfluenceParentEntitlementID)))
		if status, body := f.order(o); status != 200 {
			t.Fatalf("order %s: %d %s", name, status, body)
		}
	}
	f.clock.Advance(5 * time.Second)
	q := client.WorkspaceQuery{Query: client.WorkspaceQueryFilter{Field: client.WorkspaceQueryField{Name: "attributes.typeKey", Values: []string{"confluence"}}}, Limit: 2}
	var names []string
	for range 10 {
		var page client.WorkspacePage
		f.mustDo("POST", "/admin/v2/orgs/"+atlassiantest.OrgID+"/workspaces", q, &page)
		for _, w := range page.Data {
			names = append(names, w.Attributes.Name)
		}
		if page.Meta.Total != 4 {
			t.Fatalf("total %d", page.Meta.Total)
		}
		if page.Links.Next == "" {
			break
		}
		q.Cursor = page.Links.Next
	}
	if strings.Join(names, ",") != "acme,p1,p2,p3" {
		t.Fatalf("pages gave %v", names)
	}
	if status, _ := f.raw("POST", "/admin/v2/orgs/"+atlassiantest.OrgID+"/workspaces", client.WorkspaceQuery{Cursor: "garbage!"}); status != 400 {
		t.Fatalf("bad cursor: %d", status)
	}
}
