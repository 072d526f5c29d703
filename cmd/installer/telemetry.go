package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/telemetry"
)

// This file is the one place where traces, metrics and log context are put around the concrete
// types: the journeys, the Atlassian client and the JetStream publisher know nothing of them.

// newTelemetry builds the tracer and meter providers. Exporters run only where the standard
// OTEL_* variables ask; /metrics is always served.
func newTelemetry(ctx context.Context, getenv func(string) string) (*telemetry.Telemetry, error) {
	tel, err := telemetry.New(ctx, telemetry.Config{Getenv: getenv})
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	return tel, nil
}

// clientTelemetry gives the Atlassian client its CLIENT spans, call metrics and retry counts.
// Its transport keeps as many idle connections to the API as steps run at once: with
// net/http's default of two, most calls of a busy installer would open a new connection (and
// against api.atlassian.com, a new TLS handshake).
func clientTelemetry(tel *telemetry.Telemetry, concurrency int) []client.Option {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = concurrency
	base := &http.Client{Transport: transport}
	return []client.Option{client.WithHTTPClient(tel.HTTPClient(base)), client.WithOnRetry(tel.OnRetry)}
}

// instrument wraps what the installer is built from: a span and metrics per delivery and per
// step, the provisioning-to-order gap, producer spans for published events, and consumer lag.
func instrument(tel *telemetry.Telemetry, js jetstream.JetStream, api handlers.API, cfg handlers.Config) (jetstream.JetStream, handlers.API, handlers.Config, error) {
	consumer := cfg.Consumer
	if consumer == "" {
		consumer = handlers.DefaultConsumer
	}
	if err := tel.ObserveConsumer(js, events.StreamRequests, consumer); err != nil {
		return nil, handlers.API{}, cfg, fmt.Errorf("telemetry: %w", err)
	}
	cfg.Middleware = append([]handlers.Middleware{tel.Middleware(consumer)}, cfg.Middleware...)
	cfg.Observe = tel.ObserveStep
	return tel.JetStream(js, cfg.Subjects), tel.API(api), cfg, nil
}
