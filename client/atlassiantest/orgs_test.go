package atlassiantest_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
)

func bearer(key string) []string { return []string{"Authorization", "Bearer " + key} }

// TestOrganizationsKeepTheirOwnKeys: in a two-organization sandbox each API key acts on its
// own organization only, and a whole products journey runs in the second one.
func TestOrganizationsKeepTheirOwnKeys(t *testing.T) {
	f := setup(t, atlassiantest.WithOrganizations())
	first, second := bearer(atlassiantest.OrgAPIKey), bearer(atlassiantest.SecondOrgAPIKey)
	wsPath := func(org string) string { return "/admin/v2/orgs/" + org + "/workspaces" }
	detailsPath := func(id string) string { return "/commerce/api/v2/entitlements/" + id + "/details" }

	if status, _ := f.raw("POST", wsPath(atlassiantest.OrgID), nameQuery("acme")); status != http.StatusUnauthorized {
		t.Fatalf("DefaultAPIKey in a two-organization sandbox: %d, want 401", status)
	}
	for _, c := range []struct {
		name   string
		method string
		path   string
		body   any
		auth   []string
		want   int
	}{
		{"own workspaces", "POST", wsPath(atlassiantest.OrgID), nameQuery("acme"), first, 200},
		{"other organization's workspaces", "POST", wsPath(atlassiantest.SecondOrgID), nameQuery("globex"), first, 401},
		{"second's workspaces", "POST", wsPath(atlassiantest.SecondOrgID), nameQuery("globex"), second, 200},
		{"own entitlement", "GET", detailsPath(atlassiantest.SecondJiraParentEntitlementID), nil, second, 200},
		{"other organization's entitlement", "GET", detailsPath(atlassiantest.JiraParentEntitlementID), nil, second, 404},
		{"first's entitlement", "GET", detailsPath(atlassiantest.JiraParentEntitlementID), nil, first, 200},
	} {
		if status, body := f.raw(c.method, c.path, c.body, c.auth...); status != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, status, body, c.want)
		}
	}

	var page client.WorkspacePage
	f.mustDo("POST", wsPath(atlassiantest.SecondOrgID), nameQuery(atlassiantest.SecondSiteName), &page, second...)
	if len(page.Data) != 1 || page.Data[0].ID != atlassiantest.SecondJiraProductARI {
		t.Fatalf("globex workspaces: %+v", page.Data)
	}
	var d client.EntitlementDetails
	f.mustDo("GET", detailsPath(atlassiantest.SecondJiraEntitlementID), nil, &d, second...)
	if d.FamilyContainerID() != atlassiantest.SecondFamilyContainerEntitlementID || d.TransactionAccountID != atlassiantest.SecondTransactionAccountID {
		t.Fatalf("globex jira details: %+v", d)
	}

	// A new site in the second organization, provisioned and ordered with its key.
	var resp client.ProvisionResponse
	f.mustDo("POST", "/admin/installations/v2/orgs/"+atlassiantest.SecondOrgID+"/products", client.ProvisionRequest{
		Offerings:  []client.ProvisionOffering{{ID: atlassiantest.JiraOfferingID, Location: "eu"}},
		Parameters: client.ProvisionParameters{AdminEmail: "admin@globex.example", Name: "globex-two", Timezone: "Europe/Berlin"},
	}, &resp, second...)
	pid := lastSegment(resp.Data.StatusURL)
	order := client.OrderRequest{OrderID: "globex-order", TransactionAccountID: atlassiantest.SecondTransactionAccountID,
		InvoiceGroupID: atlassiantest.SecondInvoiceGroupID, Metadata: client.OrderMetadata{ProvisionRequestID: pid},
		Items: []client.OrderItem{
			{Type: client.OrderItemCreation, ItemID: "O1", OfferingID: atlassiantest.JiraFamilyContainerOfferingID},
			item("O2", atlassiantest.JiraOfferingID, itemRel(client.RelationFamilyContainer, "O1"), entRel(client.RelationEnterprise, atlassiantest.SecondJiraParentEntitlementID)),
		}}
	if status, body := f.raw("POST", "/commerce/api/v2/orders", order, first...); status != 400 || !strings.Contains(string(body), "unknown provisioning request") {
		t.Fatalf("the first organization ordering the second's provisioning: %d %s", status, body)
	}
	if status, body := f.raw("POST", "/commerce/api/v2/orders", order, second...); status != 200 {
		t.Fatalf("order in the second organization: %d %s", status, body)
	}
	getOrder := append([]string{"X-transaction-account", atlassiantest.SecondTransactionAccountID}, first...)
	if status, _ := f.raw("GET", "/commerce/api/v2/orders/globex-order", nil, getOrder...); status != 404 {
		t.Fatalf("the first organization reading the second's order: %d, want 404", status)
	}
	f.clock.Advance(2 * time.Second)
	var st client.ProvisionStatus
	f.mustDo("GET", resp.Data.StatusURL, nil, &st, second...)
	if st.Data.Status != client.ProvisionCompleted {
		t.Fatalf("provisioning in the second organization: %s", st.Data.Status)
	}
	for _, r := range f.s.RequestsTo(atlassiantest.EndpointCreateOrder) {
		if r.Status == 200 && r.Org != atlassiantest.SecondOrgID {
			t.Fatalf("accepted order logged for organization %q", r.Org)
		}
	}
}

func TestOrgBasicAuth(t *testing.T) {
	f := setup(t, atlassiantest.WithOrganizations(), atlassiantest.WithOrgBasicAuth(atlassiantest.SecondOrgID, "admin@globex.example", "tok"))
	auth := []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("admin@globex.example:tok"))}
	if status, _ := f.raw("POST", "/admin/v2/orgs/"+atlassiantest.SecondOrgID+"/workspaces", nameQuery("globex"), auth...); status != 200 {
		t.Fatalf("own organization: %d", status)
	}
	if status, _ := f.raw("POST", "/admin/v2/orgs/"+atlassiantest.OrgID+"/workspaces", nameQuery("acme"), auth...); status != 401 {
		t.Fatalf("other organization: %d, want 401", status)
	}
}
