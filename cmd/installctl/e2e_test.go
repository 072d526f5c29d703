package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
)

// startInstaller runs the real installer against the test's NATS server and a sandbox, both on
// a fake clock that the test advances.
func (e *env) startInstaller(clock *clockwork.FakeClock, sandbox *atlassiantest.Server) {
	e.t.Helper()
	c, err := client.NewClient(client.WithBaseURL(sandbox.URL), client.WithAPIKey(atlassiantest.DefaultAPIKey),
		client.WithClock(clock), client.WithRetry(8, 2*time.Second))
	if err != nil {
		e.t.Fatal(err)
	}
	in, err := handlers.NewInstaller(e.js,
		handlers.API{Installations: c.Installations, Commerce: c.Commerce, Workspaces: c.Workspaces},
		handlers.Config{Clock: clock, PollInterval: time.Second, MaxPollInterval: 4 * time.Second,
			DrainTimeout: 5 * time.Second, APIBaseURL: sandbox.URL})
	if err != nil {
		e.t.Fatalf("NewInstaller: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				e.t.Errorf("installer: %v", err)
			}
		case <-time.After(waitTimeout):
			e.t.Errorf("installer did not stop within %s", waitTimeout)
		}
	})
	eventually(e.t, "installer ready", in.Ready)
}

// finish advances the fake clock until the command ends, as time would pass for a person
// watching a journey.
func finish(t *testing.T, r *running, clock *clockwork.FakeClock) result {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case code := <-r.done:
			return result{code: code, stdout: r.stdout.String(), stderr: r.stderr.String()}
		case <-tick.C:
			if time.Now().After(deadline) {
				t.Fatalf("installctl did not end within %s; stdout:\n%s\nstderr:\n%s", waitTimeout, r.stdout, r.stderr)
			}
			clock.Advance(500 * time.Millisecond)
		}
	}
}

func TestEndToEndWithInstaller(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fault    *atlassiantest.Fault
		wantCode int
		want     []string
	}{
		{name: "provisioned", wantCode: exitOK,
			want: []string{"look-ups", "provisioning", "order", "waiting", "done", "accepted (slug", "provisioned https://acme-jira.atlassian.net"}},
		{name: "failed", fault: &atlassiantest.Fault{ProvisionFails: true}, wantCode: exitFailed,
			want: []string{"failed at provision: " + events.CodeProvisionFailed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			clock := clockwork.NewFakeClockAt(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC))
			sandbox := atlassiantest.NewServer(atlassiantest.WithClock(clock))
			t.Cleanup(sandbox.Close)
			if tc.fault != nil {
				sandbox.SetFault(atlassiantest.EndpointProvisionProducts, *tc.fault)
			}
			e.startInstaller(clock, sandbox)

			r := e.start(validRequest, "request", "-", "--watch")
			res := finish(t, r, clock)
			if res.code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stdout:\n%s\nstderr:\n%s", res.code, tc.wantCode, res.stdout, res.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, res.stdout)
				}
			}
			id := strings.Fields(res.stdout)[1]
			if st := e.run("", "status", id); st.code != exitOK || !strings.Contains(st.stdout, "done") {
				t.Errorf("status after the journey: %d\n%s%s", st.code, st.stdout, st.stderr)
			}
			if n := len(sandbox.Orders()); n != 1 {
				t.Errorf("%d orders placed, want 1", n)
			}
		})
	}
}
