package handlers_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/record"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

func dryRun(req obj) obj {
	d := maps.Clone(req)
	d["dryRun"] = true
	return d
}

// planOf waits for a dry run's planned event and decodes it, bodies as they were published.
func planOf(t *testing.T, e *env, id string) events.Planned {
	t.Helper()
	term := e.Terminal(id)
	if term.Type != subjects.Planned() {
		t.Fatalf("dry run %s ended with %s %v", id, term.Type, term.Data)
	}
	var p events.Planned
	if err := json.Unmarshal(term.Event.Data(), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// withoutIDs is an order body without orderId and metadata.provisionRequestId, as compared.
func withoutIDs(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "orderId")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "provisionRequestId")
	}
	return m
}

// A dry run makes the look-ups only and plans exactly the provisioning request and the order
// that a real request then sends, for products and for apps.
func TestDryRunPlansWhatARealRunSends(t *testing.T) {
	existing := obj{"name": atlassiantest.ExistingSiteName, "create": false}
	app := obj{"appKey": atlassiantest.AppKey, "offeringId": atlassiantest.AppOfferingID, "hostProduct": "jira-software",
		"chargeElement": "agent", "quantity": 100, "promotionCode": atlassiantest.PromotionCode, "skipTrial": true}
	for _, tc := range []struct {
		name    string
		req     obj
		lookups []string // the calls, in order
		found   []string // substrings of what they found
	}{
		{
			name: "jsm on an existing site",
			req:  productsRequest(existing, product(atlassiantest.JSMOfferingID, "jira", "agent", atlassiantest.JSMParentEntitlementID)),
			lookups: []string{
				"GET /commerce/api/v2/entitlements/" + atlassiantest.JSMParentEntitlementID + "/details",
				"POST /admin/v2/orgs/" + atlassiantest.OrgID + "/workspaces",
				"GET /commerce/api/v2/entitlements/" + atlassiantest.ExistingJiraEntitlementID + "/details",
			},
			found: []string{"transactionAccountId " + atlassiantest.TransactionAccountID, "jira-software workspace",
				"Jira family container " + atlassiantest.ExistingFamilyContainerEntitlementID},
		},
		{
			name:    "jira on a new site",
			req:     jiraOnNewSite("plan-new"),
			lookups: []string{"GET /commerce/api/v2/entitlements/" + atlassiantest.JiraParentEntitlementID + "/details"},
			found:   []string{"invoiceGroupId " + atlassiantest.InvoiceGroupID},
		},
		{
			name: "app on jira",
			req:  obj{"orgId": atlassiantest.OrgID, "adminEmail": adminEmail, "site": existing, "app": app},
			lookups: []string{
				"POST /admin/v2/orgs/" + atlassiantest.OrgID + "/workspaces",
				"GET /admin/installations/v2/orgs/" + atlassiantest.OrgID + "/products/ari%3Acloud%3Ajira-software%3A%3Asite%2F" + atlassiantest.ExistingSiteCloudID + "/entitlements",
				"GET /commerce/api/v2/entitlements/" + atlassiantest.ExistingJiraEntitlementID + "/details",
			},
			found: []string{atlassiantest.ExistingJiraProductARI, "host entitlement " + atlassiantest.ExistingJiraEntitlementID,
				"depends on its Jira family container, entitlement " + atlassiantest.ExistingFamilyContainerEntitlementID},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.StartDefault()
			e.Publish("plan", dryRun(tc.req))
			p := planOf(t, e, "plan")
			e.Settled()
			for _, r := range e.Sandbox.Requests() {
				if r.Method != "GET" && r.Endpoint != atlassiantest.EndpointWorkspaces {
					t.Errorf("a dry run sent %s %s", r.Method, r.Path)
				}
			}
			if e.Sandbox.ProvisionRequests() != 0 || len(e.Sandbox.Orders()) != 0 {
				t.Fatal("a dry run provisioned or ordered")
			}
			var calls []string
			var found string
			for _, l := range p.Lookups {
				calls, found = append(calls, l.Call), found+l.Found+"\n"
			}
			if !reflect.DeepEqual(calls, tc.lookups) {
				t.Errorf("lookups %q, want %q", calls, tc.lookups)
			}
			for _, f := range tc.found {
				if !strings.Contains(found, f) {
					t.Errorf("lookups found %q, want %q in it", found, f)
				}
			}
			if p.RequestID != "plan" || p.OrgID != atlassiantest.OrgID || p.Site == nil || p.Site.URL == "" {
				t.Errorf("plan %+v", p)
			}
			st := e.Journey("plan")
			if st.Status != record.StatusPlanned || st.Step != record.StepDone || st.OrderID != "" {
				t.Errorf("journey %s/%s orderId %q", st.Status, st.Step, st.OrderID)
			}

			e.Sandbox.ResetRequests()
			e.Publish("real", tc.req)
			if term := e.Terminal("real"); term.Type != subjects.Provisioned() {
				t.Fatalf("the real request: %s %v", term.Type, term.Data)
			}
			var provision, order *atlassiantest.RecordedRequest
			for _, r := range e.Sandbox.Requests() {
				switch r.Endpoint {
				case atlassiantest.EndpointProvisionProducts, atlassiantest.EndpointProvisionApp:
					provision = &r
				case atlassiantest.EndpointCreateOrder:
					order = &r
				}
			}
			if provision == nil || order == nil {
				t.Fatalf("the real request sent no provisioning or no order")
			}
			// The sandbox records the path decoded; the plan shows it as sent, escaped.
			if path, _ := url.PathUnescape(p.Provisioning.Path); p.Provisioning.Method != provision.Method || path != provision.Path || string(p.Provisioning.Body) != provision.Body {
				t.Errorf("planned provisioning %s %s %s\nsent %s %s %s", p.Provisioning.Method, p.Provisioning.Path, p.Provisioning.Body,
					provision.Method, provision.Path, provision.Body)
			}
			if strings.Contains(string(p.Order.Body), "orderId") || strings.Contains(string(p.Order.Body), "provisionRequestId") {
				t.Errorf("the planned order carries ids: %s", p.Order.Body)
			}
			if p.Order.Method != order.Method || p.Order.Path != order.Path ||
				!reflect.DeepEqual(withoutIDs(t, p.Order.Body), withoutIDs(t, []byte(order.Body))) {
				t.Errorf("planned order %s %s %s\nsent %s %s %s", p.Order.Method, p.Order.Path, p.Order.Body, order.Method, order.Path, order.Body)
			}
		})
	}
}

// A dry run whose look-up fails ends failed exactly as the real request does; publishing the
// dry run's id again, even as a real request, is a duplicate: no call, nothing published.
func TestDryRunFailsAndSpendsItsID(t *testing.T) {
	e := newEnv(t)
	e.StartDefault()
	req := productsRequest(newSite("plan-missing"), product(atlassiantest.JiraOfferingID, "jira", "user", "8d1e4f6a-0000-4000-8000-000000000000"))
	e.Publish("plan-fails", dryRun(req))
	e.Publish("real-fails", req)
	dry, real := e.Terminal("plan-fails"), e.Terminal("real-fails")
	if dry.Type != subjects.Failed() || dry.Data["stage"] != events.StageLookup || dry.Data["code"] != events.CodeNotFound {
		t.Fatalf("failing dry run: %s %v", dry.Type, dry.Data)
	}
	// Each answer has its own Atlassian trace id.
	traceID := regexp.MustCompile(`request id [0-9a-f]+`)
	for _, d := range []map[string]any{dry.Data, real.Data} {
		delete(d, "requestId")
		d["message"] = traceID.ReplaceAllString(d["message"].(string), "request id …")
	}
	if !reflect.DeepEqual(dry.Data, real.Data) {
		t.Errorf("the dry run failed with %v\nthe real request with %v", dry.Data, real.Data)
	}

	e.Publish("plan-once", dryRun(jiraOnNewSite("plan-once")))
	planOf(t, e, "plan-once")
	e.Settled()
	calls := len(e.Sandbox.Requests())
	e.publishDuplicate("plan-once", jiraOnNewSite("plan-once")) // the same id, now without dryRun
	e.publishDuplicate("plan-once", dryRun(jiraOnNewSite("plan-once")))
	e.Settled()
	if n := len(e.Sandbox.Requests()) - calls; n != 0 {
		t.Errorf("%d Atlassian calls for a spent id", n)
	}
	if evs := installtest.Of(e.Outcomes(), "plan-once"); len(evs) != 1 || evs[0].Type != subjects.Planned() {
		t.Errorf("events of the spent id: %v, want the one planned event", types(evs))
	}
	if e.Sandbox.ProvisionRequests() != 0 || len(e.Sandbox.Orders()) != 0 {
		t.Error("a dry run id provisioned or ordered")
	}
}

// A dry run whose plan could not be carried by an event is invalid before any call, although
// its other outcomes would fit.
func TestDryRunTooLargeToPlan(t *testing.T) {
	e := newEnv(t)
	e.StartDefault()
	many := make([]obj, 120)
	for i := range many {
		many[i] = product(atlassiantest.JiraOfferingID, "jira", "user", atlassiantest.JiraParentEntitlementID)
		many[i]["pricingPlanId"] = strings.Repeat("p", 200)
	}
	e.Publish("plan-huge", dryRun(productsRequest(newSite("huge"), many...)))
	term := e.Terminal("plan-huge")
	if term.Type != subjects.Failed() || term.Data["code"] != events.CodeInvalidRequest || !strings.Contains(fmt.Sprint(term.Data["errors"]), "planned event") {
		t.Fatalf("%s %v", term.Type, term.Data)
	}
	if n := len(e.Sandbox.Requests()); n != 0 {
		t.Errorf("%d Atlassian calls", n)
	}
}
