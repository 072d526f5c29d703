package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/procurement/atlassian-installer/internal/installtest"
	"github.com/procurement/atlassian-installer/internal/natstest"
)

// writeNATSContext stores a nats CLI context under config (XDG_CONFIG_HOME) and returns
// its name.
func writeNATSContext(t *testing.T, config string, ctx map[string]any) string {
	t.Helper()
	dir := filepath.Join(config, "nats", "context")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ctx)
	writeFile(t, filepath.Join(dir, "prod.json"), string(b))
	return "prod"
}

// The installer reaches a server that requires mutual TLS with a CA the test made, or an nkey
// user, by variables or by a nats CLI context, and becomes ready on it.
func TestServeWithNATSSecurity(t *testing.T) {
	pki := natstest.NewPKI(t)
	seed, nkeyUser := natstest.NKeyUser(t)
	for _, tc := range []struct {
		name   string
		server func(*server.Options)
		vars   func(addr string) map[string]string
	}{
		{"mutual TLS by variables", pki.RequireMutualTLS(t), func(addr string) map[string]string {
			return map[string]string{"NATS_URL": "tls://" + addr, "NATS_CA": pki.CA, "NATS_CERT": pki.ClientCert, "NATS_KEY": pki.ClientKey}
		}},
		{"mutual TLS by context", pki.RequireMutualTLS(t), func(addr string) map[string]string {
			config := t.TempDir()
			name := writeNATSContext(t, config, map[string]any{"url": "tls://" + addr, "ca": pki.CA, "cert": pki.ClientCert, "key": pki.ClientKey})
			return map[string]string{"XDG_CONFIG_HOME": config, "NATS_CONTEXT": name}
		}},
		{"nkey by variable", nkeyUser, func(addr string) map[string]string {
			return map[string]string{"NATS_URL": "nats://" + addr, "NATS_NKEY": seed}
		}},
		// The variable wins over the context: the context's nkey seed is not a seed at all.
		{"nkey over a context", nkeyUser, func(addr string) map[string]string {
			config := t.TempDir()
			name := writeNATSContext(t, config, map[string]any{"url": "nats://" + addr, "nkey": pki.CA})
			return map[string]string{"XDG_CONFIG_HOME": config, "NATS_CONTEXT": name, "NATS_NKEY": seed}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := natstest.StartServerWith(t, tc.server)
			vars := tc.vars(ns.Addr().String())
			vars["ATLASSIAN_API_URL"] = "http://127.0.0.1:1"
			p := start(t, []string{"--http-addr=127.0.0.1:0", "--log-format=json"}, vars)
			var addr string
			installtest.EventuallyWithin(t, waitTimeout, "the operator endpoints", func() bool {
				m := opsLog.FindStringSubmatch(p.stderr.String())
				if m != nil {
					addr = m[1]
				}
				select {
				case err := <-p.done:
					p.done <- err
					t.Fatalf("installer stopped: %v\n%s", err, p.stderr)
				default:
				}
				return m != nil
			})
			waitReady(t, addr)
			if err := p.stop(t); err != nil {
				t.Fatalf("run after cancel: %v", err)
			}
		})
	}
}

// Without the client certificate the server refuses the installer, which stops at start-up
// naming NATS_URL.
func TestServeMutualTLSRefusedWithoutCertificate(t *testing.T) {
	pki := natstest.NewPKI(t)
	ns := natstest.StartServerWith(t, pki.RequireMutualTLS(t))
	p := start(t, []string{"--http-addr=127.0.0.1:0"}, map[string]string{"NATS_URL": "tls://" + ns.Addr().String(), "NATS_CA": pki.CA})
	var err error
	select {
	case err = <-p.done:
		p.done <- err
	case <-t.Context().Done():
	}
	if err == nil || !strings.HasPrefix(err.Error(), "NATS_URL: cannot connect") {
		t.Fatalf("err = %v", err)
	}
}

// What a file holds is checked at start-up, naming the variable; a context's settings are
// checked naming the context's file and field.
func TestConfigNATSFiles(t *testing.T) {
	pki := natstest.NewPKI(t)
	config := t.TempDir()
	name := writeNATSContext(t, config, map[string]any{"url": "nats://ctx:4222", "ca": pki.ClientKey, "password": "hunter2"})
	for _, tc := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"NATS_URL": "nats://a:4222", "NATS_CA": pki.ClientKey}, "NATS_CA: "},
		{map[string]string{"NATS_URL": "nats://a:4222", "NATS_CERT": pki.ClientCert}, "NATS_KEY: "},
		{map[string]string{"NATS_URL": "nats://a:4222", "NATS_CERT": pki.ClientCert, "NATS_KEY": pki.ServerKey}, "NATS_CERT: "},
		{map[string]string{"NATS_URL": "nats://a:4222", "NATS_NKEY": pki.CA}, "NATS_NKEY: "},
		{map[string]string{"NATS_CA": pki.CA}, "NATS_CA: only for the servers of NATS_URL or NATS_CONTEXT"},
		{map[string]string{"XDG_CONFIG_HOME": config, "NATS_CONTEXT": name}, "NATS_CONTEXT: " + filepath.Join(config, "nats", "context", "prod.json") + ": "},
	} {
		_, err := parse(t, tc.vars)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Errorf("%v: err = %v, want it to begin %q", tc.vars, err, tc.want)
		}
	}
	// The context's URL is used, its CA is replaced by the variable's.
	name = writeNATSContext(t, config, map[string]any{"url": "nats://ctx:4222", "user": "u", "password": "hunter2", "inbox_prefix": "_INBOX_u"})
	c, err := parse(t, map[string]string{"XDG_CONFIG_HOME": config, "NATS_CONTEXT": name, "NATS_CA": pki.CA})
	if err != nil {
		t.Fatal(err)
	}
	if s := c.NATS(); s.URL != "nats://ctx:4222" || s.CA != pki.CA || s.User != "u" || s.InboxPrefix != "_INBOX_u" || c.Embedded() {
		t.Fatalf("settings %v", s)
	}
	if strings.Contains(c.String(), "hunter2") {
		t.Fatalf("the context's password is shown: %s", c)
	}
}
