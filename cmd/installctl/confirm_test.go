package main

import (
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/procurement/atlassian-installer/events"
)

// replay --delete removes dead letters only when confirmed: by --force, or by "y" on a
// terminal; without a terminal it refuses and does nothing, and "n" cancels.
func TestDeadLetterDeleteConfirmation(t *testing.T) {
	e := setup(t)
	e.deadLetter("not a cloud event", nats.Header{"Nats-Msg-Id": {"m-1"}}, "no ce-specversion header")
	requests := func() uint64 { return e.streamMsgs(events.StreamRequests) }

	res := e.run("", "deadletter", "replay", "1", "--delete")
	if res.code != exitFailed || !strings.Contains(res.stderr, "refused without --force") {
		t.Fatalf("non-interactive without --force: code %d, stderr %q", res.code, res.stderr)
	}
	e.stdinTTY = true
	res = e.run("n\n", "deadletter", "replay", "1", "--delete")
	if res.code != exitFailed || !strings.Contains(res.stderr, "replay and delete dead letters 1? [y/N]") || !strings.Contains(res.stderr, "cancelled") {
		t.Fatalf("answered no: code %d, stderr %q", res.code, res.stderr)
	}
	if n, r := e.streamMsgs(events.StreamDeadLetter), requests(); n != 1 || r != 0 {
		t.Fatalf("unconfirmed: %d dead letters, %d replayed", n, r)
	}
	res = e.run("y\n", "deadletter", "replay", "1", "--delete")
	if res.code != exitOK || e.streamMsgs(events.StreamDeadLetter) != 0 || requests() != 1 {
		t.Fatalf("answered yes: code %d, stderr %q", res.code, res.stderr)
	}
}

// Every delete of the api asks too.
func TestAPIDeleteConfirmation(t *testing.T) {
	e := setup(t)
	e.environ["ATLASSIAN_API_URL"] = e.world.Sandbox.URL
	e.environ["ATLASSIAN_API_KEY"] = "atlassiantest-api-key"
	e.environ["ATLASSIAN_CLOUD_ID"] = "cloud-1"
	res := e.run("", "api", "csm", "fields", "delete", "Grade")
	if res.code != exitFailed || !strings.Contains(res.stderr, "api csm fields delete Grade: refused without --force") {
		t.Fatalf("code %d, stderr %q", res.code, res.stderr)
	}
	for _, r := range e.world.Sandbox.Requests() {
		if r.Method == "DELETE" {
			t.Fatalf("a DELETE was sent: %v", r)
		}
	}
}
