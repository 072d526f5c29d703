package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/procurement/atlassian-installer/handlers"
)

func TestStatusAndList(t *testing.T) {
	e := setup(t)
	e.journey("ok-1", false)
	e.journey("bad-1", true)
	e.journey("bad-2", true)
	long := strings.Repeat("x", 30) + ":not/a:plain/key"
	e.journey(long, false)

	t.Run("status", func(t *testing.T) {
		res := e.run("", "status", "bad-1")
		if res.code != exitOK {
			t.Fatalf("exit code %d; stderr:\n%s", res.code, res.stderr)
		}
		for _, w := range []string{"Request:", "bad-1", "Status:", "failed", "Order:", testOrderID, "order_rejected: offering unknown"} {
			if !strings.Contains(res.stdout, w) {
				t.Errorf("status lacks %q:\n%s", w, res.stdout)
			}
		}
	})
	t.Run("status --json of a long id", func(t *testing.T) {
		res := e.run("", "status", long, "--json")
		var st handlers.State
		if err := json.Unmarshal([]byte(res.stdout), &st); err != nil || st.RequestID != long || st.Status != handlers.StatusProvisioned {
			t.Fatalf("code %d, state %+v, err %v, stdout %s", res.code, st, err, res.stdout)
		}
	})
	t.Run("status of an unknown request", func(t *testing.T) {
		res := e.run("", "status", "nope")
		if res.code != exitFailed || !strings.Contains(res.stderr, `no journey for request "nope"`) {
			t.Errorf("code %d, stderr %q", res.code, res.stderr)
		}
	})
	t.Run("list", func(t *testing.T) {
		res := e.run("", "list")
		lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
		if res.code != exitOK || len(lines) != 5 || !strings.HasPrefix(lines[0], "REQUEST ID") {
			t.Fatalf("code %d, table:\n%s", res.code, res.stdout)
		}
	})
	t.Run("list --state failed", func(t *testing.T) {
		res := e.run("", "list", "--state", "failed")
		if strings.Contains(res.stdout, "ok-1") || !strings.Contains(res.stdout, "bad-1") || !strings.Contains(res.stdout, "bad-2") {
			t.Errorf("table:\n%s", res.stdout)
		}
	})
	t.Run("list --state provisioned --json", func(t *testing.T) {
		res := e.run("", "list", "--state", "PROVISIONED", "--json")
		var sts []handlers.State
		if err := json.Unmarshal([]byte(res.stdout), &sts); err != nil {
			t.Fatalf("%v: %s", err, res.stdout)
		}
		if len(sts) != 2 {
			t.Errorf("%d journeys, want 2: %s", len(sts), res.stdout)
		}
	})
}

func TestListWithoutBucketExplains(t *testing.T) {
	e := setup(t)
	if err := e.js.DeleteKeyValue(e.ctx, handlers.DefaultBucket); err != nil {
		t.Fatal(err)
	}
	res := e.run("", "list")
	if res.code != exitFailed || !strings.Contains(res.stderr, "the installer creates it") {
		t.Errorf("code %d, stderr %q", res.code, res.stderr)
	}
}
