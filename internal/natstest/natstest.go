// Package natstest runs a real, single-node NATS server with JetStream for tests.
//
// The server stores under t.TempDir(), listens on 127.0.0.1 with a random port, and the client
// connects over TCP, so tests exercise the same network path as production (the in-process
// connection option is known to stall Consume).
package natstest

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// readyTimeout bounds how long a test waits for the embedded server to accept connections.
const readyTimeout = 10 * time.Second

// RunServer starts an embedded JetStream server and connects to it. The server, connection and
// store are cleaned up when the test ends.
func RunServer(t testing.TB) (*server.Server, *nats.Conn, jetstream.JetStream) {
	t.Helper()
	s := StartServer(t)
	nc, js := Connect(t, s)
	return s, nc, js
}

// StartServer starts an embedded JetStream server alone, for tests that connect several clients
// or restart the connection. It is shut down when the test ends.
func StartServer(t testing.TB) *server.Server {
	t.Helper()
	return StartServerWithStore(t, t.TempDir())
}

// StartServerWithStore starts an embedded JetStream server on the given store directory, so a
// test can stop a server and start another on the same data, as after a crash.
func StartServerWithStore(t testing.TB, storeDir string) *server.Server {
	t.Helper()
	return startServer(t, storeDir, nil)
}

func startServer(t testing.TB, storeDir string, configure func(*server.Options)) *server.Server {
	t.Helper()
	opts := &server.Options{
		ServerName: "natstest",
		Host:       "127.0.0.1",
		Port:       -1,
		JetStream:  true,
		StoreDir:   storeDir,
		NoLog:      true,
		NoSigs:     true,
	}
	if configure != nil {
		configure(opts)
	}
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("natstest: new server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(readyTimeout) {
		s.Shutdown()
		t.Fatalf("natstest: server not ready within %s", readyTimeout)
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// Connect opens a TCP connection and a JetStream context to s, closed when the test ends.
func Connect(t testing.TB, s *server.Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	return Dial(t, s.ClientURL())
}

// Dial is Connect to a server the test knows only by URL, such as the embedded server of an
// installer process under test.
func Dial(t testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, nats.Name("natstest"))
	if err != nil {
		t.Fatalf("natstest: connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("natstest: jetstream: %v", err)
	}
	return nc, js
}

// StartServerWith starts an embedded JetStream server as StartServer does, with its options
// changed by configure first (TLS, users), for tests of how clients authenticate.
func StartServerWith(t testing.TB, configure func(*server.Options)) *server.Server {
	t.Helper()
	return startServer(t, t.TempDir(), configure)
}
