package handlers_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// runAsync runs in until the test ends, returning Run's result on the channel.
func runAsync(t *testing.T, in *handlers.Installer) (context.CancelFunc, chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
			done <- nil
		case <-time.After(installtest.Timeout):
			t.Errorf("Run did not return")
		}
	})
	return cancel, done
}

// startServerOn starts a NATS server on a given loopback port, with or without JetStream.
func startServerOn(t *testing.T, port int, jetStream bool, users []*server.User) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: port, JetStream: jetStream, StoreDir: t.TempDir(),
		Users: users, NoLog: true, NoSigs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(installtest.Timeout) {
		t.Fatal("server not ready")
	}
	return s
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestRunWaitsForJetStream starts an installer on a server whose JetStream does not
// answer yet (no responders, as on a cluster node still starting): it keeps trying, on its
// clock, logging each attempt and not ready, and consumes once JetStream answers, without
// being restarted.
func TestRunWaitsForJetStream(t *testing.T) {
	e := installtest.New(t)
	port := freePort(t)
	plain := startServerOn(t, port, false, nil)
	nc, err := nats.Connect(plain.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var logs installtest.LogBuffer
	cfg := e.Config()
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	in, err := handlers.NewInstaller(js, handlers.ClientAPI(e.Client), cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, done := runAsync(t, in)

	installtest.EventuallyAdvancing(t, e.Clock, time.Second, "three attempts to set up", func() bool {
		return strings.Count(logs.String(), "JetStream not ready") >= 3
	})
	select {
	case err := <-done:
		done <- err
		t.Fatalf("Run returned while JetStream was not ready: %v", err)
	default:
	}
	if in.Ready() {
		t.Error("ready before JetStream answered")
	}

	plain.Shutdown()
	plain.WaitForShutdown()
	startServerOn(t, port, true, nil)
	installtest.EventuallyAdvancing(t, e.Clock, time.Second, "the installer consuming", in.Ready)
	if _, err := js.Stream(context.Background(), "INSTALL_REQUESTS"); err != nil {
		t.Errorf("requests stream: %v", err)
	}
}

// TestRunFailsAtOnceOnPermanentSetupErrors: what no retry can mend ends Run at once, with
// an error naming it.
func TestRunFailsAtOnceOnPermanentSetupErrors(t *testing.T) {
	t.Run("overlapping subjects", func(t *testing.T) {
		e := installtest.New(t)
		if _, err := e.JS.CreateStream(context.Background(), jetstream.StreamConfig{
			Name: "EVERYTHING", Subjects: []string{"atlassian.>"},
		}); err != nil {
			t.Fatal(err)
		}
		in, err := handlers.NewInstaller(e.JS, handlers.ClientAPI(e.Client), e.Config())
		if err != nil {
			t.Fatal(err)
		}
		_, done := runAsync(t, in)
		err = waitRun(t, done)
		if err == nil || !strings.Contains(err.Error(), "overlap") || !strings.Contains(err.Error(), "INSTALL_REQUESTS") {
			t.Errorf("Run: %v, want an error naming the stream and the overlap", err)
		}
	})
	t.Run("permission denied", func(t *testing.T) {
		e := installtest.New(t)
		s := startServerOn(t, -1, true, []*server.User{{
			Username: "installer", Password: "pw",
			Permissions: &server.Permissions{Publish: &server.SubjectPermission{Deny: []string{"$JS.API.>"}}},
		}})
		nc, err := nats.Connect(s.ClientURL(), nats.UserInfo("installer", "pw"), nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		// A refused request is never answered: it ends at the API timeout.
		js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(200*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		in, err := handlers.NewInstaller(js, handlers.ClientAPI(e.Client), e.Config())
		if err != nil {
			t.Fatal(err)
		}
		_, done := runAsync(t, in)
		err = waitRun(t, done)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "INSTALL_REQUESTS") {
			t.Errorf("Run: %v, want the timed-out stream look-up", err)
		}
	})
}

// waitRun waits for Run to return by itself, the clock held still: a permanent error
// needs no retry wait.
func waitRun(t *testing.T, done chan error) error {
	t.Helper()
	select {
	case err := <-done:
		done <- err // for the cleanup
		return err
	case <-time.After(installtest.Timeout):
		t.Fatal("Run still running: a permanent error was retried")
		return nil
	}
}
