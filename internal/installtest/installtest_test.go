package installtest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/jonboulle/clockwork"

	"github.com/procurement/atlassian-installer/internal/installtest"
)

// Waits that advance the clock let a timer the code under test set up fire.
func TestEventuallyAdvancingMovesTheClock(t *testing.T) {
	clock := clockwork.NewFakeClockAt(installtest.Epoch)
	fired := clock.After(time.Minute)
	installtest.EventuallyAdvancing(t, clock, installtest.Step, "the timer", func() bool {
		select {
		case <-fired:
			return true
		default:
			return false
		}
	})
	if got := clock.Since(installtest.Epoch); got < time.Minute {
		t.Errorf("clock advanced %s, want at least a minute", got)
	}
}

// Many goroutines write to a LogBuffer while it is read; the race detector watches.
func TestLogBufferConcurrent(t *testing.T) {
	var b installtest.LogBuffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { fmt.Fprintf(&b, "line %d\n", i) })
		_ = b.String()
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 8 {
		t.Errorf("%d lines, want 8", n)
	}
}

// A request published in binary mode comes back decoded from the stream.
func TestPublishAndRead(t *testing.T) {
	e := installtest.New(t)
	e.StartDefault()
	e.Publish("req-1", map[string]any{"hello": "world"}) // not a valid request: it fails
	term := e.Terminal("req-1")
	if term.Type != installtest.Subjects.Failed() || term.Event == nil || term.Data["requestId"] != "req-1" {
		t.Fatalf("%s %v", term.Type, term.Data)
	}
	e.Settled()
	if n := len(installtest.Of(e.Outcomes(), "req-1")); n != 1 {
		t.Errorf("%d events for req-1", n)
	}
}

// CheckOutcome, which every outcome a test reads goes through, refuses an event whose data
// breaks its schema or whose dataschema does not name it.
func TestCheckOutcome(t *testing.T) {
	e := installtest.New(t)
	e.StartDefault()
	e.Publish("req-1", map[string]any{"hello": "world"})
	good := e.Terminal("req-1")
	if err := installtest.CheckOutcome(good.Header, good.Raw); err != nil {
		t.Fatalf("the installer's own failed event: %v", err)
	}

	ev := good.Event.Clone()
	if err := ev.SetData(cloudevents.ApplicationJSON, map[string]any{"requestId": "req-1", "code": "oops"}); err != nil {
		t.Fatal(err)
	}
	m := installtest.BinaryMsg(t, good.Type, &ev)
	if err := installtest.CheckOutcome(m.Header, m.Data); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Errorf("data without stage, message, retryable and with an unknown code: %v", err)
	}

	ev = good.Event.Clone()
	ev.SetDataSchema("")
	m = installtest.BinaryMsg(t, good.Type, &ev)
	if err := installtest.CheckOutcome(m.Header, m.Data); err == nil || !strings.Contains(err.Error(), "dataschema") {
		t.Errorf("no dataschema: %v", err)
	}
}
