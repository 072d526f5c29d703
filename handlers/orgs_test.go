package handlers_test

import (
	"sync"
	"testing"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
)

// orgKeys are per-organization credentials that a test changes while the installer runs,
// as a reloaded credentials file does.
type orgKeys struct {
	mu   sync.Mutex
	keys map[string]client.Credentials
}

func (k *orgKeys) set(t *testing.T, org, key string) {
	t.Helper()
	cr, err := client.APIKey(key)
	if err != nil {
		t.Fatal(err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys == nil {
		k.keys = map[string]client.Credentials{}
	}
	k.keys[org] = cr
}

func (k *orgKeys) lookup(org string) (client.Credentials, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	cr, ok := k.keys[org]
	return cr, ok
}

// One installer serves two organizations, each journey calling with its organization's own
// key; a request for an organization it has no credentials for fails unauthorized at lookup
// without any Atlassian call, and one that gains credentials meanwhile is served.
func TestJourneysOfSeveralOrganizations(t *testing.T) {
	e := newEnv(t, atlassiantest.WithOrganizations())
	keys := &orgKeys{}
	keys.set(t, atlassiantest.OrgID, atlassiantest.OrgAPIKey)
	cfg := e.Config()
	cfg.Credentials = keys.lookup
	e.Start(e.JS, handlers.ClientAPI(e.NewClient()), cfg) // the client has no credentials of its own

	second := obj{"orgId": atlassiantest.SecondOrgID, "adminEmail": "admin@globex.example",
		"site":     obj{"name": atlassiantest.SecondSiteName, "create": false},
		"products": []obj{product(atlassiantest.JSMOfferingID, "jira", "agent", atlassiantest.SecondJiraParentEntitlementID)}}
	e.Publish("org-unknown", second)
	term := e.Terminal("org-unknown")
	if term.Type != subjects.Failed() || term.Data["code"] != events.CodeUnauthorized || term.Data["stage"] != events.StageLookup || term.Data["retryable"] != false {
		t.Fatalf("request of an organization without credentials: %s %v", term.Type, term.Data)
	}
	if n := len(e.Sandbox.Requests()); n != 0 {
		t.Fatalf("%d Atlassian calls for an organization without credentials, want none", n)
	}

	keys.set(t, atlassiantest.SecondOrgID, atlassiantest.SecondOrgAPIKey)
	e.Publish("org-second", second)
	e.Publish("org-first", productsRequest(newSite("acme-two"), product(atlassiantest.JiraOfferingID, "jira", "user", atlassiantest.JiraParentEntitlementID)))
	for _, id := range []string{"org-second", "org-first"} {
		if term := e.Terminal(id); term.Type != subjects.Provisioned() {
			t.Fatalf("%s: %s %v", id, term.Type, term.Data)
		}
	}
	o := e.OrdersOf("org-second")
	if len(o) != 1 || o[0].TransactionAccountID != atlassiantest.SecondTransactionAccountID ||
		o[0].Items[0].RelatesFromEntitlements[0].EntitlementID != atlassiantest.SecondFamilyContainerEntitlementID {
		t.Fatalf("the second organization's order: %+v", o)
	}
	orgs := map[string]int{}
	for _, r := range e.Sandbox.Requests() {
		if r.Status == 401 {
			t.Errorf("refused call %s %s", r.Method, r.Path)
		}
		orgs[r.Org]++
	}
	if len(orgs) != 2 || orgs[atlassiantest.OrgID] == 0 || orgs[atlassiantest.SecondOrgID] == 0 {
		t.Errorf("calls by organization: %v", orgs)
	}
	e.Settled()
}
