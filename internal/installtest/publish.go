package installtest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats.go"

	"github.com/procurement/atlassian-installer/events"
)

// RequestEvent is a request CloudEvent with the given id and JSON data, published a minute
// before Epoch by a procurement system.
func RequestEvent(t testing.TB, id string, data any) *cloudevents.Event {
	t.Helper()
	ev := cloudevents.NewEvent()
	ev.SetID(id)
	ev.SetSource("urn:test:procurement")
	ev.SetType(Subjects.Requested())
	ev.SetTime(Epoch.Add(-time.Minute))
	if err := ev.SetData(cloudevents.ApplicationJSON, data); err != nil {
		t.Fatal(err)
	}
	return &ev
}

// BinaryMsg is ev in binary mode on subject: attributes in ce- headers, data as the body.
func BinaryMsg(t testing.TB, subject string, ev *cloudevents.Event) *nats.Msg {
	t.Helper()
	m, err := events.ToNATS(subject, ev)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// StructuredMsg is ev in structured mode on subject: the whole event as JSON in the body,
// with the structured Content-Type (a test of its absence deletes it).
func StructuredMsg(t testing.TB, subject string, ev *cloudevents.Event) *nats.Msg {
	t.Helper()
	body, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(subject)
	m.Data = body
	m.Header.Set("Content-Type", events.ContentTypeStructured)
	return m
}

// Publish publishes a request in binary mode, as procurement systems do.
func (e *Env) Publish(id string, data any) {
	e.T.Helper()
	e.PublishEvent(RequestEvent(e.T, id, data))
}

// PublishEvent publishes ev in binary mode on the requests subject.
func (e *Env) PublishEvent(ev *cloudevents.Event) {
	e.T.Helper()
	e.PublishMsg(BinaryMsg(e.T, Subjects.Requested(), ev))
}

// PublishMsg publishes m as it is, for garbage, other modes and other subjects.
func (e *Env) PublishMsg(m *nats.Msg) {
	e.T.Helper()
	if _, err := e.JS.PublishMsg(context.Background(), m); err != nil {
		e.T.Fatalf("publish: %v", err)
	}
}
