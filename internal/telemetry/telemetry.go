package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// DefaultServiceName is service.name unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES say
// otherwise.
const DefaultServiceName = "atlassian-installer"

// instrumentation is the name of the tracer and meter of the installer's own spans and metrics.
const instrumentation = "github.com/procurement/atlassian-installer"

// Config tunes New. The zero value is production: exporters from the environment, the real clock.
type Config struct {
	// ServiceName is service.name when the environment sets none (DefaultServiceName).
	ServiceName string
	// Getenv reads the OTEL_* variables that decide whether an exporter runs (os.Getenv).
	// The exporters themselves read the process environment.
	Getenv func(string) string
	// SpanExporter, when set, receives every span synchronously, besides any exporter the
	// environment asks for; tests pass a tracetest.InMemoryExporter.
	SpanExporter sdktrace.SpanExporter
	// Clock times the provisioning-answer-to-order gap (clockwork.NewRealClock()).
	Clock clockwork.Clock
}

// Telemetry holds the process's tracer and meter providers and the instruments the decorators
// record into. It is safe for concurrent use.
type Telemetry struct {
	tp       *sdktrace.TracerProvider
	mp       *sdkmetric.MeterProvider
	registry *prometheus.Registry
	prop     propagation.TextMapPropagator
	tracer   trace.Tracer
	meter    metric.Meter
	clock    clockwork.Clock
	m        *instruments
	leader   atomic.Pointer[func() bool] // ObserveQuota's
}

// New builds the providers: spans always (so logs carry trace ids), exported only where the
// OTEL_* variables ask; metrics always readable on MetricsHandler, and pushed where the
// variables ask. OTEL_SDK_DISABLED=true turns every exporter off.
func New(ctx context.Context, cfg Config) (*Telemetry, error) {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.ServiceName == "" {
		cfg.ServiceName = DefaultServiceName
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", cfg.ServiceName)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("telemetry resource: %w", err)
	}
	disabled := strings.EqualFold(strings.TrimSpace(cfg.Getenv("OTEL_SDK_DISABLED")), "true")

	topts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if cfg.SpanExporter != nil {
		topts = append(topts, sdktrace.WithSyncer(cfg.SpanExporter))
	}
	if !disabled && asked(cfg.Getenv, "OTEL_TRACES_EXPORTER", "TRACES") {
		exp, err := autoexport.NewSpanExporter(ctx)
		if err != nil {
			return nil, fmt.Errorf("OTEL_TRACES_EXPORTER: %w", err)
		}
		if !autoexport.IsNoneSpanExporter(exp) {
			topts = append(topts, sdktrace.WithBatcher(exp))
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	promExp, err := otelprom.New(
		otelprom.WithRegisterer(reg),
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
		otelprom.WithoutScopeInfo(),
	)
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	mopts := []sdkmetric.Option{sdkmetric.WithResource(res), sdkmetric.WithReader(promExp), sdkmetric.WithView(histogramViews()...)}
	if !disabled && asked(cfg.Getenv, "OTEL_METRICS_EXPORTER", "METRICS") {
		r, err := autoexport.NewMetricReader(ctx)
		if err != nil {
			return nil, fmt.Errorf("OTEL_METRICS_EXPORTER: %w", err)
		}
		if !autoexport.IsNoneMetricReader(r) {
			mopts = append(mopts, sdkmetric.WithReader(r))
		}
	}

	t := &Telemetry{
		tp:       sdktrace.NewTracerProvider(topts...),
		mp:       sdkmetric.NewMeterProvider(mopts...),
		registry: reg,
		prop:     propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		clock:    cfg.Clock,
	}
	t.tracer = t.tp.Tracer(instrumentation)
	t.meter = t.mp.Meter(instrumentation)
	if t.m, err = newInstruments(t.meter); err != nil {
		return nil, errors.Join(err, t.Shutdown(ctx))
	}
	return t, nil
}

// asked reports whether the environment asks for an exporter of a signal: its
// OTEL_{SIGNAL}_EXPORTER is set, or an OTLP endpoint is (autoexport then defaults to OTLP).
func asked(getenv func(string) string, exporterVar, signal string) bool {
	if strings.TrimSpace(getenv(exporterVar)) != "" {
		return true
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_"+signal+"_ENDPOINT") != ""
}

// MetricsHandler serves the metrics in the Prometheus text format, from a registry of the
// Telemetry's own (not the global one, so that two installers in one process never collide).
func (t *Telemetry) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{})
}

// Shutdown flushes and stops the exporters; ctx bounds it.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	return errors.Join(t.tp.Shutdown(ctx), t.mp.Shutdown(ctx))
}
