package main

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// writeCredentials writes a credentials file of the two-organization sandbox.
func writeCredentials(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// One installer with ATLASSIAN_CREDENTIALS_FILE serves two organizations, each with its own
// key, the file's key winning over ATLASSIAN_API_KEY; an organization it names no
// credentials for fails unauthorized at lookup without any Atlassian call.
func TestContractCredentialsFile(t *testing.T) {
	t.Parallel()
	sandbox := ctSandbox(t, atlassiantest.WithOrganizations())
	file := writeCredentials(t, `{"`+atlassiantest.OrgID+`": {"apiKey": "`+atlassiantest.OrgAPIKey+`"}, "`+
		atlassiantest.SecondOrgID+`": {"apiKey": "`+atlassiantest.SecondOrgAPIKey+`"}}`)
	// ATLASSIAN_API_KEY stays ctAPIKey, which the sandbox takes for every organization: the
	// file's own keys must be the ones sent.
	p := ctStart(t, sandbox, map[string]string{"ATLASSIAN_CREDENTIALS_FILE": file})
	o := ctFollow(t, p, ctPrefix, ctSource)

	first := uuid.NewString()
	p.publishBinary(t, ctRequested, first, ctRequested, ctNewSiteJira(ctSiteName()))
	second := uuid.NewString()
	p.publishBinary(t, ctRequested, second, ctRequested, ctRequest{
		"orgId": atlassiantest.SecondOrgID, "adminEmail": "admin@globex.example",
		"site": map[string]any{"name": atlassiantest.SecondSiteName, "create": false},
		"products": []any{map[string]any{"offeringId": atlassiantest.JSMOfferingID, "family": "jira",
			"chargeElement": "agent", "quantity": 10, "parentEntitlementId": atlassiantest.SecondJiraParentEntitlementID}},
	})
	for _, id := range []string{first, second} {
		if m := o.stream.waitTerminal(t, ctPrefix, id); m.Subject != ctPrefix+".install.provisioned" {
			t.Fatalf("%s: %s %s", id, m.Subject, m.Data)
		}
	}
	orgs := map[string]int{}
	for _, r := range sandbox.Requests() {
		orgs[r.Org]++
	}
	if len(orgs) != 2 || orgs[atlassiantest.OrgID] == 0 || orgs[atlassiantest.SecondOrgID] == 0 {
		t.Errorf("calls by the organization of their key: %v (\"\" is ATLASSIAN_API_KEY)", orgs)
	}

	before := len(sandbox.Requests())
	stranger := ctNewSiteJira(ctSiteName())
	stranger["orgId"] = "0d7e3c55-unknown-org"
	third := uuid.NewString()
	p.publishBinary(t, ctRequested, third, ctRequested, stranger)
	// ATLASSIAN_API_KEY serves the organizations the file does not name.
	if m := o.stream.waitTerminal(t, ctPrefix, third); m.Subject != ctPrefix+".install.failed" {
		t.Fatalf("unknown organization: %s %s", m.Subject, m.Data)
	}
	if n := len(sandbox.Requests()) - before; n == 0 {
		t.Errorf("an organization the file does not name was not served with ATLASSIAN_API_KEY")
	}
	p.stop(t)

	// Without ATLASSIAN_API_KEY, such a request is refused before any call.
	p = ctStart(t, sandbox, map[string]string{"ATLASSIAN_CREDENTIALS_FILE": file, "ATLASSIAN_API_KEY": ""})
	o = ctFollow(t, p, ctPrefix, ctSource)
	before = len(sandbox.Requests())
	fourth := uuid.NewString()
	p.publishBinary(t, ctRequested, fourth, ctRequested, stranger)
	d := o.stream.waitFailed(t, ctPrefix, fourth, "lookup", "unauthorized")
	if d["retryable"] != false {
		t.Errorf("retryable = %v", d["retryable"])
	}
	if n := len(sandbox.Requests()) - before; n != 0 {
		t.Errorf("%d Atlassian calls for an organization without credentials, want none", n)
	}
	o.check(t, atlassiantest.OrgAPIKey, atlassiantest.SecondOrgAPIKey)
	for _, s := range []string{atlassiantest.OrgAPIKey, atlassiantest.SecondOrgAPIKey} {
		if strings.Contains(p.stderr.String()+p.stdout.String(), s) {
			t.Errorf("a key of the credentials file is in the installer's output")
		}
	}
}

// A wrong credentials file stops start-up with a message naming the variable, and never the
// keys it holds.
func TestContractBadCredentialsFileStopsStartup(t *testing.T) {
	t.Parallel()
	bin := contractBinary(t)
	const key = "ct-file-key-7d2c9a"
	for _, content := range []string{
		`{"org": {"apiKey": "` + key + `"`,
		`{"org": {"apiKey": "` + key + `", "email": "a@b.example"}}`,
		`["` + key + `"]`,
	} {
		cmd := exec.Command(bin)
		cmd.Env = []string{
			"ATLASSIAN_CREDENTIALS_FILE=" + writeCredentials(t, content),
			"INSTALLER_DATA_DIR=" + t.TempDir(),
			"INSTALLER_NATS_LISTEN=" + ctFreeAddr(t),
			"INSTALLER_HTTP_ADDR=" + ctFreeAddr(t),
		}
		var out installtest.LogBuffer
		cmd.Stderr, cmd.Stdout = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(out.String(), "ATLASSIAN_CREDENTIALS_FILE") {
				t.Errorf("%s: exit %v, output:\n%s", content, err, out.String())
			}
			if strings.Contains(out.String(), key) {
				t.Errorf("%s: the key is in the output:\n%s", content, out.String())
			}
		case <-time.After(waitTimeout):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("%s: the installer started", content)
		}
	}
}

// A dry run through the installer binary: the planned event, no provisioning or order sent,
// and a plan equal to what the real request then sends.
func TestContractDryRun(t *testing.T) {
	t.Parallel()
	sandbox := ctSandbox(t)
	p := ctStart(t, sandbox, nil)
	o := ctFollow(t, p, ctPrefix, ctSource)
	req := ctNewSiteJira(ctSiteName())
	dry := maps.Clone(req)
	dry["dryRun"] = true
	plan := uuid.NewString()
	p.publishBinary(t, ctRequested, plan, ctRequested, dry)
	m := o.stream.waitTerminal(t, ctPrefix, plan)
	if m.Subject != ctPrefix+".install.planned" {
		t.Fatalf("dry run: %s %s", m.Subject, m.Data)
	}
	var planned struct {
		Provisioning, Order struct {
			Method, Path string
			Body         json.RawMessage
		}
	}
	if err := json.Unmarshal(m.Data, &planned); err != nil {
		t.Fatal(err)
	}
	for _, r := range sandbox.Requests() {
		if r.Method == "POST" && r.Endpoint != atlassiantest.EndpointWorkspaces {
			t.Errorf("the dry run sent %s %s", r.Method, r.Path)
		}
	}
	real := uuid.NewString()
	p.publishBinary(t, ctRequested, real, ctRequested, req)
	if m := o.stream.waitTerminal(t, ctPrefix, real); m.Subject != ctPrefix+".install.provisioned" {
		t.Fatalf("real request: %s %s", m.Subject, m.Data)
	}
	strip := func(body []byte) map[string]any {
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		delete(v, "orderId")
		delete(v["metadata"].(map[string]any), "provisionRequestId")
		return v
	}
	for _, r := range sandbox.Requests() {
		switch r.Endpoint {
		case atlassiantest.EndpointProvisionProducts:
			if r.Path != planned.Provisioning.Path || r.Body != string(planned.Provisioning.Body) {
				t.Errorf("provisioning sent %s %s, planned %s %s", r.Path, r.Body, planned.Provisioning.Path, planned.Provisioning.Body)
			}
		case atlassiantest.EndpointCreateOrder:
			if !reflect.DeepEqual(strip([]byte(r.Body)), strip(planned.Order.Body)) {
				t.Errorf("order sent %s, planned %s", r.Body, planned.Order.Body)
			}
		}
	}
	o.check(t)
}
