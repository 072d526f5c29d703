package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/handlers/record"
)

// ttyRenderer redraws a small block in place: one line per phase, marked done, current,
// failed or pending, the current phase with the time it has taken so far, and the outcome
// underneath.
type ttyRenderer struct {
	w, errw   io.Writer
	clock     clockwork.Clock
	requestID string
	reached   record.Phase // the phase in progress
	since     time.Time    // when the display saw the phase in progress begin
	failed    bool         // the journey failed, in phase failedAt
	failedAt  record.Phase
	detail    [record.PhaseDone + 1]string
	result    string // the terminal line
	drawn     int    // lines drawn last time, to move the cursor back over them
}

func newTTYRenderer(w, errw io.Writer, clock clockwork.Clock) *ttyRenderer {
	return &ttyRenderer{w: w, errw: errw, clock: clock}
}

// refreshEvery is how often the elapsed time of the phase in progress is redrawn.
const refreshEvery = time.Second

const (
	markDone    = "✔"
	markCurrent = "▸"
	markFailed  = "✘"
	markPending = "·"
)

func (r *ttyRenderer) draw() {
	var b strings.Builder
	if r.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", r.drawn) // back to the top of the block
	}
	lines := []string{fmt.Sprintf("request %s", r.requestID)}
	for p := record.PhaseLookup; p <= record.PhaseDone; p++ {
		text := r.detail[p]
		if p == r.reached && r.running() {
			text = r.clock.Since(r.since).Round(time.Second).String() + "  " + text
		}
		lines = append(lines, strings.TrimRight(fmt.Sprintf("  %s %-13s %s", r.mark(p), p, text), " "))
	}
	if r.result != "" {
		lines = append(lines, r.result)
	}
	for _, l := range lines {
		b.WriteString("\x1b[2K") // clear what an earlier, longer line left
		b.WriteString(l)
		b.WriteByte('\n')
	}
	r.drawn = len(lines)
	io.WriteString(r.w, b.String())
}

// mark is the symbol in front of phase p.
func (r *ttyRenderer) mark(p record.Phase) string {
	switch {
	case r.failed && p == r.failedAt:
		return markFailed
	case r.failed && p > r.failedAt:
		return markPending
	case p < r.reached, r.reached == record.PhaseDone, r.failed:
		return markDone
	case p == r.reached:
		return markCurrent
	}
	return markPending
}

// running reports whether a phase is still in progress, its time counting.
func (r *ttyRenderer) running() bool {
	return !r.failed && r.reached < record.PhaseDone && r.result == ""
}

func (r *ttyRenderer) ticker() clockwork.Ticker { return r.clock.NewTicker(refreshEvery) }

func (r *ttyRenderer) refresh() {
	if r.running() {
		r.draw()
	}
}

func (r *ttyRenderer) published(requestID string, ack *jetstream.PubAck) {
	r.requestID = requestID
	r.advance(record.PhaseLookup)
	if ack.Duplicate {
		r.detail[record.PhaseLookup] = "(already published: following its earlier journey)"
	}
	r.draw()
}

func (r *ttyRenderer) advance(p record.Phase) {
	if p > r.reached && !r.failed {
		r.reached, r.since = p, r.clock.Now()
	}
	if r.since.IsZero() {
		r.since = r.clock.Now() // the first phase seen counts from when it was seen
	}
}

func (r *ttyRenderer) progress(j *journeyView) {
	if r.requestID == "" {
		r.requestID = j.RequestID
	}
	r.advance(j.Phase)
	if j.Failed != nil && !r.failed {
		r.failed, r.failedAt = true, record.PhaseOfStage(j.Failed.Stage)
	}
	if j.ProvisionRequestID != "" {
		r.detail[record.PhaseProvision] = "provision request " + j.ProvisionRequestID
	}
	if j.OrderID != "" && r.detail[record.PhaseOrder] == "" {
		r.detail[record.PhaseOrder] = "order " + j.OrderID
	}
	if !r.failed && (r.reached == record.PhaseLookup || r.reached == record.PhaseWait) {
		r.detail[r.reached] = j.describe()
	}
	r.draw()
}

func (r *ttyRenderer) outcome(o *outcome) {
	if r.requestID == "" {
		r.requestID = o.RequestID
	}
	switch {
	case o.Ordered != nil:
		r.advance(record.PhaseWait)
		r.detail[record.PhaseOrder] = fmt.Sprintf("order %s (slug %s)", o.Ordered.OrderID, o.Ordered.Slug)
	case o.Provisioned != nil:
		r.reached = record.PhaseDone
		r.detail[record.PhaseWait] = ""
		r.result = markDone + " " + o.summary()
	case o.Failed != nil:
		r.failed, r.failedAt = true, o.phaseReached()
		r.result = fmt.Sprintf("%s failed: %s: %s", markFailed, o.Failed.Code, o.Failed.Message)
	}
	r.draw()
}

func (r *ttyRenderer) timedOut(requestID string, after time.Duration) {
	r.result = fmt.Sprintf("no terminal event within %s", after)
	r.draw()
}

func (r *ttyRenderer) warn(err error) { fmt.Fprintf(r.errw, "installctl: warning: %v\n", err) }
