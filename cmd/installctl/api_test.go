package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
)

// apiEnv is installctl's environment pointed at a fresh sandbox.
func apiEnv(t *testing.T) (*env, *atlassiantest.Server) {
	t.Helper()
	s := atlassiantest.NewServer()
	t.Cleanup(s.Close)
	e := &env{t: t, ctx: t.Context(), url: "nats://127.0.0.1:1", environ: map[string]string{
		"ATLASSIAN_API_URL": s.URL,
		"ATLASSIAN_API_KEY": atlassiantest.DefaultAPIKey,
	}}
	return e, s
}

func TestAPICalls(t *testing.T) {
	e, _ := apiEnv(t)
	partner := strconv.FormatInt(atlassiantest.PartnerID, 10)
	ta := atlassiantest.TransactionAccountID
	cloud := atlassiantest.CloudID
	for _, tc := range []struct {
		name string
		args []string
		want []string // substrings of the JSON answer
	}{
		{"entitlement details", []string{"entitlements", "details", atlassiantest.JiraParentEntitlementID},
			[]string{`"entitlementId": "` + atlassiantest.JiraParentEntitlementID, `"transactionAccountId": "` + ta}},
		{"product entitlements", []string{"entitlements", "list", atlassiantest.OrgID, atlassiantest.ExistingJiraProductARI},
			[]string{`"entitlement_id"`}},
		{"workspaces", []string{"workspaces", atlassiantest.OrgID, "--value", atlassiantest.ExistingSiteName},
			[]string{`"typeKey": "jira-software"`, `"name": "acme"`}},
		{"workspaces, every page", []string{"workspaces", atlassiantest.OrgID, "--all", "--limit", "1"},
			[]string{`"typeKey": "confluence"`}},
		{"quote", []string{"quotes", "get", atlassiantest.QuoteID, "--transaction-account", ta},
			[]string{atlassiantest.QuoteID}},
		{"quotes", []string{"quotes", "list", "--transaction-account", ta, "--all"},
			[]string{atlassiantest.QuoteID}},
		{"promotions", []string{"promotions", "list", "--partner", partner}, []string{atlassiantest.PromotionID}},
		{"promotions paged", []string{"promotions", "list", "--partner", partner, "--all", "--limit", "1"}, []string{atlassiantest.PromotionID}},
		{"promotion", []string{"promotions", "get", atlassiantest.PromotionID, "--partner", partner}, []string{atlassiantest.PromotionID}},
		{"promotion status", []string{"promotions", "status", atlassiantest.PromotionID, "--partner", partner}, []string{`"status": "`}},
		{"promotion codes", []string{"promotions", "codes", "list", atlassiantest.PromotionID, "--partner", partner}, []string{"{"}},
		{"CSM fields", []string{"csm", "fields", "list", "--cloud-id", cloud}, []string{`"results"`}},
		{"CSM entitlement", []string{"csm", "entitlements", "get", atlassiantest.CSMEntitlementID, "--cloud-id", cloud},
			[]string{atlassiantest.CSMEntitlementID}},
		{"CSM entitlements", []string{"csm", "entitlements", "list", "--cloud-id", cloud, "--all",
			"--entity-type", "ORGANIZATION", "--entity-id", atlassiantest.CSMOrganizationID},
			[]string{atlassiantest.CSMEntitlementID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.run("", append([]string{"api"}, tc.args...)...)
			if res.code != exitOK {
				t.Fatalf("exit code %d; stderr:\n%s", res.code, res.stderr)
			}
			if !json.Valid([]byte(res.stdout)) {
				t.Fatalf("not JSON:\n%s", res.stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.stdout, w) {
					t.Errorf("answer lacks %q:\n%s", w, res.stdout)
				}
			}
		})
	}
}

func TestAPIQuoteDownload(t *testing.T) {
	e, _ := apiEnv(t)
	out := filepath.Join(t.TempDir(), "quote.pdf")
	res := e.run("", "api", "quotes", "download", atlassiantest.QuoteID, "--transaction-account", atlassiantest.TransactionAccountID, "-o", out)
	if res.code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", res.code, res.stderr)
	}
	pdf, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Errorf("quote.pdf starts with %q, want %%PDF", pdf[:min(len(pdf), 8)])
	}
	if res := e.run("", "api", "quotes", "download", atlassiantest.QuoteID); res.code != exitInvalid {
		t.Errorf("without -o: exit code %d, want %d", res.code, exitInvalid)
	}
}

func TestAPIPromotionCodesAndUpdates(t *testing.T) {
	e, _ := apiEnv(t)
	e.environ["ATLASSIAN_PARTNER_ID"] = strconv.FormatInt(atlassiantest.PartnerID, 10)
	promo := atlassiantest.PromotionID

	res := e.run("", "api", "promotions", "codes", "add", promo)
	if res.code != exitOK {
		t.Fatalf("codes add: exit code %d; stderr:\n%s", res.code, res.stderr)
	}
	var code struct{ Code string }
	if err := json.Unmarshal([]byte(res.stdout), &code); err != nil || code.Code == "" {
		t.Fatalf("codes add printed %s (%v)", res.stdout, err)
	}
	if res := e.run("", "api", "promotions", "codes", "get", promo, code.Code); res.code != exitOK || !strings.Contains(res.stdout, code.Code) {
		t.Fatalf("codes get: %d %s %s", res.code, res.stdout, res.stderr)
	}
	if res := e.run("", "api", "promotions", "codes", "delete", promo, code.Code, "--force"); res.code != exitOK || !strings.Contains(res.stdout, `"ok": true`) {
		t.Fatalf("codes delete: %d %s %s", res.code, res.stdout, res.stderr)
	}
	if res := e.run("", "api", "promotions", "codes", "get", promo, code.Code); res.code != exitFailed || !strings.Contains(res.stderr, "404") {
		t.Errorf("get of a deleted code: %d %s", res.code, res.stderr)
	}
	if res := e.run(`{"name": "Renamed"}`, "api", "promotions", "update", promo, "-f", "-"); res.code != exitOK {
		t.Fatalf("update: %d %s", res.code, res.stderr)
	}
	if res := e.run("", "api", "promotions", "get", promo); !strings.Contains(res.stdout, "Renamed") {
		t.Errorf("update not seen: %s", res.stdout)
	}
	if res := e.run("", "api", "promotions", "get", promo, "--partner", "acme"); res.code != exitInvalid || !strings.Contains(res.stderr, "--partner") {
		t.Errorf("bad partner: %d %s", res.code, res.stderr)
	}
}

func TestAPIErrorsNeverShowCredentials(t *testing.T) {
	e, _ := apiEnv(t)
	secret := "s3cret-key-that-must-not-leak"
	e.environ["ATLASSIAN_API_KEY"] = secret
	res := e.run("", "api", "entitlements", "details", atlassiantest.JiraParentEntitlementID)
	if res.code != exitFailed || !strings.Contains(res.stderr, "401") {
		t.Errorf("wrong key: exit code %d, stderr %q", res.code, res.stderr)
	}
	if strings.Contains(res.stdout+res.stderr, secret) {
		t.Errorf("the API key appears in the output:\n%s%s", res.stdout, res.stderr)
	}

	e.environ["ATLASSIAN_API_KEY"] = atlassiantest.DefaultAPIKey
	res = e.run(`{"orderId": "o-1", "items": []}`, "api", "orders", "create", "-f", "-")
	if res.code != exitFailed || !strings.Contains(res.stderr, "400") {
		t.Errorf("bad order: exit code %d, stderr %q", res.code, res.stderr)
	}
	if res := e.run("", "api", "orders", "create"); res.code != exitInvalid || !strings.Contains(res.stderr, "--file") {
		t.Errorf("order without body: exit code %d, stderr %q", res.code, res.stderr)
	}

	delete(e.environ, "ATLASSIAN_API_KEY")
	res = e.run("", "api", "entitlements", "details", "x")
	if res.code != exitFailed || !strings.Contains(res.stderr, "ATLASSIAN_API_KEY") {
		t.Errorf("no credentials: exit code %d, stderr %q", res.code, res.stderr)
	}
	e.environ["ATLASSIAN_EMAIL"], e.environ["ATLASSIAN_API_TOKEN"] = "admin@acme.example", secret
	res = e.run("", "api", "entitlements", "details", "x")
	if strings.Contains(res.stdout+res.stderr, secret) || res.code == exitOK {
		t.Errorf("basic auth with a wrong token: code %d, output %s%s", res.code, res.stdout, res.stderr)
	}
}

func TestAPIProvisionAndStatus(t *testing.T) {
	e, s := apiEnv(t)
	body := `{"offerings":[{"id":"` + atlassiantest.ConfluenceOfferingID + `","location":"us"}],
	  "parameters":{"adminEmail":"admin@acme.example","name":"newsite","timezone":"Australia/Sydney"}}`
	res := e.run(body, "api", "provision", "products", atlassiantest.OrgID, "-f", "-")
	if res.code != exitOK {
		t.Fatalf("provision: exit code %d; stderr:\n%s", res.code, res.stderr)
	}
	var prov struct {
		Data struct{ StatusURL string } `json:"data"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &prov); err != nil || !strings.HasPrefix(prov.Data.StatusURL, s.URL) {
		t.Fatalf("provision answer %s (%v)", res.stdout, err)
	}
	res = e.run("", "api", "provision", "status", prov.Data.StatusURL)
	if res.code != exitOK || !strings.Contains(res.stdout, "IN_PROGRESS") {
		t.Errorf("status: %d %s %s", res.code, res.stdout, res.stderr)
	}
	if res := e.run("", "api", "provision", "status", "https://evil.example/admin/installations/x"); res.code != exitFailed || !strings.Contains(res.stderr, "untrusted") {
		t.Errorf("foreign status URL: %d %s", res.code, res.stderr)
	}
}

func TestAPICSMFieldsAndDetails(t *testing.T) {
	e, _ := apiEnv(t)
	e.environ["ATLASSIAN_CLOUD_ID"] = atlassiantest.CloudID
	steps := []struct {
		stdin string
		args  []string
		want  string
	}{
		{`{"name":"Plan","type":{"name":"SELECT","options":["gold","silver"]}}`, []string{"fields", "create", "-f", "-"}, `"Plan"`},
		{`{"name":"Grade","options":["gold","silver","bronze"]}`, []string{"fields", "edit", "Plan", "-f", "-"}, `"Grade"`},
		{"", []string{"entitlements", "set", atlassiantest.CSMEntitlementID, "Grade", "gold"}, `"gold"`},
		{"", []string{"entitlements", "get", atlassiantest.CSMEntitlementID}, `"Grade"`},
		{"", []string{"fields", "delete", "Grade", "--force"}, `"ok": true`},
		{"", []string{"entitlements", "delete", atlassiantest.CSMEntitlementID, "--force"}, `"ok": true`},
	}
	for _, s := range steps {
		res := e.run(s.stdin, append([]string{"api", "csm"}, s.args...)...)
		if res.code != exitOK || !strings.Contains(res.stdout, s.want) {
			t.Fatalf("csm %v: exit code %d, stdout %s, stderr %s", s.args, res.code, res.stdout, res.stderr)
		}
	}
	if res := e.run("", "api", "csm", "entitlements", "get", atlassiantest.CSMEntitlementID); res.code != exitFailed {
		t.Errorf("get of a deleted entitlement: exit code %d", res.code)
	}
}

// --org calls with that organization's credentials from the installer's credentials file,
// here the example file, written for the sandbox of installer dev.
func TestAPIOrgCredentials(t *testing.T) {
	s := atlassiantest.NewServer(atlassiantest.WithOrganizations())
	t.Cleanup(s.Close)
	file := "../../examples/credentials/two-organizations.json"
	e := &env{t: t, ctx: t.Context(), url: "nats://127.0.0.1:1", environ: map[string]string{
		"ATLASSIAN_API_URL":          s.URL,
		"ATLASSIAN_API_KEY":          atlassiantest.DefaultAPIKey, // not accepted by this sandbox
		"ATLASSIAN_CREDENTIALS_FILE": file,
	}}
	second := []string{"api", "workspaces", atlassiantest.SecondOrgID, "--value", atlassiantest.SecondSiteName}
	if res := e.run("", second...); res.code != exitFailed {
		t.Fatalf("without --org: exit code %d, want %d", res.code, exitFailed)
	}
	res := e.run("", append([]string{"api", "--org", atlassiantest.SecondOrgID}, second[1:]...)...)
	if res.code != exitOK || !strings.Contains(res.stdout, `"name": "globex"`) {
		t.Fatalf("--org: exit code %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if r := s.Requests()[len(s.Requests())-1]; r.Org != atlassiantest.SecondOrgID || r.Header.Get("Authorization") != "Basic "+atlassiantest.Redacted {
		t.Fatalf("called as organization %q with %q", r.Org, r.Header.Get("Authorization"))
	}
	res = e.run("", "api", "--org", atlassiantest.OrgID, "workspaces", atlassiantest.OrgID, "--value", atlassiantest.ExistingSiteName)
	if res.code != exitOK || !strings.Contains(res.stdout, `"name": "acme"`) {
		t.Fatalf("--org of the first organization: exit code %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if res := e.run("", "api", "--org", "unknown-org", "workspaces", "unknown-org"); res.code != exitInvalid || !strings.Contains(res.stderr, `"unknown-org" is not in the credentials file`) {
		t.Fatalf("unknown organization: exit code %d\n%s", res.code, res.stderr)
	}
	e.environ["ATLASSIAN_CREDENTIALS_FILE"] = ""
	if res := e.run("", "api", "--org", atlassiantest.OrgID, "workspaces", atlassiantest.OrgID); res.code != exitInvalid || !strings.Contains(res.stderr, "ATLASSIAN_CREDENTIALS_FILE") {
		t.Fatalf("no credentials file: exit code %d\n%s", res.code, res.stderr)
	}
	if strings.Contains(res.stdout+res.stderr, atlassiantest.SecondOrgAPIToken) {
		t.Fatal("a credential was printed")
	}
}
