package main

import (
	"context"
	"fmt"

	"github.com/procurement/atlassian-installer/internal/telemetry"
)

// newTelemetry builds the tracer and meter providers. Exporters run only where the standard
// OTEL_* variables ask; /metrics is always served. Traces, metrics and log context are put
// around the installer's parts in serve, with tel.ClientOptions and tel.Instrument: the
// journeys, the Atlassian client and the JetStream publisher know nothing of them.
func newTelemetry(ctx context.Context, getenv func(string) string) (*telemetry.Telemetry, error) {
	tel, err := telemetry.New(ctx, telemetry.Config{Getenv: getenv})
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	return tel, nil
}
