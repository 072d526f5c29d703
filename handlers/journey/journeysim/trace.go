package journeysim

import (
	"fmt"
	"strings"
	"time"
)

// Trace is what happened in a run, in order, with the simulated time: formatted only when
// it is printed (a failing seed), so that passing runs stay cheap.
type Trace struct {
	start   time.Time
	entries []traceEntry
}

type traceEntry struct {
	at     time.Time
	format string
	args   []any
}

// NewTrace returns a trace whose times are shown relative to start.
func NewTrace(start time.Time) *Trace { return &Trace{start: start} }

// Add records an event at the simulated time at.
func (t *Trace) Add(at time.Time, format string, args ...any) {
	t.entries = append(t.entries, traceEntry{at, format, args})
}

// String renders the trace, one event a line.
func (t *Trace) String() string {
	var b strings.Builder
	for _, e := range t.entries {
		fmt.Fprintf(&b, "%10s  %s\n", e.at.Sub(t.start), fmt.Sprintf(e.format, e.args...))
	}
	return b.String()
}
