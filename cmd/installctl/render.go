package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats.go/jetstream"
)

// renderer shows a followed request or stream of outcomes: a live display on a terminal,
// plain lines in a pipe, JSON lines for machines.
type renderer interface {
	published(requestID string, ack *jetstream.PubAck)
	progress(j *journeyView)
	outcome(o *outcome)
	// timedOut says the wait ended before the terminal event.
	timedOut(requestID string, after time.Duration)
	warn(err error)
}

// refresher is a renderer whose display changes with time alone: while the follower waits for
// events, it calls refresh on every tick of the renderer's ticker.
type refresher interface {
	ticker() clockwork.Ticker
	refresh()
}

// newRenderer picks the output form: JSON when asked, the live display when stdout is a
// terminal and one request is followed, plain lines otherwise.
func (a *app) newRenderer(asJSON, single bool) renderer {
	switch {
	case asJSON:
		return &jsonRenderer{w: a.stdout, errw: a.stderr}
	case single && a.isTerminal(a.stdout):
		return newTTYRenderer(a.stdout, a.stderr, a.clock)
	default:
		return &lineRenderer{w: a.stdout, errw: a.stderr}
	}
}

// lineRenderer writes one line per change, prefixed with the time and request id, easy to
// grep and to log.
type lineRenderer struct {
	w, errw io.Writer
	last    map[string]string // last progress line per request, to skip repeats
}

func (r *lineRenderer) line(t time.Time, requestID, text string) {
	if t.IsZero() {
		t = time.Now()
	}
	fmt.Fprintf(r.w, "%s  %s  %s\n", t.UTC().Format(time.RFC3339), requestID, text)
}

func (r *lineRenderer) published(requestID string, ack *jetstream.PubAck) {
	text := fmt.Sprintf("published to %s (seq %d)", ack.Stream, ack.Sequence)
	if ack.Duplicate {
		text = fmt.Sprintf("already published to %s (seq %d): following its earlier journey", ack.Stream, ack.Sequence)
	}
	r.line(time.Time{}, requestID, text)
}

func (r *lineRenderer) progress(j *journeyView) {
	text := j.Phase.String() + "  " + j.describe()
	if r.last == nil {
		r.last = map[string]string{}
	}
	if r.last[j.RequestID] == text {
		return
	}
	r.last[j.RequestID] = text
	r.line(j.UpdatedAt, j.RequestID, text)
}

func (r *lineRenderer) outcome(o *outcome) {
	text := o.summary()
	if o.Recorded {
		text += " (ended before this watch began)"
	}
	r.line(o.time(), o.RequestID, text)
}

func (r *lineRenderer) timedOut(requestID string, after time.Duration) {
	r.line(time.Time{}, requestID, fmt.Sprintf("no terminal event within %s", after))
}

func (r *lineRenderer) warn(err error) { fmt.Fprintf(r.errw, "installctl: warning: %v\n", err) }

// jsonRenderer writes one JSON object per line; "kind" tells them apart: published,
// progress, ordered, provisioned, failed, timeout.
type jsonRenderer struct {
	w, errw io.Writer
}

func (r *jsonRenderer) write(v any) {
	if err := writeJSONLine(r.w, v); err != nil {
		r.warn(err)
	}
}

// jsonLine is the shape of every line; fields not relevant to a kind are left out.
type jsonLine struct {
	Kind      string          `json:"kind"`
	RequestID string          `json:"requestId"`
	Time      *time.Time      `json:"time,omitempty"`
	Stream    string          `json:"stream,omitempty"`
	Seq       uint64          `json:"seq,omitempty"`
	Duplicate bool            `json:"duplicate,omitempty"`
	Phase     string          `json:"phase,omitempty"`
	Journey   json.RawMessage `json:"journey,omitempty"`
	EventID   string          `json:"eventId,omitempty"`
	EventType string          `json:"eventType,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
	Timeout   string          `json:"timeout,omitempty"`
	// Recorded marks an outcome read from the journey state because the journey had ended
	// before the watch began.
	Recorded bool `json:"recorded,omitempty"`
}

func (r *jsonRenderer) published(requestID string, ack *jetstream.PubAck) {
	r.write(jsonLine{Kind: "published", RequestID: requestID, Stream: ack.Stream, Seq: ack.Sequence, Duplicate: ack.Duplicate})
}

func (r *jsonRenderer) progress(j *journeyView) {
	l := jsonLine{Kind: "progress", RequestID: j.RequestID, Phase: j.Phase.String(), Journey: j.Raw}
	if !j.UpdatedAt.IsZero() {
		l.Time = &j.UpdatedAt
	}
	r.write(l)
}

func (r *jsonRenderer) outcome(o *outcome) {
	t := o.time()
	r.write(jsonLine{Kind: o.Kind, RequestID: o.RequestID, Time: &t, Seq: o.Seq,
		EventID: o.Event.ID(), EventType: o.Event.Type(), Data: o.Event.Data(), Recorded: o.Recorded})
}

func (r *jsonRenderer) timedOut(requestID string, after time.Duration) {
	r.write(jsonLine{Kind: "timeout", RequestID: requestID, Timeout: after.String()})
}

func (r *jsonRenderer) warn(err error) { fmt.Fprintf(r.errw, "installctl: warning: %v\n", err) }
