package main

import (
	"strings"
	"testing"

	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/record"
)

func TestTTYRendererMarksTheFailedPhase(t *testing.T) {
	var out strings.Builder
	r := newTTYRenderer(&out, &out, clockwork.NewFakeClock())
	r.published("req-1", &jetstream.PubAck{Stream: events.StreamRequests, Sequence: 1})
	r.progress(&journeyView{RequestID: "req-1", Phase: record.PhaseOrder, ProvisionRequestID: "prov-1"})
	r.outcome(&outcome{Kind: kindFailed, RequestID: "req-1",
		Failed: &events.Failed{Stage: events.StageOrder, Code: events.CodeOrderRejected, Message: "no such offering"}})

	final := out.String()[strings.LastIndex(out.String(), "request req-1"):]
	for _, want := range []string{
		markDone + " look-ups", markDone + " provisioning  provision request prov-1", markFailed + " order",
		markPending + " waiting", markPending + " done", markFailed + " failed: order_rejected: no such offering",
	} {
		if !strings.Contains(final, want) {
			t.Errorf("final drawing lacks %q:\n%s", want, final)
		}
	}
	// Each redraw moves the cursor back over the previous block.
	if n := strings.Count(out.String(), "\x1b[6A"); n != 2 {
		t.Errorf("%d redraws over 6 lines, want 2:\n%q", n, out.String())
	}
}
