package deploy

import (
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// collectorConfig is the part of the Collector's configuration the stack relies on.
type collectorConfig struct {
	Receivers struct {
		OTLP struct {
			Protocols map[string]struct {
				Endpoint string `yaml:"endpoint"`
			} `yaml:"protocols"`
		} `yaml:"otlp"`
	} `yaml:"receivers"`
	Exporters map[string]struct {
		Endpoint string `yaml:"endpoint"`
	} `yaml:"exporters"`
	Service struct {
		Pipelines map[string]struct {
			Receivers []string `yaml:"receivers"`
			Exporters []string `yaml:"exporters"`
		} `yaml:"pipelines"`
	} `yaml:"service"`
}

// TestCollectorForwardsTracesToJaeger follows a span from the installers' OTLP endpoint to Jaeger.
func TestCollectorForwardsTracesToJaeger(t *testing.T) {
	data, err := os.ReadFile("otel-collector.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg collectorConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if got := cfg.Receivers.OTLP.Protocols["http"].Endpoint; got != "0.0.0.0:4318" {
		t.Errorf("OTLP/HTTP receiver on %q, want 0.0.0.0:4318 (OTEL_EXPORTER_OTLP_ENDPOINT)", got)
	}
	traces, ok := cfg.Service.Pipelines["traces"]
	if !ok || !slices.Contains(traces.Receivers, "otlp") {
		t.Fatalf("no traces pipeline from the otlp receiver: %+v", cfg.Service.Pipelines)
	}
	toJaeger := false
	for _, name := range traces.Exporters {
		if cfg.Exporters[name].Endpoint == "jaeger:4317" {
			toJaeger = true
		}
	}
	if !toJaeger {
		t.Errorf("traces exporters %v: none sends to jaeger:4317", traces.Exporters)
	}

	f := loadCompose(t)
	for _, name := range installers {
		env := f.Services[name].Environment
		// An OTLP endpoint alone turns every signal's exporter on; the collector must take each
		// signal the installers push, or they log export errors forever.
		if _, ok := cfg.Service.Pipelines["metrics"]; !ok && env["OTEL_METRICS_EXPORTER"] != "none" {
			t.Errorf("%s pushes metrics over OTLP, but the collector has no metrics pipeline", name)
		}
	}
	if !slices.Contains(f.Services["otel-collector"].Volumes, "./deploy/otel-collector.yaml:/etc/otelcol-contrib/config.yaml:ro") {
		t.Error("otel-collector does not mount deploy/otel-collector.yaml as its configuration")
	}
	checkJaeger(t, f.Services["jaeger"])
}

// jaegerConfig is the part of a Jaeger v2 configuration the stack relies on.
type jaegerConfig struct {
	collectorConfig `yaml:",inline"`
	Extensions      struct {
		Storage struct {
			Backends map[string]any `yaml:"backends"`
		} `yaml:"jaeger_storage"`
		Query struct {
			Storage struct {
				Traces string `yaml:"traces"`
			} `yaml:"storage"`
			HTTP struct {
				Endpoint string `yaml:"endpoint"`
			} `yaml:"http"`
		} `yaml:"jaeger_query"`
	} `yaml:"extensions"`
}

// checkJaeger wants Jaeger v2 (all-in-one 1.x reached its end of life), configured by the
// mounted file: OTLP/gRPC in on 4317 where the collector sends, stored in a backend the query
// service (the UI, on the published 16686) reads.
func checkJaeger(t *testing.T, svc composeService) {
	t.Helper()
	repo, tag := splitImage(svc.Image)
	if repo != "jaegertracing/jaeger" || !strings.HasPrefix(tag, "2.") {
		t.Errorf("jaeger image %q, want jaegertracing/jaeger 2.x", svc.Image)
	}
	if !slices.Contains(svc.Volumes, "./deploy/jaeger.yaml:/etc/jaeger/config.yaml:ro") || !slices.Contains(svc.Command, "/etc/jaeger/config.yaml") {
		t.Errorf("jaeger does not run with deploy/jaeger.yaml: command %v, volumes %v", svc.Command, svc.Volumes)
	}
	data, err := os.ReadFile("jaeger.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg jaegerConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Exporters map[string]struct {
			TraceStorage string `yaml:"trace_storage"`
		} `yaml:"exporters"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if got := cfg.Receivers.OTLP.Protocols["grpc"].Endpoint; got != "0.0.0.0:4317" {
		t.Errorf("jaeger's OTLP/gRPC receiver on %q, want 0.0.0.0:4317 (the collector's exporter)", got)
	}
	traces, ok := cfg.Service.Pipelines["traces"]
	if !ok || !slices.Contains(traces.Receivers, "otlp") {
		t.Fatalf("jaeger has no traces pipeline from otlp: %+v", cfg.Service.Pipelines)
	}
	backends := cfg.Extensions.Storage.Backends
	stored := false
	for _, name := range traces.Exporters {
		if b := raw.Exporters[name].TraceStorage; b != "" {
			if _, ok := backends[b]; !ok {
				t.Errorf("exporter %s stores in %q, not a jaeger_storage backend", name, b)
			}
			stored = true
		}
	}
	if !stored {
		t.Error("jaeger's traces pipeline stores nothing")
	}
	if _, ok := backends[cfg.Extensions.Query.Storage.Traces]; !ok {
		t.Errorf("jaeger_query reads %q, not a jaeger_storage backend", cfg.Extensions.Query.Storage.Traces)
	}
	_, port, _ := strings.Cut(cfg.Extensions.Query.HTTP.Endpoint, ":")
	if ps := parsePorts(t, svc.Ports); len(ps) != 1 || ps[0].container != port || port != "16686" {
		t.Errorf("jaeger UI on %q, published %v; want 16686 on both", cfg.Extensions.Query.HTTP.Endpoint, svc.Ports)
	}
}
