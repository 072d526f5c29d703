package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"sort"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
	"github.com/nats-io/nats.go"
)

// Header names of the CloudEvents NATS protocol binding and of the installer.
const (
	// HeaderPrefix starts every CloudEvents attribute header in binary mode.
	HeaderPrefix = "ce-"
	// HeaderContentType carries datacontenttype in binary mode, or
	// application/cloudevents+json in structured mode.
	HeaderContentType = "Content-Type"
	// HeaderMsgID is the JetStream de-duplication header; outbound events set it to their id.
	HeaderMsgID = "Nats-Msg-Id"
	// HeaderError carries the reason a message was dead-lettered.
	HeaderError = "Installer-Error"
	// ExtensionTraceparent is the distributed-tracing extension attribute (W3C traceparent).
	ExtensionTraceparent = "traceparent"
	// ExtensionTracestate accompanies traceparent when the trace has vendor state.
	ExtensionTracestate = "tracestate"
)

// ContentTypeStructured is the media type of a structured-mode CloudEvent.
const ContentTypeStructured = "application/cloudevents+json"

const specVersion = event.CloudEventsVersionV1

// FromNATS reads a CloudEvent from a NATS message in either content mode of the NATS protocol
// binding and validates it:
//   - structured, when Content-Type is application/cloudevents+json, or when there is no
//     ce-specversion header and the body is a JSON object with "specversion";
//   - binary, when there is a ce-specversion header: ce-* headers are the attributes and
//     extensions, the body is the data, its type is ce-datacontenttype or else Content-Type.
//
// Header names are matched without regard to case. Only CloudEvents 1.0 is accepted. Anything
// else returns ErrNotCloudEvent, wrapped with the reason.
func FromNATS(header nats.Header, data []byte) (*event.Event, error) {
	h := lowerHeader(header)
	ct := h[strings.ToLower(HeaderContentType)]
	switch {
	case isStructuredContentType(ct):
		return fromStructured(data)
	case h[HeaderPrefix+"specversion"] != "":
		return fromBinary(h, data)
	case looksStructured(data):
		return fromStructured(data)
	case strings.HasPrefix(mediaType(ct), "application/cloudevents-batch"):
		return nil, notCloudEvent("batched CloudEvents (%s) are not accepted", ct)
	default:
		return nil, notCloudEvent("no ce-specversion header and the body is not a structured CloudEvent")
	}
}

// ToNATS maps e to a NATS message on subject in binary mode: ce-* headers for the attributes
// and extensions, the data as the body, and Nats-Msg-Id = the event id so JetStream stores a
// re-published event once. An event that fails the sdk's validation returns ErrInvalidEvent.
func ToNATS(subject string, e *event.Event) (*nats.Msg, error) {
	if e == nil {
		return nil, fmt.Errorf("%w: nil event", ErrInvalidEvent)
	}
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalidEvent, validationReason(err))
	}
	if e.SpecVersion() != specVersion {
		return nil, fmt.Errorf("%w: specversion %q, want %q", ErrInvalidEvent, e.SpecVersion(), specVersion)
	}
	m := nats.NewMsg(subject)
	set := func(name, v string) {
		if v != "" {
			m.Header.Set(HeaderPrefix+name, v)
		}
	}
	set("specversion", e.SpecVersion())
	set("id", e.ID())
	set("source", e.Source())
	set("type", e.Type())
	set("subject", e.Subject())
	if t := e.Time(); !t.IsZero() {
		set("time", t.UTC().Format(time.RFC3339Nano))
	}
	set("dataschema", e.DataSchema())
	set("datacontenttype", e.DataContentType())
	for name, v := range e.Extensions() {
		s, err := types.Format(v)
		if err != nil {
			return nil, fmt.Errorf("%w: extension %s: %v", ErrInvalidEvent, name, err)
		}
		if strings.ContainsAny(s, "\r\n") {
			return nil, fmt.Errorf("%w: extension %s contains a line break", ErrInvalidEvent, name)
		}
		set(name, s)
	}
	m.Header.Set(HeaderMsgID, e.ID())
	m.Data = e.Data()
	return m, nil
}

func fromStructured(data []byte) (*event.Event, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, notCloudEvent("structured mode with an empty body")
	}
	e := event.New()
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, notCloudEvent("structured mode body is not a CloudEvent: %v", err)
	}
	if e.SpecVersion() != specVersion {
		return nil, notCloudEvent("specversion %q is not supported, want %q", e.SpecVersion(), specVersion)
	}
	return validated(&e)
}

func fromBinary(h map[string]string, data []byte) (*event.Event, error) {
	if v := h[HeaderPrefix+"specversion"]; v != specVersion {
		return nil, notCloudEvent("ce-specversion %q is not supported, want %q", v, specVersion)
	}
	e := event.New(specVersion)
	for name, v := range h {
		attr, ok := strings.CutPrefix(name, HeaderPrefix)
		if !ok {
			continue
		}
		switch attr {
		case "specversion":
		case "id":
			e.SetID(v)
		case "source":
			e.SetSource(v)
		case "type":
			e.SetType(v)
		case "subject":
			e.SetSubject(v)
		case "dataschema":
			e.SetDataSchema(v)
		case "datacontenttype":
			e.SetDataContentType(v)
		case "time":
			t, err := types.ParseTime(v)
			if err != nil {
				return nil, notCloudEvent("ce-time %q is not an RFC 3339 time", v)
			}
			e.SetTime(t)
		default:
			e.SetExtension(attr, v)
		}
	}
	if e.DataContentType() == "" {
		if ct := h[strings.ToLower(HeaderContentType)]; ct != "" {
			e.SetDataContentType(ct)
		}
	}
	if len(data) > 0 {
		e.DataEncoded = bytes.Clone(data)
	}
	return validated(&e)
}

func validated(e *event.Event) (*event.Event, error) {
	if err := e.Validate(); err != nil {
		return nil, notCloudEvent("%s", validationReason(err))
	}
	return e, nil
}

// validationReason orders the sdk's per-attribute errors, which come from a map, so the same
// event always gives the same message.
func validationReason(err error) string {
	ve, ok := err.(event.ValidationError)
	if !ok {
		return err.Error()
	}
	parts := make([]string, 0, len(ve))
	for attr, e := range ve {
		parts = append(parts, attr+": "+e.Error())
	}
	sort.Strings(parts)
	return "invalid attributes: " + strings.Join(parts, "; ")
}

func notCloudEvent(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotCloudEvent, fmt.Sprintf(format, args...))
}

// lowerHeader keeps the first value of each header under its lower-case name: NATS header names
// are case-sensitive, but producers spell Content-Type and ce-* in every way.
func lowerHeader(h nats.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		if len(vs) == 0 {
			continue
		}
		lk := strings.ToLower(k)
		// When a name comes in several spellings, the lower-case one wins, whatever the map order.
		if _, dup := out[lk]; !dup || k == lk {
			out[lk] = vs[0]
		}
	}
	return out
}

func mediaType(ct string) string {
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(ct))
	}
	return mt
}

func isStructuredContentType(ct string) bool {
	return mediaType(ct) == ContentTypeStructured
}

// looksStructured reports a JSON object body with a top-level "specversion" member.
func looksStructured(data []byte) bool {
	t := bytes.TrimSpace(data)
	if len(t) == 0 || t[0] != '{' {
		return false
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(t, &probe); err != nil {
		return false
	}
	_, ok := probe["specversion"]
	return ok
}
