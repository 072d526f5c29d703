package main

import (
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/record"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

const (
	testOrg     = "2e3b7c1a-5f0d-4a8e-9b6c-1d2e3f4a5b6c"
	testOrderID = "6f1de4c2-0000-4000-8000-000000000001"
)

// waitForRequest waits until a request is on the request stream; a watching installctl is
// positioned on the events stream before it publishes.
func (e *env) waitForRequest(n uint64) {
	e.t.Helper()
	installtest.Eventually(e.t, "the request on "+events.StreamRequests, func() bool { return e.streamMsgs(events.StreamRequests) >= n })
}

// journey plays a journey's states and outcomes as the installer would record and publish them.
func (e *env) journey(id string, fail bool) { e.journeyWatched(id, fail, nil) }

// journeyWatched is journey with a command watching it: after each progress state it waits
// until r has shown that step, so that no state is overwritten before the watch has read it.
func (e *env) journeyWatched(id string, fail bool, r *running) {
	e.t.Helper()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	st := record.State{RequestID: id, Request: &events.Request{OrgID: testOrg}, Status: record.StatusRunning, CreatedAt: now}
	for i, step := range []record.Step{record.StepReceived, record.StepLookedUp, record.StepProvisionAccepted} {
		st.Step, st.UpdatedAt = step, now.Add(time.Duration(i)*time.Second)
		if step == record.StepProvisionAccepted {
			st.ProvisionRequestID = "prov-1"
		}
		e.putJourney(st)
		if r != nil {
			installtest.Eventually(e.t, "step "+string(step)+" shown", func() bool {
				return strings.Contains(r.stdout.String(), string(step))
			})
		}
	}
	if fail {
		f := events.Failed{RequestID: id, OrgID: testOrg, Stage: events.StageOrder, Code: events.CodeOrderRejected,
			Message: "offering unknown", ProvisionRequestID: "prov-1", OrderID: testOrderID}
		st.Step, st.Status, st.Outcome = record.StepDone, record.StatusFailed, &record.Outcome{Type: e.subj.Failed(), Failed: &f}
		e.putJourney(st)
		e.publishOutcome(id, e.subj.Failed(), f)
		return
	}
	st.Step, st.OrderID = record.StepOrdered, testOrderID
	e.putJourney(st)
	e.publishOutcome(id, e.subj.Ordered(), events.Ordered{RequestID: id, OrgID: testOrg, OrderID: testOrderID, Slug: "R-42K-N76-CYQ-ZT6", ProvisionRequestID: "prov-1"})
	p := events.Provisioned{RequestID: id, OrgID: testOrg, OrderID: testOrderID, Slug: "R-42K-N76-CYQ-ZT6",
		ProvisionRequestID: "prov-1", Site: events.NewSiteRef("acme-jira"),
		Entitlements: []events.Entitlement{{OfferingID: "799958b5-36bb-4a3d-9289-9fd2986352a7", EntitlementID: "ent-1", Version: "1"}}}
	st.Step, st.Status, st.Outcome = record.StepDone, record.StatusProvisioned, &record.Outcome{Type: e.subj.Provisioned(), Provisioned: &p}
	e.putJourney(st)
	e.publishOutcome(id, e.subj.Provisioned(), p)
}

func TestRequestWatchPlain(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fail     bool
		wantCode int
		want     []string
	}{
		{name: "provisioned", wantCode: exitOK, want: []string{
			"published to INSTALL_REQUESTS", "look-ups", "provisioning", "order  step provision_accepted",
			"order " + testOrderID + " accepted (slug R-42K-N76-CYQ-ZT6)", "provisioned https://acme-jira.atlassian.net"}},
		{name: "failed", fail: true, wantCode: exitFailed, want: []string{
			"published to INSTALL_REQUESTS", "failed at order: order_rejected: offering unknown"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			id := "watch-" + tc.name
			r := e.start(validRequest, "request", "-", "--id", id, "--watch")
			e.waitForRequest(1)
			e.journeyWatched(id, tc.fail, r)
			e.publishOutcome("someone-else", e.subj.Failed(), events.Failed{RequestID: "someone-else", Code: events.CodeAPIError})
			res := r.wait(t)
			if res.code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stdout:\n%s\nstderr:\n%s", res.code, tc.wantCode, res.stdout, res.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, res.stdout)
				}
			}
			for _, l := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
				if !strings.Contains(l, "  "+id+"  ") {
					t.Errorf("line %q does not name the request", l)
				}
			}
		})
	}
}

func TestRequestWatchJSON(t *testing.T) {
	e := setup(t)
	id := "watch-json"
	r := e.start(validRequest, "request", "-", "--id", id, "--watch", "--json")
	e.waitForRequest(1)
	e.journeyWatched(id, true, r)
	res := r.wait(t)
	if res.code != exitFailed {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitFailed, res.stderr)
	}
	lines := jsonLines(t, res.stdout)
	if lines[0]["kind"] != "published" || lines[0]["requestId"] != id {
		t.Errorf("first line %v, want published %s", lines[0], id)
	}
	last := lines[len(lines)-1]
	data, _ := last["data"].(map[string]any)
	if last["kind"] != "failed" || data["code"] != events.CodeOrderRejected || data["message"] != "offering unknown" {
		t.Errorf("last line %v, want the failed event with its code and message", last)
	}
	var progress int
	for _, l := range lines {
		if l["kind"] == "progress" {
			progress++
			if _, ok := l["journey"].(map[string]any); !ok || l["phase"] == "" {
				t.Errorf("progress line %v lacks phase or journey", l)
			}
		}
	}
	if progress == 0 {
		t.Errorf("no progress lines in:\n%s", res.stdout)
	}
}

func TestRequestWatchTerminal(t *testing.T) {
	e := setup(t)
	e.tty = true
	id := "watch-tty"
	r := e.start(validRequest, "request", "-", "--id", id, "--watch")
	e.waitForRequest(1)
	e.journey(id, false)
	res := r.wait(t)
	if res.code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, "\x1b[") {
		t.Errorf("no cursor movement on a terminal:\n%q", res.stdout)
	}
	// The last drawing shows every phase done and the outcome.
	final := res.stdout[strings.LastIndex(res.stdout, "request "+id):]
	for p := record.PhaseLookup; p <= record.PhaseDone; p++ {
		if !strings.Contains(final, markDone+" "+p.String()) {
			t.Errorf("final drawing does not show %q done:\n%s", p, final)
		}
	}
	if !strings.Contains(final, "provisioned https://acme-jira.atlassian.net") {
		t.Errorf("final drawing lacks the outcome:\n%s", final)
	}
}

func TestRequestWatchTerminalShowsPhaseElapsed(t *testing.T) {
	e := setup(t)
	e.tty = true
	e.clock = clockwork.NewFakeClock()
	id := "watch-elapsed"
	r := e.start(validRequest, "request", "-", "--id", id, "--watch")
	e.waitForRequest(1)
	e.putJourney(record.State{RequestID: id, Request: &events.Request{OrgID: testOrg}, Status: record.StatusRunning,
		Step: record.StepLookedUp, UpdatedAt: e.clock.Now()})
	current := markCurrent + " provisioning  "
	installtest.Eventually(t, "provisioning shown in progress", func() bool { return strings.Contains(r.stdout.String(), current+"0s") })

	// No event arrives while the phase waits: the display's ticker alone redraws it.
	e.clock.Advance(90 * time.Second)
	installtest.Eventually(t, "the elapsed time redrawn", func() bool { return strings.Contains(r.stdout.String(), current+"1m30s") })

	e.journey(id, false)
	res := r.wait(t)
	if res.code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", res.code, res.stderr)
	}
	if final := res.stdout[strings.LastIndex(res.stdout, "request "+id):]; strings.Contains(final, "1m30s") {
		t.Errorf("the final drawing still counts time:\n%s", final)
	}
}

func TestRequestWatchTimeout(t *testing.T) {
	e := setup(t)
	res := e.run(validRequest, "request", "-", "--watch", "--timeout", "100ms")
	if res.code != exitTimeout {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitTimeout, res.stderr)
	}
	if !strings.Contains(res.stdout, "no terminal event within 100ms") {
		t.Errorf("output does not say it timed out:\n%s", res.stdout)
	}
}

func TestRequestWatchDuplicateFindsEarlierOutcome(t *testing.T) {
	e := setup(t)
	id := "watch-dup"
	if res := e.run(validRequest, "request", "-", "--id", id); res.code != exitOK {
		t.Fatalf("first publish: %d %s", res.code, res.stderr)
	}
	e.journey(id, false)
	res := e.run(validRequest, "request", "-", "--id", id, "--watch")
	if res.code != exitOK || !strings.Contains(res.stdout, "already published") || !strings.Contains(res.stdout, "provisioned https://") {
		t.Errorf("exit code %d, output:\n%s", res.code, res.stdout)
	}
}

func TestWatchAllRequests(t *testing.T) {
	e := setup(t)
	e.journey("before", true)

	r := e.startWatching("watch")
	e.journey("one", false)
	e.journey("two", true)
	installtest.Eventually(t, "both outcomes", func() bool { return strings.Count(r.stdout.String(), "\n") >= 3 })
	r.cancel()
	res := r.wait(t)
	if res.code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", res.code, res.stderr)
	}
	if strings.Contains(res.stdout, "before") {
		t.Errorf("a new-only watch showed an earlier event:\n%s", res.stdout)
	}
	for _, w := range []string{"  one  order", "  one  provisioned", "  two  failed at order"} {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, res.stdout)
		}
	}

	res = e.run("", "watch", "--all", "--json", "--timeout", "200ms")
	if res.code != exitOK {
		t.Fatalf("--all: exit code %d; stderr:\n%s", res.code, res.stderr)
	}
	lines := jsonLines(t, res.stdout)
	if len(lines) != 4 || lines[0]["requestId"] != "before" || lines[3]["requestId"] != "two" {
		t.Errorf("--all replayed %d events:\n%s", len(lines), res.stdout)
	}
}

func TestWatchOneRequest(t *testing.T) {
	e := setup(t)
	e.journey("other", true)
	e.journey("mine", false)

	res := e.run("", "watch", "mine", "--all")
	if res.code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", res.code, res.stderr)
	}
	if strings.Contains(res.stdout, "other") || !strings.Contains(res.stdout, "provisioned https://acme-jira.atlassian.net") {
		t.Errorf("output:\n%s", res.stdout)
	}

	res = e.run("", "watch", "other", "--since", "1h", "--json")
	if res.code != exitFailed {
		t.Fatalf("failed request: exit code %d, want %d", res.code, exitFailed)
	}

	res = e.run("", "watch", "mine")
	if res.code != exitOK || !strings.Contains(res.stdout, "provisioned https://acme-jira.atlassian.net") || !strings.Contains(res.stdout, "(ended before this watch began)") {
		t.Errorf("new-only watch of a finished request: code %d, output:\n%s", res.code, res.stdout)
	}

	r := e.startWatching("watch", "later")
	e.journey("later", true)
	if res := r.wait(t); res.code != exitFailed || !strings.Contains(res.stdout, "order_rejected") {
		t.Errorf("new-only watch of one request: code %d, output:\n%s", res.code, res.stdout)
	}
}

func TestWatchBadSince(t *testing.T) {
	e := setup(t)
	if res := e.run("", "watch", "--since", "yesterday"); res.code != exitInvalid || !strings.Contains(res.stderr, "--since") {
		t.Errorf("exit code %d, stderr %q", res.code, res.stderr)
	}
	if res := e.run("", "watch", "--since", "1h", "--all"); res.code != exitInvalid {
		t.Errorf("--since with --all: exit code %d, stderr %q", res.code, res.stderr)
	}
}
