package events

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"
)

// Limits of a request event's attributes: every outcome carries the request id as its
// subject, a header.
const (
	// MaxRequestIDLen bounds the request id, in characters.
	MaxRequestIDLen = 256
	// MaxSourceLen bounds the request's source, in characters.
	MaxSourceLen = 1024
)

// CheckRequestEvent returns, wrapped in ErrUnanswerable, why no outcome event could carry the
// request event e: an id that is empty, longer than MaxRequestIDLen, not UTF-8, holds a
// control character or begins or ends with a space (nats.go trims header values and turns line
// breaks into spaces, so ce-subject would no longer be the id); a source longer than
// MaxSourceLen, not UTF-8 or with a control character. Such a message belongs on the
// dead-letter subject.
func CheckRequestEvent(e *event.Event) error {
	if msg := checkAttribute(e.ID(), MaxRequestIDLen); msg != "" {
		return fmt.Errorf("%w: request id %s", ErrUnanswerable, msg)
	}
	if id := e.ID(); strings.HasPrefix(id, " ") || strings.HasSuffix(id, " ") {
		return fmt.Errorf("%w: request id %s begins or ends with a space, which a NATS header does not keep", ErrUnanswerable, quoted(id))
	}
	if msg := checkAttribute(e.Source(), MaxSourceLen); msg != "" {
		return fmt.Errorf("%w: source %s", ErrUnanswerable, msg)
	}
	return nil
}

func checkAttribute(v string, maxLen int) string {
	switch n := utf8.RuneCountInString(v); {
	case n == 0:
		return "is empty"
	case n > maxLen:
		return fmt.Sprintf("is %d characters long, more than %d", n, maxLen)
	case !utf8.ValidString(v):
		return fmt.Sprintf("%s is not UTF-8", quoted(v))
	}
	if i := strings.IndexFunc(v, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(v[i:])
		return fmt.Sprintf("%s holds a control character (%U at byte %d)", quoted(v), r, i)
	}
	return ""
}

// Traceparent returns the event's distributed-tracing traceparent, or "" when it has none or
// it is not a valid W3C trace context: an invalid one is dropped, never propagated, and never
// fails the request.
func Traceparent(e *event.Event) string {
	if e == nil {
		return ""
	}
	s, _ := e.Extensions()[ExtensionTraceparent].(string)
	if !ValidTraceparent(s) {
		return ""
	}
	return s
}

// Tracestate returns the event's tracestate, or "" when it is not valid W3C trace state or the
// event has no valid traceparent (trace state means nothing without it).
func Tracestate(e *event.Event) string {
	if Traceparent(e) == "" {
		return ""
	}
	s, _ := e.Extensions()[ExtensionTracestate].(string)
	if !validTracestate(s) {
		return ""
	}
	return s
}

// ValidTraceparent reports whether s is a W3C traceparent of version 00:
// 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>, lower case, ids not all zeros.
func ValidTraceparent(s string) bool {
	if len(s) != 55 || s[:3] != "00-" || s[35] != '-' || s[52] != '-' {
		return false
	}
	trace, span, flags := s[3:35], s[36:52], s[53:]
	return lowerHex(trace) && lowerHex(span) && lowerHex(flags) &&
		trace != strings.Repeat("0", 32) && span != strings.Repeat("0", 16)
}

func lowerHex(s string) bool {
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// validTracestate checks W3C trace state: at most 512 characters, at most 32 comma-separated
// members key=value (empty members allowed), keys of lower-case letters, digits and _-*/ with
// at most one @ (tenant@system), values of printable ASCII without , and =, not ending in a
// space.
func validTracestate(s string) bool {
	if s == "" || len(s) > 512 {
		return false
	}
	members := strings.Split(s, ",")
	if len(members) > 32 {
		return false
	}
	for _, m := range members {
		m = strings.Trim(m, " \t")
		if m == "" {
			continue
		}
		key, value, ok := strings.Cut(m, "=")
		if !ok || !validTracestateKey(key) || !validTracestateValue(value) {
			return false
		}
	}
	return true
}

func validTracestateKey(k string) bool {
	if k == "" || len(k) > 256 || strings.Count(k, "@") > 1 || k[0] < 'a' && !(k[0] >= '0' && k[0] <= '9') || k[0] > 'z' {
		return false
	}
	for i := range len(k) {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("_-*/@", c) >= 0) {
			return false
		}
	}
	return true
}

func validTracestateValue(v string) bool {
	if v == "" || len(v) > 256 || v[len(v)-1] == ' ' {
		return false
	}
	for i := range len(v) {
		if c := v[i]; c < 0x20 || c > 0x7e || c == ',' || c == '=' {
			return false
		}
	}
	return true
}
