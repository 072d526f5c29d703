package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, map[string]string{"SANDBOX_ORDER_WINDOW": "soon"}, "SANDBOX_ORDER_WINDOW"},
		{[]string{"-provision-delay", "-1s"}, nil, "-provision-delay"},
		{nil, map[string]string{"SANDBOX_SEED": "x"}, "SANDBOX_SEED"},
		{[]string{"-email", "a@b.c"}, nil, "SANDBOX_API_TOKEN"},
		{[]string{"-api-key", ""}, nil, "SANDBOX_API_KEY"},
		{[]string{"extra"}, nil, "unexpected argument"},
		{nil, map[string]string{"SANDBOX_RATE_LIMITS": "sometimes"}, "SANDBOX_RATE_LIMITS"},
		{nil, map[string]string{"SANDBOX_ORGANIZATIONS": "two"}, "SANDBOX_ORGANIZATIONS"},
	}
	for _, tc := range cases {
		_, err := parseConfig(tc.args, envOf(tc.env), io.Discard)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("args %v env %v: %v, want a usage error naming %s", tc.args, tc.env, err, tc.want)
		}
	}
	cfg, err := parseConfig([]string{"-order-delay", "5s"}, envOf(map[string]string{"SANDBOX_ORDER_DELAY": "1m", "SANDBOX_ADDR": "127.0.0.1:9"}), io.Discard)
	if err != nil || cfg.orderDelay.String() != "5s" || cfg.addr != "127.0.0.1:9" {
		t.Fatalf("flag over environment: %+v %v", cfg, err)
	}
}

func TestHelpPrintsNoSecret(t *testing.T) {
	var help bytes.Buffer
	_, err := parseConfig([]string{"-h"}, envOf(map[string]string{"SANDBOX_API_KEY": "s3cret-key", "SANDBOX_API_TOKEN": "s3cret-token"}), &help)
	if !errors.Is(err, flag.ErrHelp) || strings.Contains(help.String(), "s3cret") || !strings.Contains(help.String(), "SANDBOX_API_KEY") {
		t.Fatalf("help: %v\n%s", err, help.String())
	}
	cfg, err := parseConfig(nil, envOf(map[string]string{"SANDBOX_API_KEY": "s3cret-key"}), io.Discard)
	if err != nil || cfg.apiKey != "s3cret-key" {
		t.Fatalf("key from the environment: %v", err)
	}
}

func TestPrintFixturesLoadsBack(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-print-fixtures"}, envOf(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	fx, err := atlassiantest.LoadFixtures(&out)
	if err != nil || len(fx.Offerings) == 0 || fx.Orgs[0] != atlassiantest.OrgID {
		t.Fatalf("printed fixtures: %v %+v", err, fx)
	}
}

// TestServeWithFixturesFile runs the sandbox on a random port with fixtures
// from a file and its own API key, and drives the API and the admin API.
func TestServeWithFixturesFile(t *testing.T) {
	fx := atlassiantest.DefaultFixtures()
	const org = "11111111-2222-4333-8444-555555555555"
	fx.Orgs = []string{org}
	for i := range fx.Sites {
		fx.Sites[i].OrgID = org
	}
	path := filepath.Join(t.TempDir(), "fixtures.json")
	var buf bytes.Buffer
	if err := fx.Dump(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseConfig([]string{"-fixtures", path}, envOf(map[string]string{"SANDBOX_API_KEY": "k-123"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cfg.options()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, opts, cfg, io.Discard) }()
	base := "http://" + ln.Addr().String()
	do := func(method, path, key, body string) int {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	query := `{"query":{"field":{"name":"attributes.name","values":["acme"]}}}`
	if got := do("POST", "/admin/v2/orgs/"+org+"/workspaces", "k-123", query); got != 200 {
		t.Fatalf("workspaces of the file's organization: %d", got)
	}
	if got := do("POST", "/admin/v2/orgs/"+atlassiantest.OrgID+"/workspaces", "k-123", query); got != 404 {
		t.Fatalf("default organization is not in the file: %d", got)
	}
	if got := do("GET", "/_sandbox/requests", atlassiantest.DefaultAPIKey, ""); got != 401 {
		t.Fatalf("default key accepted: %d", got)
	}
	if got := do("PUT", "/_sandbox/faults/workspaces", "k-123", `{"error":1,"errorStatus":503,"times":1}`); got != 200 {
		t.Fatalf("set fault: %d", got)
	}
	if got := do("POST", "/admin/v2/orgs/"+org+"/workspaces", "k-123", query); got != 503 {
		t.Fatalf("fault not applied: %d", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRunPrintsWhereItListens(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	if err := run(ctx, []string{"-addr", "127.0.0.1:0"}, envOf(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "listening on http://127.0.0.1:") || !strings.Contains(out.String(), "/_sandbox/") {
		t.Fatalf("banner: %s", out.String())
	}
	if err := run(ctx, []string{"-fixtures", filepath.Join(t.TempDir(), "missing.json")}, envOf(nil), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "SANDBOX_FIXTURES") {
		t.Fatalf("missing fixtures file: %v", err)
	}
}

// -organizations serves the two organizations of installer dev, each with its own key.
func TestServeOrganizations(t *testing.T) {
	cfg, err := parseConfig([]string{"-organizations"}, envOf(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cfg.options()
	if err != nil {
		t.Fatal(err)
	}
	s := atlassiantest.NewServer(opts...)
	defer s.Close()
	status := func(org, key string) int {
		req, _ := http.NewRequest("POST", s.URL+"/admin/v2/orgs/"+org+"/workspaces", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if a, b, c := status(atlassiantest.SecondOrgID, atlassiantest.SecondOrgAPIKey), status(atlassiantest.SecondOrgID, atlassiantest.OrgAPIKey),
		status(atlassiantest.OrgID, atlassiantest.DefaultAPIKey); a != 200 || b != 401 || c != 200 {
		t.Fatalf("own key %d, other organization's key %d, -api-key %d; want 200, 401, 200", a, b, c)
	}
}
