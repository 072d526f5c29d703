package main

import (
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procurement/atlassian-installer/internal/natsconn"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// The embedded server keeps JetStream in INSTALLER_DATA_DIR and fsyncs every write.
func TestEmbeddedServer(t *testing.T) {
	c := defaultConfig()
	c.NATSListen = "127.0.0.1:-1"
	c.DataDir = filepath.Join(t.TempDir(), "store")
	ns, err := startEmbedded(c, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopEmbedded(ns) })
	js := ns.JetStreamConfig()
	if js == nil || !js.SyncAlways || filepath.Dir(js.StoreDir) != c.DataDir {
		t.Fatalf("JetStream config = %+v", js)
	}
	if !strings.HasPrefix(ns.ClientURL(), "nats://127.0.0.1:") {
		t.Fatalf("client URL %s", ns.ClientURL())
	}
	nc, err := connect(natsconn.Settings{URL: ns.ClientURL()}, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if nc.Opts.Name != connectionName || nc.Opts.MaxReconnect != -1 {
		t.Fatalf("connection options: name %q, max reconnect %d", nc.Opts.Name, nc.Opts.MaxReconnect)
	}
}

// A taken port is reported at once, naming the address.
func TestEmbeddedServerPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := defaultConfig()
	c.NATSListen = l.Addr().String()
	c.DataDir = t.TempDir()
	_, err = startEmbedded(c, discardLogger())
	if err == nil || !strings.Contains(err.Error(), l.Addr().String()) {
		t.Fatalf("err = %v", err)
	}
}

// A NATS URL nobody answers stops start-up; its password is not in the error.
func TestConnectFailureHidesPassword(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = connect(natsconn.Settings{URL: "nats://user:hunter2@" + addr}, discardLogger())
	if err == nil || !strings.HasPrefix(err.Error(), "NATS_URL:") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoggerFormat(t *testing.T) {
	c := defaultConfig()
	var b strings.Builder
	newLogger(&b, c).Info("x")
	if !strings.HasPrefix(b.String(), "{") {
		t.Fatalf("not JSON off a terminal: %q", b.String())
	}
	b.Reset()
	c.LogFormat = "text"
	newLogger(&b, c).Info("x")
	if strings.HasPrefix(b.String(), "{") {
		t.Fatalf("not text: %q", b.String())
	}
	c.LogLevel = slog.LevelError
	if newLogger(io.Discard, c).Enabled(t.Context(), slog.LevelWarn) {
		t.Fatal("level ignored")
	}
}
