package natsconn_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/procurement/atlassian-installer/internal/natsconn"
	"github.com/procurement/atlassian-installer/internal/natstest"
)

func dial(s natsconn.Settings) (*nats.Conn, error) {
	opts, err := s.Options()
	if err != nil {
		return nil, err
	}
	return nats.Connect(s.URL, append(opts, nats.Name("natsconn test"))...)
}

// A server that requires mutual TLS (verify: true) takes a client with the CA and a client
// certificate the CA signed, and refuses one without the certificate or trusting another CA.
func TestMutualTLS(t *testing.T) {
	pki := natstest.NewPKI(t)
	s := natstest.StartServerWith(t, pki.RequireMutualTLS(t))
	url := "tls://" + s.Addr().String()

	nc, err := dial(natsconn.Settings{URL: url, CA: pki.CA, Cert: pki.ClientCert, Key: pki.ClientKey})
	if err != nil {
		t.Fatalf("mutual TLS: %v", err)
	}
	if !nc.TLSRequired() {
		t.Error("connection is not TLS")
	}
	js, _ := natsconn.Settings{}.JetStream(nc)
	if _, err := js.AccountInfo(t.Context()); err != nil {
		t.Errorf("JetStream over mutual TLS: %v", err)
	}
	nc.Close()

	for name, s := range map[string]natsconn.Settings{
		"no client certificate":       {URL: url, CA: pki.CA},
		"server signed by another CA": {URL: url, CA: pki.OtherCA, Cert: pki.ClientCert, Key: pki.ClientKey},
	} {
		if nc, err := dial(s); err == nil {
			nc.Close()
			t.Errorf("%s: connected", name)
		}
	}
}

func TestNKey(t *testing.T) {
	seed, users := natstest.NKeyUser(t)
	s := natstest.StartServerWith(t, users)
	nc, err := dial(natsconn.Settings{URL: s.ClientURL(), NKey: seed})
	if err != nil {
		t.Fatalf("nkey user: %v", err)
	}
	nc.Close()
	if nc, err := dial(natsconn.Settings{URL: s.ClientURL()}); err == nil {
		nc.Close()
		t.Fatal("connected without the nkey")
	}
}

// writeContext stores a context as the nats CLI does, under XDG_CONFIG_HOME.
func writeContext(t *testing.T, config, name, body string) string {
	t.Helper()
	dir := filepath.Join(config, "nats", "context")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadContext(t *testing.T) {
	config, home := t.TempDir(), t.TempDir()
	env := map[string]string{"XDG_CONFIG_HOME": config, "HOME": home}
	getenv := func(k string) string { return env[k] }
	path := writeContext(t, config, "prod", `{
  "description": "production", "url": "tls://nats-1:4222,tls://nats-2:4222",
  "user": "installer", "password": "hunter2-secret",
  "cert": "~/tls/client.pem", "key": "~/tls/client-key.pem", "ca": "/etc/ca.pem",
  "inbox_prefix": "_INBOX_installer", "jetstream_domain": "hub", "tls_first": true, "color_scheme": "dark"
}`)
	want := natsconn.Settings{
		URL: "tls://nats-1:4222,tls://nats-2:4222", User: "installer", Password: "hunter2-secret",
		Cert: filepath.Join(home, "tls/client.pem"), Key: filepath.Join(home, "tls/client-key.pem"), CA: "/etc/ca.pem",
		InboxPrefix: "_INBOX_installer", JSDomain: "hub", TLSFirst: true,
	}
	for _, name := range []string{"prod", path} {
		got, from, err := natsconn.LoadContext(name, getenv)
		if err != nil || got != want || from != path {
			t.Errorf("LoadContext(%q) = %v from %s, %v; want %v", name, got, from, err, want)
		}
	}

	// None named: the selected one, or none.
	if got, _, err := natsconn.LoadContext("", getenv); err != nil || got != (natsconn.Settings{}) {
		t.Errorf("nothing selected: %v, %v", got, err)
	}
	if err := os.WriteFile(filepath.Join(config, "nats", "context.txt"), []byte("prod\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, _, err := natsconn.LoadContext("", getenv); err != nil || got != want {
		t.Errorf("selected: %v, %v", got, err)
	}
	// Without XDG_CONFIG_HOME, under HOME/.config; a context without url has the CLI's default.
	delete(env, "XDG_CONFIG_HOME")
	writeContext(t, filepath.Join(home, ".config"), "dev", `{"nkey": "/etc/dev.nk"}`)
	if got, _, err := natsconn.LoadContext("dev", getenv); err != nil || got != (natsconn.Settings{URL: "nats://127.0.0.1:4222", NKey: "/etc/dev.nk"}) {
		t.Errorf("dev under HOME: %v, %v", got, err)
	}

	for name, wantErr := range map[string]string{
		"missing": "unknown context",
		"../prod": "invalid context name",
		"nsc":     "nsc: not supported",
		"notjson": "not a context file",
	} {
		writeContext(t, filepath.Join(home, ".config"), "nsc", `{"nsc": "nsc://op/acc/user", "password": "hunter2-secret"}`)
		writeContext(t, filepath.Join(home, ".config"), "notjson", `{"password": "hunter2-secret"`)
		_, _, err := natsconn.LoadContext(name, getenv)
		if err == nil || !strings.Contains(err.Error(), wantErr) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("LoadContext(%q) error = %v, want one saying %q", name, err, wantErr)
		}
	}
}

// Explicit settings win over a context's; an authentication or a certificate is taken whole.
func TestOver(t *testing.T) {
	ctx := natsconn.Settings{URL: "nats://ctx:4222", User: "u", Password: "p", Cert: "c.pem", Key: "k.pem", CA: "ca.pem", InboxPrefix: "_I_ctx"}
	got := natsconn.Settings{Creds: "x.creds", Cert: "mine.pem"}.Over(ctx)
	want := natsconn.Settings{URL: "nats://ctx:4222", Creds: "x.creds", Cert: "mine.pem", CA: "ca.pem", InboxPrefix: "_I_ctx"}
	if got != want {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	if got := (natsconn.Settings{}).Over(ctx); got != ctx {
		t.Fatalf("nothing explicit: %v", got)
	}
}

func TestOptionsErrors(t *testing.T) {
	pki := natstest.NewPKI(t)
	notPEM := filepath.Join(t.TempDir(), "secret.pem")
	if err := os.WriteFile(notPEM, []byte("hunter2-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s     natsconn.Settings
		field string
	}{
		{natsconn.Settings{Cert: pki.ClientCert}, "key"},
		{natsconn.Settings{Key: pki.ClientKey}, "cert"},
		{natsconn.Settings{Cert: pki.ClientCert, Key: pki.ServerKey}, "cert"},
		{natsconn.Settings{CA: notPEM}, "ca"},
		{natsconn.Settings{CA: "/nonexistent/ca.pem"}, "ca"},
		{natsconn.Settings{NKey: notPEM}, "nkey"},
		{natsconn.Settings{Creds: "a.creds", NKey: "a.nk"}, "creds"},
		{natsconn.Settings{Password: "hunter2-secret"}, "password"},
		{natsconn.Settings{InboxPrefix: "_INBOX.>"}, "inbox_prefix"},
		{natsconn.Settings{JSDomain: "a", JSAPIPrefix: "b"}, "jetstream_domain"},
	} {
		_, err := tc.s.Options()
		var fe *natsconn.Error
		if !errors.As(err, &fe) || fe.Field != tc.field || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%v: error %v, want one about %s", tc.s, err, tc.field)
		}
	}
}

func TestSecretsMasked(t *testing.T) {
	s := natsconn.Settings{User: "u", Password: "hunter2-secret", Token: "tok-secret"}
	var log bytes.Buffer
	slog.New(slog.NewJSONHandler(&log, nil)).Info("x", "nats", s)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v %#v %q %s", s, s, s, s), log.String()} {
		if strings.Contains(out, "hunter2") || strings.Contains(out, "tok-secret") || !strings.Contains(out, "[REDACTED]") {
			t.Errorf("secrets shown: %s", out)
		}
	}
}
