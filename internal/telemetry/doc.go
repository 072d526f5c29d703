// Package telemetry gives the installer its traces, metrics and logs from the outside: a
// handlers.Middleware, a handlers.StepObserver, a handlers.FaultObserver and a
// handlers.OutcomeObserver around the journeys, an http.Client for the
// Atlassian client, a decorator of the journeys' Atlassian API, and a JetStream decorator for
// the events the installer publishes. Journey code imports none of it; cmd/installer wires it.
//
//	tel, err := telemetry.New(ctx, telemetry.Config{})
//	defer tel.Shutdown(ctx)
//	c, _ := client.NewClient(tel.ClientOptions(client.PooledHTTPClient(cfg.Concurrency))...)
//	js, api, cfg, err := tel.Instrument(js, api, cfg)
//	in, _ := handlers.NewInstaller(js, api, cfg)
//	mux.Handle("GET /metrics", tel.MetricsHandler())
//
// # Traces
//
// Each delivery of a request message gets a CONSUMER span "process {subject}" whose parent is
// the request's own trace context (ce-traceparent, the CloudEvents distributed-tracing
// extension; for a message that is no CloudEvent, a W3C traceparent header). The OpenTelemetry
// messaging conventions allow a link or the parent; the parent is used because a message is
// processed alone, so a request and everything done for it are one trace. Each journey step is
// a child span "step {name}"; every Atlassian call is a CLIENT span "{METHOD} {route template}"
// (otelhttp); every published event is a PRODUCER span "publish {subject}". Outbound events keep
// the request's ce-traceparent when it had one, and carry the producer span's context when it
// had none.
//
// Exporters follow the standard OTEL_* variables (go.opentelemetry.io/contrib/exporters/autoexport)
// but none runs unless asked: OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER, or an
// OTEL_EXPORTER_OTLP_(TRACES_|METRICS_)ENDPOINT. Spans are made either way, so log lines carry
// trace ids.
//
// # Metrics
//
// OpenTelemetry instruments read by a Prometheus exporter into a registry of its own, served
// by MetricsHandler; the names are listed in metrics.go. Journeys are counted by the outcomes
// the installer tells ObserveOutcome of, never by reading back the events it publishes.
//
// # Logs
//
// NewLogHandler wraps a slog.Handler so that every record carries the trace_id and span_id of
// its context, and request_id when the context has one; attributes whose key names a credential
// are redacted.
package telemetry
