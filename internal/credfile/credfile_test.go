package credfile_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/internal/credfile"
)

const secret = "s3cret-VALUE"

func TestParse(t *testing.T) {
	creds, err := credfile.Parse([]byte(`{"org-a": {"apiKey": "k"}, "org-b": {"email": "admin@b.example", "apiToken": "t"}}`))
	if err != nil || len(creds) != 2 {
		t.Fatalf("Parse = %v, %v", creds, err)
	}
	for _, c := range []struct{ data, want string }{
		{`[]`, "not a JSON object"},
		{`null`, "not a JSON object"},
		{`{"o": {"apiKey": "` + secret + `"`, "not valid JSON"},
		{`{"o": {"apiKey": ` + secret + `}}`, "not valid JSON (at byte"},
		{`{"o": "` + secret + `"}`, `organization "o": not an object`},
		{`{"o": {"apiKey": 5}}`, `organization "o": apiKey is not a string`},
		{`{"o": {"key": "` + secret + `"}}`, `organization "o": unknown field "key"`},
		{`{"o": {}}`, `organization "o": apiKey, or email and apiToken, is required`},
		{`{"o": {"email": "a@b.example"}}`, "apiToken is required with email"},
		{`{"o": {"apiToken": "` + secret + `"}}`, "email is required with apiToken"},
		{`{"o": {"apiKey": "` + secret + `", "email": "a@b.example", "apiToken": "x"}}`, "not both"},
		{`{"o": {"apiKey": "` + secret + `\n"}}`, `organization "o": key contains a control character`},
		{`{"": {"apiKey": "` + secret + `"}}`, "an organization id is empty"},
		{`{"o\u0007": {"apiKey": "` + secret + `"}}`, "control character"},
	} {
		_, err := credfile.Parse([]byte(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%s) = %v, want %q", c.data, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Parse(%s) error shows the credential: %v", c.data, err)
		}
	}
}

// The watcher reloads a changed file when checked, keeps the credentials it had when the
// file turns wrong or disappears, and never logs a credential.
func TestWatcherReloads(t *testing.T) {
	var authSeen string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authSeen = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"entitlementId":"e"}`))
	}))
	defer srv.Close()
	c, err := client.NewClient(client.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	authOf := func(w *credfile.Watcher, org string) string {
		t.Helper()
		cr, ok := w.Lookup(org)
		if !ok {
			return "none"
		}
		if _, _, err := c.Commerce.GetEntitlementDetails(client.ContextWithCredentials(context.Background(), cr), "e"); err != nil {
			t.Fatal(err)
		}
		return authSeen
	}

	path := filepath.Join(t.TempDir(), "credentials.json")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	write(`{"org-a": {"apiKey": "` + secret + `-1"}}`)
	w, err := credfile.NewWatcher(path, log)
	if err != nil {
		t.Fatal(err)
	}
	if got := authOf(w, "org-a"); got != "Bearer "+secret+"-1" {
		t.Fatalf("org-a sends %q", got)
	}
	if w.Check() {
		t.Fatal("Check reloaded an unchanged file")
	}

	write(`{"org-a": {"apiKey": "` + secret + `-2"}, "org-b": {"apiKey": "` + secret + `-3"}}`)
	if !w.Check() {
		t.Fatal("Check did not reload a changed file")
	}
	if a, b := authOf(w, "org-a"), authOf(w, "org-b"); a != "Bearer "+secret+"-2" || b != "Bearer "+secret+"-3" {
		t.Fatalf("after the reload org-a sends %q, org-b %q", a, b)
	}

	write(`{"org-a": {"apiKey": "` + secret + `-4"`) // half-written
	if w.Check() {
		t.Fatal("Check loaded a wrong file")
	}
	if a := authOf(w, "org-a"); a != "Bearer "+secret+"-2" {
		t.Fatalf("after a wrong file org-a sends %q, want the credentials loaded before", a)
	}
	os.Remove(path)
	if w.Check() {
		t.Fatal("Check loaded a missing file")
	}
	write(`{"org-c": {"email": "admin@c.example", "apiToken": "` + secret + `-5"}}`)
	if !w.Check() {
		t.Fatal("Check did not load the file written again")
	}
	if a, cc := authOf(w, "org-a"), authOf(w, "org-c"); a != "none" || !strings.HasPrefix(cc, "Basic ") {
		t.Fatalf("after the rewrite org-a sends %q, org-c %q", a, cc)
	}
	out := logs.String()
	for _, want := range []string{"credentials file reloaded", "credentials file is wrong", "credentials file unreadable"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret") {
		t.Errorf("a credential reached the log:\n%s", out)
	}
	if s := fmt.Sprintf("%v %+v %#v", w, w, w); strings.Contains(s, "s3cret") {
		t.Errorf("a credential prints: %s", s)
	}
}

func TestNewWatcherRefusesAWrongFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials.json")
	if _, err := credfile.NewWatcher(path, nil); err == nil {
		t.Fatal("missing file accepted")
	}
	os.WriteFile(path, []byte(`{"o": {"apiKey": ""}}`), 0o600)
	if _, err := credfile.NewWatcher(path, nil); err == nil {
		t.Fatal("wrong file accepted")
	}
}
