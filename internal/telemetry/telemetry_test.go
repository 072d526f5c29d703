package telemetry_test

import (
	"context"
	"strings"
	"testing"

	"github.com/procurement/atlassian-installer/internal/telemetry"
)

// TestExportersOnlyWhenAsked: with no OTEL_* variable nothing is exported; a bad exporter name
// stops start-up with the variable named; "none" and OTEL_SDK_DISABLED are honoured.
func TestExportersOnlyWhenAsked(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{name: "nothing asked", env: map[string]string{}},
		{name: "none", env: map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none"}},
		{name: "console", env: map[string]string{"OTEL_TRACES_EXPORTER": "console"}},
		{name: "otlp endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}},
		{name: "unknown exporter", env: map[string]string{"OTEL_TRACES_EXPORTER": "carrier-pigeon"}, wantErr: "OTEL_TRACES_EXPORTER"},
		{name: "disabled", env: map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "carrier-pigeon"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			tel, err := telemetry.New(context.Background(), telemetry.Config{Getenv: func(k string) string { return tt.env[k] }})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // an unreachable OTLP endpoint must not hold shutdown up
			_ = tel.Shutdown(ctx)
		})
	}
}
