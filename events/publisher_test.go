package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats.go"

	"github.com/procurement/atlassian-installer/events"
)

func newPublisher(t *testing.T) (*events.Publisher, *clockwork.FakeClock, events.Subjects, func() uint64, func(string) (nats.Header, []byte)) {
	t.Helper()
	js := runJetStream(t)
	s := events.NewSubjects("")
	if err := events.EnsureStreams(context.Background(), js, s, 1); err != nil {
		t.Fatal(err)
	}
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	p := events.NewPublisher(js, s, "urn:test-installer", events.WithClock(clock))
	count := func() uint64 { return streamMsgs(t, js, events.StreamEvents) }
	last := func(subject string) (nats.Header, []byte) {
		m := lastMsg(t, js, events.StreamEvents, subject)
		return m.Header, m.Data
	}
	return p, clock, s, count, last
}

func TestPublishOutcome(t *testing.T) {
	p, clock, s, count, last := newPublisher(t)
	ctx := context.Background()
	data := events.Ordered{
		RequestID: "req-1", OrgID: "org-1", OrderID: "ord-1", Slug: "R-42K",
		Items: []events.OrderedItem{{ItemID: "O1", OrderItemID: "oi-1", OfferingID: "off-1"}},
	}
	e, err := p.PublishOutcome(ctx, "req-1", s.Ordered(), data, testTraceparent)
	if err != nil {
		t.Fatalf("PublishOutcome: %v", err)
	}
	if e.ID() != events.EventID("req-1", s.Ordered()) {
		t.Errorf("returned event id %q", e.ID())
	}

	h, body := last(s.Ordered())
	wantHeaders := map[string]string{
		"ce-specversion":     "1.0",
		"ce-id":              events.EventID("req-1", "atlassian.install.ordered"),
		"ce-type":            "atlassian.install.ordered",
		"ce-source":          "urn:test-installer",
		"ce-subject":         "req-1",
		"ce-time":            "2026-11-25T12:00:00Z",
		"ce-datacontenttype": "application/json",
		"ce-dataschema":      events.SchemaBaseURI + "ordered.json",
		"ce-traceparent":     testTraceparent,
		"Nats-Msg-Id":        events.EventID("req-1", "atlassian.install.ordered"),
	}
	for k, v := range wantHeaders {
		if got := h.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	got, err := events.FromNATS(h, body)
	if err != nil {
		t.Fatalf("stored outcome is not a CloudEvent: %v", err)
	}
	var back events.Ordered
	if err := json.Unmarshal(got.Data(), &back); err != nil || !reflect.DeepEqual(back, data) {
		t.Errorf("data = %s (%v)", got.Data(), err)
	}

	// The same outcome again, later: same id, stored once.
	clock.Advance(time.Minute)
	if _, err := p.PublishOutcome(ctx, "req-1", s.Ordered(), data, testTraceparent); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Errorf("events stored = %d after a re-publish, want 1", n)
	}
	// Publish says so.
	if dup, err := p.Publish(ctx, e); err != nil || !dup {
		t.Errorf("Publish of a stored event: duplicate %v, err %v; want true, nil", dup, err)
	}

	// A terminal event without a trace has no traceparent header.
	if _, err := p.PublishOutcome(ctx, "req-1", s.Provisioned(), events.Provisioned{RequestID: "req-1", Site: events.NewSiteRef("acme")}, ""); err != nil {
		t.Fatal(err)
	}
	h, body = last(s.Provisioned())
	if _, ok := h["ce-traceparent"]; ok {
		t.Error("traceparent header without a trace")
	}
	if h.Get("ce-time") != "2026-11-25T12:01:00Z" {
		t.Errorf("time from the injected clock: %q", h.Get("ce-time"))
	}
	if !bytes.Contains(body, []byte(`"url":"https://acme.atlassian.net"`)) {
		t.Errorf("provisioned data %s", body)
	}
	if n := count(); n != 2 {
		t.Errorf("events stored = %d, want 2", n)
	}
}

func TestPublishOutcomeRejects(t *testing.T) {
	p, _, s, count, _ := newPublisher(t)
	ctx := context.Background()
	for _, typ := range []string{s.Requested(), s.DeadLetter(), "other.install.failed", ""} {
		if _, err := p.PublishOutcome(ctx, "req-1", typ, events.Failed{}, ""); !errors.Is(err, events.ErrUnknownEventType) {
			t.Errorf("type %q: %v", typ, err)
		}
	}
	if _, err := p.PublishOutcome(ctx, "", s.Failed(), events.Failed{}, ""); !errors.Is(err, events.ErrInvalidEvent) {
		t.Errorf("empty request id: %v", err)
	}
	if _, err := p.PublishOutcome(ctx, "req-1", s.Failed(), func() {}, ""); !errors.Is(err, events.ErrInvalidEvent) {
		t.Errorf("unmarshalable data: %v", err)
	}
	if n := count(); n != 0 {
		t.Errorf("events stored = %d, want 0", n)
	}
}

func TestFailedJSON(t *testing.T) {
	f := events.Failed{RequestID: "r", OrgID: "o", Stage: events.StageValidation, Code: events.CodeInvalidRequest,
		Message: "m", Errors: []events.FieldError{{Field: "site.timezone", Message: "required"}}}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"requestId":"r","orgId":"o","stage":"validation","code":"invalid_request","message":"m","retryable":false,"httpStatus":0,"errors":[{"field":"site.timezone","message":"required"}]}`
	if string(b) != want {
		t.Errorf("failed JSON\n%s\nwant\n%s", b, want)
	}
}

func TestDeadLetter(t *testing.T) {
	js := runJetStream(t)
	ctx := context.Background()
	s := events.NewSubjects("")
	if err := events.EnsureStreams(ctx, js, s, 1); err != nil {
		t.Fatal(err)
	}
	p := events.NewPublisher(js, s, "")

	body := []byte("\x00garbage \xff\xfe not json {")
	h := nats.Header{}
	h.Add("X-Producer", "erp")
	h.Add("X-Multi", "one")
	h.Add("X-Multi", "two")
	h.Set("Content-Type", "text/plain")
	h.Set("Nats-Msg-Id", "producer-id-1")
	h.Set("Nats-Expected-Stream", events.StreamRequests)
	reason := "not a CloudEvent:\nno ce-specversion header"
	if err := p.DeadLetter(ctx, h, body, reason); err != nil {
		t.Fatalf("DeadLetter: %v", err)
	}
	m := lastMsg(t, js, events.StreamDeadLetter, s.DeadLetter())
	if !bytes.Equal(m.Data, body) {
		t.Errorf("body changed: %q", m.Data)
	}
	if got := m.Header.Get(events.HeaderError); got != "not a CloudEvent: no ce-specversion header" {
		t.Errorf("Installer-Error = %q", got)
	}
	if got := m.Header.Values("X-Multi"); !reflect.DeepEqual(got, []string{"one", "two"}) {
		t.Errorf("X-Multi = %q", got)
	}
	for k, v := range map[string]string{
		"X-Producer":                              "erp",
		"Content-Type":                            "text/plain",
		"Installer-Original-Nats-Msg-Id":          "producer-id-1",
		"Installer-Original-Nats-Expected-Stream": events.StreamRequests,
	} {
		if got := m.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	// Replayed, the message has its producer's headers again, less those of its own publish.
	want := nats.Header{"X-Producer": {"erp"}, "X-Multi": {"one", "two"}, "Content-Type": {"text/plain"},
		"Nats-Msg-Id": {"producer-id-1"}}
	if got := events.ReplayHeader(m.Header); !reflect.DeepEqual(got, want) {
		t.Errorf("ReplayHeader = %v, want %v", got, want)
	}

	// No headers, no body, a very long reason: still kept, reason bounded.
	if err := p.DeadLetter(ctx, nil, nil, strings.Repeat("x", 5000)); err != nil {
		t.Fatalf("DeadLetter empty: %v", err)
	}
	m = lastMsg(t, js, events.StreamDeadLetter, s.DeadLetter())
	if len(m.Data) != 0 || len(m.Header.Get(events.HeaderError)) > 1100 || m.Header.Get(events.HeaderError) == "" {
		t.Errorf("empty dead letter: data %q, reason length %d", m.Data, len(m.Header.Get(events.HeaderError)))
	}
	if n := streamMsgs(t, js, events.StreamDeadLetter); n != 2 {
		t.Errorf("dead letters = %d, want 2", n)
	}
}
