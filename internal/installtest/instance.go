package installtest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/handlers"
)

// Instance is an Installer running in its own goroutine, as one process of the service.
type Instance struct {
	*handlers.Installer
	cancel context.CancelFunc
	done   chan struct{}
	err    error // Run's, once done is closed
	ended  bool  // Wait returned: a later Stop has nothing to do
}

// Start runs an installer on js until the test ends or Stop is called, and returns once it
// is ready. js is usually e.JS; a test that kills a process gives it a connection of its own.
func (e *Env) Start(js jetstream.JetStream, api handlers.API, cfg handlers.Config) *Instance {
	e.T.Helper()
	in, err := handlers.NewInstaller(js, api, cfg)
	if err != nil {
		e.T.Fatalf("NewInstaller: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	i := &Instance{Installer: in, cancel: cancel, done: make(chan struct{})}
	go func() {
		i.err = in.Run(ctx)
		close(i.done)
	}()
	e.T.Cleanup(func() { i.Stop(e.T) })
	e.Eventually("installer ready", in.Ready)
	return i
}

// StartDefault starts an installer with the Env's connection, client and Config.
func (e *Env) StartDefault() *Instance {
	return e.Start(e.JS, handlers.ClientAPI(e.Client), e.Config())
}

// Stop ends Run as a signal would and waits for the drain; an error of Run fails the test.
// Stopping again, or after Wait, does nothing.
func (i *Instance) Stop(t testing.TB) {
	t.Helper()
	if i.ended {
		return
	}
	i.cancel()
	if err := i.Wait(t); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// Wait waits, at most Timeout, for Run to return by itself, as after a crash, and returns
// its error.
func (i *Instance) Wait(t testing.TB) error {
	t.Helper()
	select {
	case <-i.done:
		i.ended = true
		i.cancel()
		return i.err
	case <-time.After(Timeout):
		t.Fatalf("installer did not stop within %s", Timeout)
		return nil
	}
}
