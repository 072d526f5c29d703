package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/procurement/atlassian-installer/events"
)

func (e *env) deadLetter(body string, h nats.Header, reason string) {
	e.t.Helper()
	p := events.NewPublisher(e.js, e.subj, "urn:test")
	if err := p.DeadLetter(e.ctx, h, []byte(body), reason); err != nil {
		e.t.Fatalf("dead letter: %v", err)
	}
}

func TestDeadLetter(t *testing.T) {
	e := setup(t)
	e.deadLetter("not a cloud event", nats.Header{"X-Sender": {"erp"}, "Nats-Msg-Id": {"m-1"}}, "no ce-specversion header")
	e.deadLetter("\xff\xfe binary", nil, "body is not JSON")

	t.Run("list", func(t *testing.T) {
		res := e.run("", "deadletter", "list")
		lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
		if res.code != exitOK || len(lines) != 3 || !strings.Contains(lines[1], "no ce-specversion header") || !strings.HasPrefix(lines[2], "2 ") {
			t.Fatalf("code %d, table:\n%s\n%s", res.code, res.stdout, res.stderr)
		}
		res = e.run("", "dlq", "list", "--json")
		var dls []deadLetter
		if err := json.Unmarshal([]byte(res.stdout), &dls); err != nil || len(dls) != 2 || dls[1].Reason != "body is not JSON" {
			t.Errorf("--json: %v %s", err, res.stdout)
		}
	})
	t.Run("show", func(t *testing.T) {
		res := e.run("", "deadletter", "show", "1")
		for _, w := range []string{"Sequence:", "Installer-Error:", "no ce-specversion header", "X-Sender:", "erp", "\nnot a cloud event\n"} {
			if !strings.Contains(res.stdout, w) {
				t.Errorf("show lacks %q:\n%s", w, res.stdout)
			}
		}
		res = e.run("", "deadletter", "show", "2", "--json")
		var d deadLetter
		if err := json.Unmarshal([]byte(res.stdout), &d); err != nil || d.DataBase64 == "" || d.Data != nil {
			t.Errorf("binary body: %v %s", err, res.stdout)
		}
		if res := e.run("", "deadletter", "show", "9"); res.code != exitFailed || !strings.Contains(res.stderr, "no dead letter with sequence 9") {
			t.Errorf("missing: code %d, stderr %q", res.code, res.stderr)
		}
		if res := e.run("", "deadletter", "show", "x"); res.code != exitInvalid {
			t.Errorf("bad SEQ: code %d", res.code)
		}
	})
	t.Run("replay", func(t *testing.T) {
		res := e.run("", "deadletter", "replay", "1", "--delete", "--force")
		if res.code != exitOK || !strings.Contains(res.stdout, "replayed dead letter 1") {
			t.Fatalf("code %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
		}
		s, err := e.js.Stream(e.ctx, events.StreamRequests)
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.GetMsg(e.ctx, 1)
		if err != nil {
			t.Fatalf("nothing replayed: %v", err)
		}
		if string(m.Data) != "not a cloud event" || m.Subject != e.subj.Requested() {
			t.Errorf("replayed %q on %s", m.Data, m.Subject)
		}
		if m.Header.Get(events.HeaderError) != "" || m.Header.Get("X-Sender") != "erp" || m.Header.Get("Nats-Msg-Id") != "m-1" {
			t.Errorf("replayed headers %v: want the original ones without %s", m.Header, events.HeaderError)
		}
		if n := e.streamMsgs(events.StreamDeadLetter); n != 1 {
			t.Errorf("%d dead letters after replay --delete, want 1", n)
		}
	})
}
