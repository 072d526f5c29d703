package telemetry_test

import (
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/record"
)

const (
	requestTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	requestSpanID  = "00f067aa0ba902b7"
	requestTrace   = "00-" + requestTraceID + "-" + requestSpanID + "-01"
)

// TestJourneySpanTree runs a Jira journey whose request carries a traceparent and checks the
// tree: the delivery's consumer span continues the request's trace as its child, every step is
// a child of it, every Atlassian call a client span under a step, every published event a
// producer span, and the outbound events keep the request's traceparent.
func TestJourneySpanTree(t *testing.T) {
	e := newEnv(t, auth{apiKey: "obs-key-1"})
	const id = "req-traced"
	e.publish(id, jiraRequest("acme-traced"), requestTrace)
	if got := e.Terminal(id); got.Event.Type() != subjects.Provisioned() {
		t.Fatalf("terminal event %s: %s", got.Event.Type(), got.Raw)
	}
	e.quiet()

	spans := e.spans.GetSpans()
	byID := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range spans {
		byID[s.SpanContext.SpanID()] = s
		if got := s.SpanContext.TraceID().String(); got != requestTraceID {
			t.Errorf("span %q is in trace %s, want the request's %s", s.Name, got, requestTraceID)
		}
	}
	parentOf := func(s tracetest.SpanStub) tracetest.SpanStub { return byID[s.Parent.SpanID()] }

	process := named(spans, "process "+subjects.Requested())
	if len(process) == 0 {
		t.Fatalf("no process span; spans: %v", names(spans))
	}
	for _, p := range process {
		if p.SpanKind != trace.SpanKindConsumer {
			t.Errorf("process span kind %v, want consumer", p.SpanKind)
		}
		if got := p.Parent.SpanID().String(); got != requestSpanID || !p.Parent.IsRemote() {
			t.Errorf("process span parent %s (remote %v), want the request's span %s", got, p.Parent.IsRemote(), requestSpanID)
		}
		if !hasAttr(p, "installer.request_id", id) || !hasAttr(p, "messaging.destination.name", subjects.Requested()) {
			t.Errorf("process span attributes %v", p.Attributes)
		}
	}

	for _, step := range []string{record.StepNameLookup, record.StepNameProvision, record.StepNamePublishOrdered, record.StepNamePoll} {
		ss := named(spans, "step "+step)
		if len(ss) == 0 {
			t.Errorf("no span for step %s; spans: %v", step, names(spans))
		}
		for _, s := range ss {
			if p := parentOf(s); p.Name != "process "+subjects.Requested() {
				t.Errorf("step %s is a child of %q, want the process span", step, p.Name)
			}
		}
	}

	calls := map[string]string{ // client span -> the step it belongs to
		"GET /commerce/api/v2/entitlements/{entitlementId}/details":            "step " + record.StepNameLookup,
		"POST /admin/installations/v2/orgs/{orgId}/products":                   "step " + record.StepNameProvision,
		"POST /commerce/api/v2/orders":                                         "step " + record.StepNameProvision,
		"GET /admin/installations/v2/orgs/{orgId}/products/status/{requestId}": "step " + record.StepNamePoll,
		"GET /commerce/api/v2/orders/{orderId}":                                "step " + record.StepNamePoll,
	}
	for name, step := range calls {
		cs := named(spans, name)
		if len(cs) == 0 {
			t.Errorf("no client span %q; spans: %v", name, names(spans))
		}
		for _, c := range cs {
			if c.SpanKind != trace.SpanKindClient {
				t.Errorf("%s: kind %v, want client", name, c.SpanKind)
			}
			if p := parentOf(c); p.Name != step {
				t.Errorf("%s is a child of %q, want %q", name, p.Name, step)
			}
			_, template, _ := strings.Cut(name, " ")
			if !hasAttr(c, "url.template", template) || !hasAttr(c, "http.response.status_code", "200") {
				t.Errorf("%s attributes %v, want url.template and the status", name, c.Attributes)
			}
		}
	}

	for _, subj := range []string{subjects.Ordered(), subjects.Provisioned()} {
		ps := named(spans, "publish "+subj)
		if len(ps) != 1 {
			t.Errorf("%d producer spans for %s, want 1", len(ps), subj)
			continue
		}
		if ps[0].SpanKind != trace.SpanKindProducer {
			t.Errorf("publish %s: kind %v, want producer", subj, ps[0].SpanKind)
		}
	}

	for _, m := range e.Stream(events.StreamEvents) {
		if got := events.Traceparent(m.Event); got != requestTrace {
			t.Errorf("%s carries traceparent %q, want the request's %q", m.Event.Type(), got, requestTrace)
		}
	}
}

// TestDeadLetterSpan: a message that is no CloudEvent is processed in a span of its own, and its
// copy to the dead-letter subject is a producer span under it.
func TestDeadLetterSpan(t *testing.T) {
	e := newEnv(t, auth{apiKey: "obs-key-dl"})
	junk := nats.NewMsg(subjects.Requested())
	junk.Header.Set("traceparent", requestTrace)
	junk.Data = []byte("{not json")
	e.PublishMsg(junk)
	e.Eventually("the dead letter", func() bool { return len(e.Stream(events.StreamDeadLetter)) == 1 })
	e.quiet()

	spans := e.spans.GetSpans()
	dl := named(spans, "publish "+subjects.DeadLetter())
	process := named(spans, "process "+subjects.Requested())
	if len(dl) != 1 || len(process) != 1 {
		t.Fatalf("spans %v, want one process and one dead-letter publish", names(spans))
	}
	if got := process[0].Parent.SpanID().String(); got != requestSpanID {
		t.Errorf("process span of the dead letter has parent %s, want the traceparent header's %s", got, requestSpanID)
	}
	if dl[0].SpanKind != trace.SpanKindProducer || dl[0].Parent.SpanID() != process[0].SpanContext.SpanID() {
		t.Errorf("dead-letter span kind %v parent %v, want a producer under the process span", dl[0].SpanKind, dl[0].Parent.SpanID())
	}
	if got := e.Stream(events.StreamDeadLetter)[0].Header.Get("ce-traceparent"); got != "" {
		t.Errorf("the dead letter was given a ce-traceparent %q; it must stay as it came", got)
	}
}

// TestUntracedRequestGetsATrace: a request without traceparent starts a trace of its own, and
// its outbound events carry it, so subscribers can still follow the journey.
func TestUntracedRequestGetsATrace(t *testing.T) {
	e := newEnv(t, auth{apiKey: "obs-key-2"})
	const id = "req-untraced"
	e.publish(id, jiraRequest("acme-untraced"), "")
	e.Terminal(id)
	e.quiet()

	process := named(e.spans.GetSpans(), "process "+subjects.Requested())
	if len(process) == 0 {
		t.Fatal("no process span")
	}
	traceID := process[0].SpanContext.TraceID().String()
	if process[0].Parent.IsValid() {
		t.Errorf("process span of an untraced request has parent %v", process[0].Parent)
	}
	for _, m := range e.Stream(events.StreamEvents) {
		tp := events.Traceparent(m.Event)
		if !strings.HasPrefix(tp, "00-"+traceID+"-") {
			t.Errorf("%s carries traceparent %q, want one in trace %s", m.Event.Type(), tp, traceID)
		}
	}
}

func named(spans tracetest.SpanStubs, name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func names(spans tracetest.SpanStubs) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}

func hasAttr(s tracetest.SpanStub, key, value string) bool {
	for _, a := range s.Attributes {
		if string(a.Key) == key && a.Value.Emit() == value {
			return true
		}
	}
	return false
}
