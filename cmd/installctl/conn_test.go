package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/handlers/record"
	"github.com/procurement/atlassian-installer/internal/natsconn"
	"github.com/procurement/atlassian-installer/internal/natstest"
)

// secureServer starts a server with configure (mutual TLS, nkey users) and creates the
// journey bucket on it with s, as the installer would.
func secureServer(t *testing.T, configure func(*server.Options), s natsconn.Settings) *server.Server {
	t.Helper()
	ns := natstest.StartServerWith(t, configure)
	s.URL = ns.ClientURL()
	if s.CA != "" {
		s.URL = "tls://" + ns.Addr().String()
	}
	opts, err := s.Options()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.CreateKeyValue(t.Context(), jetstream.KeyValueConfig{Bucket: record.DefaultBucket}); err != nil {
		t.Fatal(err)
	}
	return ns
}

// runWith runs installctl with environ as its whole environment.
func runWith(t *testing.T, environ map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr strings.Builder
	code := newApp(func(k string) string { return environ[k] }, strings.NewReader(""), &stdout, &stderr).run(t.Context(), args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func saveContext(t *testing.T, config, name string, ctx map[string]any) {
	t.Helper()
	dir := filepath.Join(config, "nats", "context")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ctx)
	if err := os.WriteFile(filepath.Join(dir, name+".json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// installctl reaches a server that requires mutual TLS with a CA the test made, and one that
// knows only an nkey user, by flags, by variables and by nats CLI contexts (named, or selected
// as `nats context select` does); without the certificate it is refused.
func TestConnectSecurity(t *testing.T) {
	pki := natstest.NewPKI(t)
	mtls := natsconn.Settings{CA: pki.CA, Cert: pki.ClientCert, Key: pki.ClientKey}
	tlsServer := secureServer(t, pki.RequireMutualTLS(t), mtls)
	tlsURL := "tls://" + tlsServer.Addr().String()
	seed, users := natstest.NKeyUser(t)
	nkeyServer := secureServer(t, users, natsconn.Settings{NKey: seed})

	config := t.TempDir()
	saveContext(t, config, "secure", map[string]any{"url": tlsURL, "ca": pki.CA, "cert": pki.ClientCert, "key": pki.ClientKey})
	saveContext(t, config, "nkey", map[string]any{"url": nkeyServer.ClientURL(), "nkey": seed})
	saveContext(t, config, "nocert", map[string]any{"url": tlsURL, "ca": pki.CA})
	selected := t.TempDir()
	saveContext(t, selected, "picked", map[string]any{"url": nkeyServer.ClientURL(), "nkey": seed})
	if err := os.WriteFile(filepath.Join(selected, "nats", "context.txt"), []byte("picked"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		environ map[string]string
		args    []string
		ok      bool
	}{
		{"mutual TLS by flags", nil, []string{"--nats-url", tlsURL, "--tlsca", pki.CA, "--tlscert", pki.ClientCert, "--tlskey", pki.ClientKey}, true},
		{"mutual TLS by variables", map[string]string{"NATS_URL": tlsURL, "NATS_CA": pki.CA, "NATS_CERT": pki.ClientCert, "NATS_KEY": pki.ClientKey}, nil, true},
		{"mutual TLS by --context", map[string]string{"XDG_CONFIG_HOME": config}, []string{"--context", "secure"}, true},
		{"nkey by NATS_CONTEXT", map[string]string{"XDG_CONFIG_HOME": config, "NATS_CONTEXT": "nkey"}, nil, true},
		{"nkey by flag", nil, []string{"--nats-url", nkeyServer.ClientURL(), "--nkey", seed}, true},
		{"the selected context", map[string]string{"HOME": filepath.Dir(selected), "XDG_CONFIG_HOME": selected}, nil, true},
		{"a context's missing certificate given by flags", map[string]string{"XDG_CONFIG_HOME": config}, []string{"--context", "nocert", "--tlscert", pki.ClientCert, "--tlskey", pki.ClientKey}, true},
		{"no client certificate", map[string]string{"XDG_CONFIG_HOME": config}, []string{"--context", "nocert"}, false},
		{"no nkey", nil, []string{"--nats-url", nkeyServer.ClientURL()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runWith(t, tc.environ, append(tc.args, "list", "--json")...)
			if ok := res.code == exitOK; ok != tc.ok {
				t.Fatalf("exit %d, want success %v\nstdout:\n%s\nstderr:\n%s", res.code, tc.ok, res.stdout, res.stderr)
			}
			if !tc.ok && !strings.Contains(res.stderr, "connect to NATS at") {
				t.Errorf("stderr %q", res.stderr)
			}
		})
	}
}

// A setting that cannot be used is named by its flag; a context's, by its file and field.
func TestConnectSettingErrors(t *testing.T) {
	pki := natstest.NewPKI(t)
	config := t.TempDir()
	saveContext(t, config, "bad", map[string]any{"ca": pki.ClientKey, "password": "hunter2"})
	for _, tc := range []struct {
		environ map[string]string
		args    []string
		want    string
	}{
		{nil, []string{"--tlscert", pki.ClientCert}, "installctl: --tlskey: "},
		{nil, []string{"--tlsca", pki.ClientKey}, "installctl: --tlsca: "},
		{map[string]string{"NATS_NKEY": pki.CA}, nil, "installctl: --nkey: "},
		{map[string]string{"XDG_CONFIG_HOME": config}, []string{"--context", "bad"}, "installctl: --context: " + filepath.Join(config, "nats", "context", "bad.json") + ": password: "},
		{map[string]string{"XDG_CONFIG_HOME": config}, []string{"--context", "missing"}, `installctl: --context: unknown context "missing"`},
	} {
		res := runWith(t, tc.environ, append(tc.args, "list")...)
		if res.code != exitFailed || !strings.HasPrefix(res.stderr, tc.want) || strings.Contains(res.stderr, "hunter2") || strings.Contains(res.stderr, "PRIVATE") {
			t.Errorf("%v %v: exit %d, stderr %q, want it to begin %q", tc.environ, tc.args, res.code, res.stderr, tc.want)
		}
	}
}
