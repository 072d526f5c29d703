package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/record"
	"github.com/procurement/atlassian-installer/internal/installtest"
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
		var st record.State
		if err := json.Unmarshal([]byte(res.stdout), &st); err != nil || st.RequestID != long || st.Status != record.StatusProvisioned {
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
		var sts []record.State
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
	if err := e.js.DeleteKeyValue(e.ctx, record.DefaultBucket); err != nil {
		t.Fatal(err)
	}
	res := e.run("", "list")
	if res.code != exitFailed || !strings.Contains(res.stderr, "the installer creates it") {
		t.Errorf("code %d, stderr %q", res.code, res.stderr)
	}
}

// TestStatusAfterTheJourneyExpired: once a finished journey's state has expired from
// INSTALL_JOURNEYS (retention of a second here), status shows its compact record from
// INSTALL_FINISHED, what it still knows, and says that the full record expired.
func TestStatusAfterTheJourneyExpired(t *testing.T) {
	e := setup(t)
	// The installer creates the journey bucket with per-key TTLs; setup's has none.
	if err := e.js.DeleteKeyValue(e.ctx, record.DefaultBucket); err != nil {
		t.Fatal(err)
	}
	cfg := e.world.Config()
	cfg.JourneyRetention, cfg.DuplicateHorizon = time.Second, time.Hour
	e.world.Start(e.js, handlers.ClientAPI(e.world.Client), cfg)
	var req map[string]any
	if err := json.Unmarshal([]byte(validRequest), &req); err != nil {
		t.Fatal(err)
	}
	id := "expired-1"
	e.world.Publish(id, req)
	term := e.world.Terminal(id)
	if term.Type != e.subj.Provisioned() {
		t.Fatalf("%s %v", term.Type, term.Data)
	}
	orderID := term.Data["orderId"].(string)
	installtest.EventuallyWithin(t, 30*time.Second, "the journey's state expired", func() bool {
		_, err := e.kv.Get(e.ctx, record.Key(id))
		return errors.Is(err, jetstream.ErrKeyNotFound)
	})

	res := e.run("", "status", id)
	if res.code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", res.code, res.stderr)
	}
	for _, w := range []string{id, "provisioned", orderID, "Completed:", "the full record expired"} {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("status lacks %q:\n%s", w, res.stdout)
		}
	}
	res = e.run("", "status", id, "--json")
	var st record.State
	if err := json.Unmarshal([]byte(res.stdout), &st); err != nil || res.code != exitOK || st.RequestID != id ||
		st.Status != record.StatusProvisioned || st.OrderID != orderID || st.CompletedAt.IsZero() {
		t.Fatalf("code %d, state %+v, err %v, stdout %s", res.code, st, err, res.stdout)
	}
	if !strings.Contains(res.stderr, "the full record expired") {
		t.Errorf("--json: stderr %q does not say the full record expired", res.stderr)
	}
}
