package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
)

// TestStructuredInput: a structured-mode CloudEvent is a request like a binary one, with
// or without its content type.
func TestStructuredInput(t *testing.T) {
	e := newEnv(t)
	e.startDefault()
	for _, tc := range []struct{ id, contentType string }{
		{"structured-1", events.ContentTypeStructured},
		{"structured-2", ""},
	} {
		body, err := json.Marshal(requestEvent(t, tc.id, jiraOnNewSite(tc.id)))
		if err != nil {
			t.Fatal(err)
		}
		m := nats.NewMsg(subjects.Requested())
		m.Data = body
		if tc.contentType != "" {
			m.Header.Set("Content-Type", tc.contentType)
		}
		e.publishMsg(m)
		if term := e.terminal(tc.id); term.Type != subjects.Provisioned() {
			t.Errorf("%s: %s %v", tc.id, term.Type, term.Data)
		}
	}
	e.settled()
}

// TestGarbageInput: what is not a request CloudEvent goes to the dead-letter subject byte
// for byte with its reason, and the consumer carries on.
func TestGarbageInput(t *testing.T) {
	e := newEnv(t)
	e.startDefault()

	garbage := []byte("not a cloud event \x00\xff{")
	m := nats.NewMsg(subjects.Requested())
	m.Data = garbage
	m.Header.Set("X-Producer", "legacy")
	e.publishMsg(m)

	other := requestEvent(t, "other-type", obj{"hello": "world"})
	other.SetType("com.example.something.else")
	om, err := events.ToNATS(subjects.Requested(), other)
	if err != nil {
		t.Fatal(err)
	}
	e.publishMsg(om)

	e.publish("after-garbage", jiraOnNewSite("after-garbage"))
	if term := e.terminal("after-garbage"); term.Type != subjects.Provisioned() {
		t.Fatalf("after garbage: %s %v", term.Type, term.Data)
	}
	var dead []outcome
	e.eventually("two dead letters", func() bool {
		dead = readStream(t, e.js, events.StreamDeadLetter)
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
	if n := len(of(e.outcomes(), "other-type")); n != 0 {
		t.Errorf("%d events for a dead-lettered message", n)
	}
	e.settled()
}

// TestPanicIsRecovered: a handler panic naks the message; the consumer survives and the
// redelivery completes the journey.
func TestPanicIsRecovered(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
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
	e.start(e.js, apiOf(e.client), cfg)
	e.publish("panic-1", jiraOnNewSite("panic"))
	if term := e.terminal("panic-1"); term.Type != subjects.Provisioned() {
		t.Fatalf("%s %v", term.Type, term.Data)
	}
	if !panicked.Load() {
		t.Fatal("middleware never ran")
	}
	if n := len(e.ordersOf("panic-1")); n != 1 {
		t.Errorf("%d orders", n)
	}
}

// TestStatusURLGuard: a statusUrl that does not point at the client's API is never called
// and fails the journey before the order, whether Config.APIBaseURL is set or not.
func TestStatusURLGuard(t *testing.T) {
	for _, tc := range []struct {
		name      string
		configure bool
		ordered   bool
	}{
		{"checked before the order", true, false},
		{"checked before the order without APIBaseURL", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, atlassiantest.WithPublicURL("http://attacker.example:8443"))
			cfg := e.config()
			if !tc.configure {
				cfg.APIBaseURL = ""
			}
			e.start(e.js, apiOf(e.client), cfg)
			e.publish("guard-1", jiraOnNewSite("guard"))
			term := e.terminal("guard-1")
			f := term.Data
			if term.Type != subjects.Failed() || f["code"] != "api_error" || f["stage"] != "provision" || f["retryable"] != false {
				t.Fatalf("%s %v", term.Type, f)
			}
			if n := len(e.ordersOf("guard-1")); (n == 1) != tc.ordered {
				t.Errorf("%d orders", n)
			}
			if n := len(e.sandbox.RequestsTo(atlassiantest.EndpointProvisionStatus)); n != 0 {
				t.Errorf("%d status calls", n)
			}
		})
	}
}

// TestSubjectPrefix: with another prefix, requests, event types and outcomes all follow it.
func TestSubjectPrefix(t *testing.T) {
	e := newEnv(t)
	acme := events.NewSubjects("acme")
	cfg := e.config()
	cfg.Subjects = acme
	cfg.Source = "urn:acme:installer"
	e.start(e.js, apiOf(e.client), cfg)

	ev := requestEvent(t, "prefixed-1", jiraOnNewSite("prefixed"))
	ev.SetType(acme.Requested())
	m, err := events.ToNATS(acme.Requested(), ev)
	if err != nil {
		t.Fatal(err)
	}
	e.publishMsg(m)
	var got []outcome
	e.eventually("provisioned on the prefixed subject", func() bool {
		got = of(e.outcomes(), "prefixed-1")
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
	e.startDefault()
	const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ev := requestEvent(t, "envelope-1", jiraOnNewSite("envelope"))
	ev.SetExtension("traceparent", traceparent)
	m, err := events.ToNATS(subjects.Requested(), ev)
	if err != nil {
		t.Fatal(err)
	}
	e.publishMsg(m)
	e.terminal("envelope-1")
	evs := of(e.outcomes(), "envelope-1")
	if len(evs) != 2 {
		t.Fatalf("events %v", types(evs))
	}
	for _, o := range evs {
		h := o.Header
		if o.ID != events.EventID("envelope-1", o.Type) || h.Get("Nats-Msg-Id") != o.ID {
			t.Errorf("%s: id %q, Nats-Msg-Id %q", o.Type, o.ID, h.Get("Nats-Msg-Id"))
		}
		if h.Get("ce-source") != handlers.DefaultSource || h.Get("ce-datacontenttype") != "application/json" ||
			h.Get("ce-traceparent") != traceparent || h.Get("ce-subject") != "envelope-1" {
			t.Errorf("%s: headers %v", o.Type, h)
		}
	}
}
