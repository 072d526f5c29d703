package telemetry

import (
	"context"
	"io"
	"log/slog"
	"regexp"

	"go.opentelemetry.io/otel/trace"
)

// Log attribute keys added from a record's context.
const (
	LogKeyRequestID = "request_id"
	LogKeyTraceID   = "trace_id"
	LogKeySpanID    = "span_id"
)

// redactedValue replaces the value of an attribute whose key names a credential.
const redactedValue = "[REDACTED]"

// credentialKey matches attribute keys that name a credential. Credentials are kept out of log
// calls by their own types (cmd/installer's Secret, the client's closure); this is the net
// under them, should a header or a configuration value ever be logged by its name.
var credentialKey = regexp.MustCompile(`(?i)(authorization|api[_-]?key|api[_-]?token|password|secret|bearer|cookie|^token$)`)

// NewLogger returns a JSON logger, or a text logger when text is true (a person reading a
// terminal), with the context handler of NewLogHandler.
func NewLogger(w io.Writer, level slog.Leveler, text bool) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if text {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(NewLogHandler(h))
}

// NewLogHandler wraps next so that every record carries trace_id and span_id of the span in
// its context, and request_id when the context has one (see WithRequestID) and the logger
// does not carry it already; attributes whose key names a credential are redacted.
func NewLogHandler(next slog.Handler) slog.Handler {
	return &logHandler{next: next}
}

type logHandler struct {
	next         slog.Handler
	hasRequestID bool // the logger's own attributes carry request_id
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	if id := RequestID(ctx); id != "" && !h.hasRequestID {
		out.AddAttrs(slog.String(LogKeyRequestID, id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		out.AddAttrs(slog.String(LogKeyTraceID, sc.TraceID().String()), slog.String(LogKeySpanID, sc.SpanID().String()))
	}
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redact(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	has := h.hasRequestID
	clean := make([]slog.Attr, len(as))
	for i, a := range as {
		has = has || a.Key == LogKeyRequestID
		clean[i] = redact(a)
	}
	return &logHandler{next: h.next.WithAttrs(clean), hasRequestID: has}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{next: h.next.WithGroup(name), hasRequestID: h.hasRequestID}
}

// redact masks a credential-named attribute, in groups too.
func redact(a slog.Attr) slog.Attr {
	if credentialKey.MatchString(a.Key) {
		return slog.String(a.Key, redactedValue)
	}
	if a.Value.Kind() == slog.KindGroup {
		g := a.Value.Group()
		out := make([]slog.Attr, len(g))
		for i, x := range g {
			out[i] = redact(x)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	}
	return a
}
