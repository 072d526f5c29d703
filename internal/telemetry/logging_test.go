package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/procurement/atlassian-installer/internal/telemetry"
)

func decodeLines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		out = append(out, rec)
	}
	return out
}

func TestLogHandlerAddsIDsFromContext(t *testing.T) {
	var b bytes.Buffer
	log := telemetry.NewLogger(&b, slog.LevelInfo, false)
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("test").Start(telemetry.WithRequestID(context.Background(), "req-1"), "s")
	defer span.End()

	log.InfoContext(ctx, "with context")
	log.With("request_id", "req-1").InfoContext(ctx, "request id given twice")
	log.Info("without context")
	log.DebugContext(ctx, "below the level")

	recs := decodeLines(t, &b)
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3: %s", len(recs), b.String())
	}
	for _, r := range recs[:2] {
		if r["request_id"] != "req-1" || r["trace_id"] != span.SpanContext().TraceID().String() || r["span_id"] != span.SpanContext().SpanID().String() {
			t.Errorf("record %v lacks the ids of its context", r)
		}
	}
	if n := strings.Count(b.String(), `"request_id"`); n != 2 {
		t.Errorf("request_id appears %d times in two records; the logger's own must not be repeated", n)
	}
	if _, ok := recs[2]["trace_id"]; ok {
		t.Errorf("a record without context has a trace id: %v", recs[2])
	}
}

func TestLogHandlerRedactsCredentialKeys(t *testing.T) {
	var b bytes.Buffer
	log := telemetry.NewLogger(&b, slog.LevelInfo, false)
	log.With("api_key", "k-123").Info("x",
		"Authorization", "Bearer t-456",
		slog.Group("atlassian", "api_token", "t-789", "email", "admin@acme.example"),
		"password", "p-000", "order_id", "o-1")
	out := b.String()
	for _, s := range []string{"k-123", "t-456", "t-789", "p-000"} {
		if strings.Contains(out, s) {
			t.Errorf("log shows %q: %s", s, out)
		}
	}
	for _, s := range []string{"o-1", "admin@acme.example", "[REDACTED]"} {
		if !strings.Contains(out, s) {
			t.Errorf("log lacks %q: %s", s, out)
		}
	}
}

func TestTextLogger(t *testing.T) {
	var b bytes.Buffer
	telemetry.NewLogger(&b, slog.LevelWarn, true).Warn("careful", "n", 1)
	if got := b.String(); !strings.Contains(got, "level=WARN msg=careful n=1") {
		t.Errorf("text log %q", got)
	}
}
