package handlers_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// TestStructuredInput: a structured-mode CloudEvent is a request like a binary one, with
// or without its content type.
func TestStructuredInput(t *testing.T) {
	e := newEnv(t)
	e.StartDefault()
	for _, tc := range []struct{ id, contentType string }{
		{"structured-1", events.ContentTypeStructured},
		{"structured-2", ""},
	} {
		m := installtest.StructuredMsg(t, subjects.Requested(), installtest.RequestEvent(t, tc.id, jiraOnNewSite(tc.id)))
		if tc.contentType == "" {
			m.Header.Del("Content-Type")
		}
		e.PublishMsg(m)
		if term := e.Terminal(tc.id); term.Type != subjects.Provisioned() {
			t.Errorf("%s: %s %v", tc.id, term.Type, term.Data)
		}
	}
	e.Settled()
}

// TestGarbageInput: what is not a request CloudEvent goes to the dead-letter subject byte
// for byte with its reason, and the consumer carries on.
func TestGarbageInput(t *testing.T) {
	e := newEnv(t)
	e.StartDefault()

	garbage := []byte("not a cloud event \x00\xff{")
	m := nats.NewMsg(subjects.Requested())
	m.Data = garbage
	m.Header.Set("X-Producer", "legacy")
	e.PublishMsg(m)

	other := installtest.RequestEvent(t, "other-type", obj{"hello": "world"})
	other.SetType("com.example.something.else")
	om := installtest.BinaryMsg(t, subjects.Requested(), other)
	e.PublishMsg(om)

	e.Publish("after-garbage", jiraOnNewSite("after-garbage"))
	if term := e.Terminal("after-garbage"); term.Type != subjects.Provisioned() {
		t.Fatalf("after garbage: %s %v", term.Type, term.Data)
	}
	var dead []installtest.Message
	e.Eventually("two dead letters", func() bool {
		dead = e.Stream(events.StreamDeadLetter)
		return len(dead) == 2
	})
	if !bytes.Equal(dead[0].Raw, garbage) {
		dead[0], dead[1] = dead[1], dead[0] // the two were handled concurrently
	}
	if !bytes.Equal(dead[0].Raw, garbage) || dead[0].Header.Get("X-Producer") != "legacy" || dead[0].Header.Get(events.HeaderError) == "" {
		t.Errorf("garbage dead letter %q %v", dead[0].Raw, dead[0].Header)
	}
	if !bytes.Equal(dead[1].Raw, om.Data) || dead[1].Header.Get(events.HeaderError) == "" {
		t.Errorf("other-type dead letter %q %v", dead[1].Raw, dead[1].Header)
	}
	if n := len(installtest.Of(e.Outcomes(), "other-type")); n != 0 {
		t.Errorf("%d events for a dead-lettered message", n)
	}
	e.Settled()
}

// TestPanicIsRecovered: a handler panic naks the message; the consumer survives and the
// redelivery completes the journey.
func TestPanicIsRecovered(t *testing.T) {
	e := newEnv(t)
	cfg := e.Config()
	cfg.Logger = slog.New(slog.DiscardHandler) // the panic's stack is expected
	var panicked atomic.Bool
	cfg.Middleware = []handlers.Middleware{func(next handlers.Handler) handlers.Handler {
		return func(ctx context.Context, d *handlers.Delivery) error {
			if panicked.CompareAndSwap(false, true) {
				panic("boom")
			}
			return next(ctx, d)
		}
	}}
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)
	e.Publish("panic-1", jiraOnNewSite("panic"))
	if term := e.Terminal("panic-1"); term.Type != subjects.Provisioned() {
		t.Fatalf("%s %v", term.Type, term.Data)
	}
	if !panicked.Load() {
		t.Fatal("middleware never ran")
	}
	if n := len(e.OrdersOf("panic-1")); n != 1 {
		t.Errorf("%d orders", n)
	}
}

// TestStatusURLGuard: a statusUrl that does not point at the client's API is never called
// and fails the journey before the order.
func TestStatusURLGuard(t *testing.T) {
	e := newEnv(t, atlassiantest.WithPublicURL("http://attacker.example:8443"))
	e.Start(e.JS, handlers.ClientAPI(e.Client), e.Config())
	e.Publish("guard-1", jiraOnNewSite("guard"))
	term := e.Terminal("guard-1")
	f := term.Data
	if term.Type != subjects.Failed() || f["code"] != "api_error" || f["stage"] != "provision" || f["retryable"] != false {
		t.Fatalf("%s %v", term.Type, f)
	}
	if n := len(e.OrdersOf("guard-1")); n != 0 {
		t.Errorf("%d orders", n)
	}
	if n := len(e.Sandbox.RequestsTo(atlassiantest.EndpointProvisionStatus)); n != 0 {
		t.Errorf("%d status calls", n)
	}
}

// TestSubjectPrefix: with another prefix, requests, event types and outcomes all follow it.
func TestSubjectPrefix(t *testing.T) {
	e := newEnv(t)
	acme := events.NewSubjects("acme")
	cfg := e.Config()
	cfg.Subjects = acme
	cfg.Source = "urn:acme:installer"
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)

	ev := installtest.RequestEvent(t, "prefixed-1", jiraOnNewSite("prefixed"))
	ev.SetType(acme.Requested())
	e.PublishMsg(installtest.BinaryMsg(t, acme.Requested(), ev))
	var got []installtest.Message
	e.Eventually("provisioned on the prefixed subject", func() bool {
		got = installtest.Of(e.Outcomes(), "prefixed-1")
		return len(got) == 2
	})
	if got[0].Type != acme.Ordered() || got[1].Type != acme.Provisioned() {
		t.Errorf("events %v", types(got))
	}
	if src := got[1].Header.Get("ce-source"); src != "urn:acme:installer" {
		t.Errorf("source %q", src)
	}
}

// TestOutcomeEnvelope: outbound events are binary-mode CloudEvents with a deterministic
// id (also their Nats-Msg-Id), the request id as subject, the installer's source, JSON
// data, and the request's trace.
func TestOutcomeEnvelope(t *testing.T) {
	e := newEnv(t)
	e.StartDefault()
	const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ev := installtest.RequestEvent(t, "envelope-1", jiraOnNewSite("envelope"))
	ev.SetExtension("traceparent", traceparent)
	e.PublishEvent(ev)
	e.Terminal("envelope-1")
	evs := installtest.Of(e.Outcomes(), "envelope-1")
	if len(evs) != 2 {
		t.Fatalf("events %v", types(evs))
	}
	for _, o := range evs {
		h := o.Header
		if o.ID != events.EventID("envelope-1", o.Type) || h.Get("Nats-Msg-Id") != o.ID {
			t.Errorf("%s: id %q, Nats-Msg-Id %q", o.Type, o.ID, h.Get("Nats-Msg-Id"))
		}
		if h.Get("ce-source") != events.DefaultSource || h.Get("ce-datacontenttype") != "application/json" ||
			h.Get("ce-traceparent") != traceparent || h.Get("ce-subject") != "envelope-1" {
			t.Errorf("%s: headers %v", o.Type, h)
		}
	}
}
