package events_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"

	"github.com/procurement/atlassian-installer/events"
)

const testTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func binaryHeader(kv ...string) nats.Header {
	h := nats.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestFromNATSBinary(t *testing.T) {
	h := binaryHeader(
		"ce-specversion", "1.0",
		"ce-id", "req-1",
		"ce-source", "urn:procurement",
		"ce-type", "atlassian.install.requested",
		"ce-subject", "order-77",
		"ce-time", "2026-11-25T10:00:00.5Z",
		"ce-datacontenttype", "application/json",
		"ce-traceparent", testTraceparent,
		"ce-tenant", "acme",
		"X-Other", "ignored",
	)
	e, err := events.FromNATS(h, []byte(productsJSON))
	if err != nil {
		t.Fatalf("FromNATS: %v", err)
	}
	checks := map[string][2]string{
		"id":              {e.ID(), "req-1"},
		"source":          {e.Source(), "urn:procurement"},
		"type":            {e.Type(), "atlassian.install.requested"},
		"subject":         {e.Subject(), "order-77"},
		"datacontenttype": {e.DataContentType(), "application/json"},
		"specversion":     {e.SpecVersion(), "1.0"},
		"traceparent":     {events.Traceparent(e), testTraceparent},
		"data":            {string(e.Data()), productsJSON},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if want := time.Date(2026, 11, 25, 10, 0, 0, 5e8, time.UTC); !e.Time().Equal(want) {
		t.Errorf("time = %v, want %v", e.Time(), want)
	}
	if v := e.Extensions()["tenant"]; v != "acme" {
		t.Errorf("extension tenant = %v", v)
	}
	if _, ok := e.Extensions()["x-other"]; ok {
		t.Error("a non ce- header became an extension")
	}
}

func TestFromNATSBinaryContentType(t *testing.T) {
	base := []string{"ce-specversion", "1.0", "ce-id", "1", "ce-source", "s", "ce-type", "t"}
	tests := []struct {
		name   string
		header []string
		want   string
	}{
		{"none", nil, ""},
		{"Content-Type", []string{"Content-Type", "application/json"}, "application/json"},
		{"content-type lower case", []string{"content-type", "application/json; charset=utf-8"}, "application/json; charset=utf-8"},
		{"ce-datacontenttype wins", []string{"Content-Type", "text/plain", "ce-datacontenttype", "application/json"}, "application/json"},
		{"header names in any case", []string{"Ce-Datacontenttype", "application/json"}, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := events.FromNATS(binaryHeader(append(append([]string{}, base...), tt.header...)...), []byte(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			if e.DataContentType() != tt.want {
				t.Errorf("datacontenttype = %q, want %q", e.DataContentType(), tt.want)
			}
		})
	}
}

func TestFromNATSStructured(t *testing.T) {
	body := `{"specversion":"1.0","id":"req-2","source":"urn:procurement","type":"atlassian.install.requested",
		"subject":"s","time":"2026-11-25T10:00:00Z","datacontenttype":"application/json",
		"traceparent":"` + testTraceparent + `","data":{"orgId":"o"}}`
	for _, h := range []nats.Header{
		binaryHeader("Content-Type", "application/cloudevents+json"),
		binaryHeader("content-type", "application/cloudevents+json; charset=utf-8"),
		nil,
		binaryHeader("Content-Type", "application/json"),
	} {
		e, err := events.FromNATS(h, []byte(body))
		if err != nil {
			t.Fatalf("header %v: %v", h, err)
		}
		if e.ID() != "req-2" || e.Type() != "atlassian.install.requested" || e.Subject() != "s" {
			t.Errorf("header %v: attributes %v", h, e)
		}
		if string(e.Data()) != `{"orgId":"o"}` {
			t.Errorf("header %v: data = %s", h, e.Data())
		}
		if events.Traceparent(e) != testTraceparent {
			t.Errorf("header %v: traceparent = %q", h, events.Traceparent(e))
		}
	}
	// data_base64 carries binary data in structured mode.
	e, err := events.FromNATS(nil, []byte(`{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"aGk="}`))
	if err != nil || string(e.Data()) != "hi" {
		t.Errorf("data_base64: %v, %q", err, e.Data())
	}
}

func TestFromNATSNotCloudEvent(t *testing.T) {
	tests := []struct {
		name   string
		header nats.Header
		data   string
		reason string
	}{
		{"garbage", nil, "\x00\x01garbage", "no ce-specversion"},
		{"empty body, no headers", nil, "", "no ce-specversion"},
		{"plain request JSON", nil, productsJSON, "no ce-specversion"},
		{"JSON array", nil, `[{"specversion":"1.0"}]`, "no ce-specversion"},
		{"structured, empty body", binaryHeader("Content-Type", "application/cloudevents+json"), "", "empty body"},
		{"structured, garbage", binaryHeader("Content-Type", "application/cloudevents+json"), "{nope", "not a CloudEvent"},
		{"structured, no specversion", binaryHeader("Content-Type", "application/cloudevents+json"), `{"id":"1","source":"s","type":"t"}`, "specversion"},
		{"structured, old specversion", nil, `{"specversion":"0.3","id":"1","source":"s","type":"t"}`, "0.3"},
		{"structured, bad specversion", nil, `{"specversion":"9","id":"1","source":"s","type":"t"}`, "specversion"},
		{"structured, missing id", nil, `{"specversion":"1.0","source":"s","type":"t"}`, "id"},
		{"structured, missing type", nil, `{"specversion":"1.0","id":"1","source":"s"}`, "type"},
		{"binary, bad specversion", binaryHeader("ce-specversion", "2.0", "ce-id", "1", "ce-source", "s", "ce-type", "t"), "{}", "2.0"},
		{"binary, missing source and type", binaryHeader("ce-specversion", "1.0", "ce-id", "1"), "{}", "source"},
		{"binary, missing id", binaryHeader("ce-specversion", "1.0", "ce-source", "s", "ce-type", "t"), "{}", "id"},
		{"binary, bad time", binaryHeader("ce-specversion", "1.0", "ce-id", "1", "ce-source", "s", "ce-type", "t", "ce-time", "yesterday"), "{}", "ce-time"},
		{"binary, bad extension name", binaryHeader("ce-specversion", "1.0", "ce-id", "1", "ce-source", "s", "ce-type", "t", "ce-bad_name", "x"), "{}", "bad_name"},
		{"ce headers without specversion", binaryHeader("ce-id", "1", "ce-source", "s", "ce-type", "t"), "{}", "no ce-specversion"},
		{"batch", binaryHeader("Content-Type", "application/cloudevents-batch+json"), `[]`, "batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := events.FromNATS(tt.header, []byte(tt.data))
			if !errors.Is(err, events.ErrNotCloudEvent) {
				t.Fatalf("err = %v, event %v; want ErrNotCloudEvent", err, e)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("reason %q lacks %q", err, tt.reason)
			}
			if err.Error() == events.ErrNotCloudEvent.Error() {
				t.Error("no reason given")
			}
		})
	}
}

func TestFromNATSBinaryEmptyBody(t *testing.T) {
	e, err := events.FromNATS(binaryHeader("ce-specversion", "1.0", "ce-id", "1", "ce-source", "s", "ce-type", "t"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Data()) != 0 {
		t.Errorf("data = %q", e.Data())
	}
	// An event with no data is a CloudEvent; its request data is what is invalid.
	if _, err := events.RequestFromEvent(e, testNow); !errors.Is(err, events.ErrInvalidRequest) {
		t.Errorf("RequestFromEvent: %v", err)
	}
}

func TestToNATS(t *testing.T) {
	e := event.New()
	e.SetID("ev-1")
	e.SetSource("urn:atlassian-installer")
	e.SetType("atlassian.install.ordered")
	e.SetSubject("req-1")
	e.SetTime(time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600)))
	e.SetExtension("traceparent", testTraceparent)
	if err := e.SetData(event.ApplicationJSON, map[string]string{"orderId": "o-1"}); err != nil {
		t.Fatal(err)
	}
	m, err := events.ToNATS("atlassian.install.ordered", &e)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ce-specversion":     "1.0",
		"ce-id":              "ev-1",
		"ce-source":          "urn:atlassian-installer",
		"ce-type":            "atlassian.install.ordered",
		"ce-subject":         "req-1",
		"ce-time":            "2026-01-02T02:04:05.000000006Z",
		"ce-datacontenttype": "application/json",
		"ce-traceparent":     testTraceparent,
		"Nats-Msg-Id":        "ev-1",
	}
	for k, v := range want {
		if got := m.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if m.Subject != "atlassian.install.ordered" || string(m.Data) != `{"orderId":"o-1"}` {
		t.Errorf("subject %q data %s", m.Subject, m.Data)
	}

	bad := event.New()
	bad.SetID("x")
	if _, err := events.ToNATS("s", &bad); !errors.Is(err, events.ErrInvalidEvent) {
		t.Errorf("invalid event: %v", err)
	}
	if _, err := events.ToNATS("s", nil); !errors.Is(err, events.ErrInvalidEvent) {
		t.Errorf("nil event: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	e := event.New()
	e.SetID("ev-2")
	e.SetSource("urn:atlassian-installer")
	e.SetType("atlassian.install.failed")
	e.SetSubject("req-2")
	e.SetTime(time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC))
	e.SetDataSchema("https://schemas.example/failed.json")
	e.SetExtension("traceparent", testTraceparent)
	e.SetExtension("tenant", "acme")
	if err := e.SetData(event.ApplicationJSON, events.Failed{RequestID: "req-2", Stage: events.StageOrder, Code: events.CodeOrderFailed}); err != nil {
		t.Fatal(err)
	}
	m, err := events.ToNATS(e.Type(), &e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := events.FromNATS(m.Header, m.Data)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != e.String() {
		t.Errorf("round trip:\n%s\nwant\n%s", got, e)
	}
	if string(got.Data()) != string(e.Data()) {
		t.Errorf("data %s, want %s", got.Data(), e.Data())
	}
}

func TestTraceparentAbsent(t *testing.T) {
	e := event.New()
	if got := events.Traceparent(&e); got != "" {
		t.Errorf("traceparent = %q", got)
	}
	if got := events.Traceparent(nil); got != "" {
		t.Errorf("traceparent(nil) = %q", got)
	}
}
