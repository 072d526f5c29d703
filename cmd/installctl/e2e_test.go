package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// finish advances the fake clock until the command ends, as time would pass for a person
// watching a journey.
func finish(t *testing.T, r *running, clock *clockwork.FakeClock) result {
	t.Helper()
	var res result
	ended := false
	defer func() {
		if !ended { // timed out: show how far it came
			t.Logf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		}
	}()
	installtest.EventuallyAdvancing(t, clock, installtest.Step, "installctl to end", func() bool {
		select {
		case code := <-r.done:
			res, ended = result{code: code, stdout: r.stdout.String(), stderr: r.stderr.String()}, true
			return true
		default:
			return false
		}
	})
	return res
}

func TestEndToEndWithInstaller(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fault    *atlassiantest.Fault
		wantCode int
		want     []string
	}{
		// The journey's last state and its terminal event travel on different streams, so the
		// watch may end on the event before it shows the "done" state; status shows it below.
		// A journey is first recorded with its provisioning, its look-ups done.
		{name: "provisioned", wantCode: exitOK,
			want: []string{"provisioning", "order", "waiting", "accepted (slug", "provisioned https://acme-jira.atlassian.net"}},
		{name: "failed", fault: &atlassiantest.Fault{ProvisionFails: true}, wantCode: exitFailed,
			want: []string{"failed at provision: " + events.CodeProvisionFailed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			sandbox := e.world.Sandbox
			if tc.fault != nil {
				sandbox.SetFault(atlassiantest.EndpointProvisionProducts, *tc.fault)
			}
			e.world.StartDefault()

			r := e.start(validRequest, "request", "-", "--watch")
			res := finish(t, r, e.world.Clock)
			if res.code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stdout:\n%s\nstderr:\n%s", res.code, tc.wantCode, res.stdout, res.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, res.stdout)
				}
			}
			id := strings.Fields(res.stdout)[1]
			// Published lists the outcome, whose publication the compact record holds.
			if st := e.run("", "status", id); st.code != exitOK || !strings.Contains(st.stdout, "done") ||
				!strings.Contains(st.stdout, ".install."+tc.name) {
				t.Errorf("status after the journey: %d\n%s%s", st.code, st.stdout, st.stderr)
			}
			if n := len(sandbox.Orders()); n != 1 {
				t.Errorf("%d orders placed, want 1", n)
			}
		})
	}
}

// installctl plan publishes a dry run of the example and prints the installer's plan: the
// look-ups and both calls, with nothing provisioned or ordered; --json prints the event's data.
func TestPlanWithInstaller(t *testing.T) {
	e := setup(t)
	sandbox := e.world.Sandbox
	e.world.StartDefault()

	res := finish(t, e.start("", "plan", "../../examples/new-site-jira.json"), e.world.Clock)
	if res.code != exitOK {
		t.Fatalf("exit code %d; stdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for _, w := range []string{
		"dry run: nothing was provisioned or ordered",
		"GET /commerce/api/v2/entitlements/" + atlassiantest.JiraParentEntitlementID + "/details",
		"transactionAccountId " + atlassiantest.TransactionAccountID,
		"POST /admin/installations/v2/orgs/" + atlassiantest.OrgID + "/products",
		"POST /commerce/api/v2/orders",
		`"offeringId": "` + atlassiantest.JiraFamilyContainerOfferingID + `"`,
	} {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("plan lacks %q:\n%s", w, res.stdout)
		}
	}
	res = finish(t, e.start("", "plan", "--json", "../../examples/existing-site-add-jsm.json"), e.world.Clock)
	var p events.Planned
	if res.code != exitOK || json.Unmarshal([]byte(res.stdout), &p) != nil || len(p.Lookups) != 3 || p.Order.Path != "/commerce/api/v2/orders" {
		t.Fatalf("plan --json: exit code %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if sandbox.ProvisionRequests() != 0 || len(sandbox.Orders()) != 0 {
		t.Fatal("a plan provisioned or ordered")
	}

	bad := writeFile(t, "bad.json", `{"orgId": "`+atlassiantest.OrgID+`", "adminEmail": "a@b.example", "site": {"name": "x", "create": true, "timezone": "UTC"},
		"products": [{"offeringId": "`+atlassiantest.JiraOfferingID+`", "family": "jira", "chargeElement": "user", "quantity": 1, "parentEntitlementId": "9f0e5a1c-0000-4000-8000-000000000000"}]}`)
	res = finish(t, e.start("", "plan", bad), e.world.Clock)
	if res.code != exitFailed || !strings.Contains(res.stdout, "failed at lookup: not_found") {
		t.Fatalf("failing look-up: exit code %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}
