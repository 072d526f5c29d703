package main

import (
	"strings"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// finish advances the fake clock until the command ends, as time would pass for a person
// watching a journey.
func finish(t *testing.T, r *running, clock *clockwork.FakeClock) result {
	t.Helper()
	var res result
	ended := false
	defer func() {
		if !ended { // timed out: show how far it came
			t.Logf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		}
	}()
	installtest.EventuallyAdvancing(t, clock, installtest.Step, "installctl to end", func() bool {
		select {
		case code := <-r.done:
			res, ended = result{code: code, stdout: r.stdout.String(), stderr: r.stderr.String()}, true
			return true
		default:
			return false
		}
	})
	return res
}

func TestEndToEndWithInstaller(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fault    *atlassiantest.Fault
		wantCode int
		want     []string
	}{
		// The journey's last state and its terminal event travel on different streams, so the
		// watch may end on the event before it shows the "done" state; status shows it below.
		{name: "provisioned", wantCode: exitOK,
			want: []string{"look-ups", "provisioning", "order", "waiting", "accepted (slug", "provisioned https://acme-jira.atlassian.net"}},
		{name: "failed", fault: &atlassiantest.Fault{ProvisionFails: true}, wantCode: exitFailed,
			want: []string{"failed at provision: " + events.CodeProvisionFailed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			sandbox := e.world.Sandbox
			if tc.fault != nil {
				sandbox.SetFault(atlassiantest.EndpointProvisionProducts, *tc.fault)
			}
			e.world.StartDefault()

			r := e.start(validRequest, "request", "-", "--watch")
			res := finish(t, r, e.world.Clock)
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
