package deploy

import (
	"os"
	"slices"
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
	if _, ok := f.Services["jaeger"]; !ok {
		t.Error("no jaeger service to receive the traces")
	}
}
