package deploy

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// readmeMetricRE finds the metrics of the README's Observability table: `installer_…` or
// `atlassian_client_…` in the first column.
var readmeMetricRE = regexp.MustCompile("(?m)^\\| `((?:installer|atlassian_client)_[a-z_]+)")

// documentedMetrics are the metric families the README documents, with the series Prometheus
// derives from histograms, and Prometheus's own "up".
func documentedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"up": true}
	for _, m := range readmeMetricRE.FindAllStringSubmatch(string(readme), -1) {
		known[m[1]] = true
		if strings.HasSuffix(m[1], "_seconds") {
			for _, s := range []string{"_bucket", "_count", "_sum"} {
				known[m[1]+s] = true
			}
		}
	}
	if len(known) < 10 {
		t.Fatalf("the README's metrics table lists %d metrics", len(known))
	}
	return known
}

// TestMonitoringQueries parses every expression of the alert rules and the dashboards with
// Prometheus's own PromQL parser, and wants each metric they select documented. The
// internal/telemetry test of /metrics checks the same names against a real scrape.
func TestMonitoringQueries(t *testing.T) {
	queries, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	known := documentedMetrics(t)
	used := map[string]bool{}
	for _, q := range queries {
		names, err := q.Metrics()
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		for _, n := range names {
			used[n] = true
			if !known[n] {
				t.Errorf("%s: metric %s is not one the installer exposes (README, Observability)", q.Where, n)
			}
		}
	}
	// The list: journeys by outcome, failures by code, the provisioning-to-order gap,
	// quota use and 429s, consumer lag, dead letters, redeliveries.
	for _, n := range []string{
		"installer_journeys_succeeded_total", "installer_journeys_failed_total",
		"installer_provision_order_gap_seconds_bucket", "atlassian_client_requests_total",
		"atlassian_client_rate_limited_total", "installer_consumer_pending_messages",
		"installer_dead_letters_total", "installer_redeliveries_total",
	} {
		if !used[n] {
			t.Errorf("no alert or panel uses %s", n)
		}
	}
}

// A query that does not parse, or names a metric nobody exposes, is caught.
func TestQueryMetrics(t *testing.T) {
	got, err := Query{Expr: `sum by (code) (rate(installer_journeys_failed_total{code!="x"}[5m])) / on() group_left {__name__="up"}`}.Metrics()
	if err != nil || !slices.Equal(got, []string{"installer_journeys_failed_total", "up"}) {
		t.Errorf("Metrics = %v, %v", got, err)
	}
	if _, err := (Query{Where: "x", Expr: "sum(rate(x[5m]) > "}).Metrics(); err == nil {
		t.Error("a broken expression parses")
	}
}

func TestAlertRules(t *testing.T) {
	rules, err := LoadAlertRules()
	if err != nil {
		t.Fatal(err)
	}
	if len(rules.Groups) == 0 {
		t.Fatal("no rule groups")
	}
	names := map[string]bool{}
	for _, g := range rules.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: a name and rules, please", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert == "" || names[r.Alert] {
				t.Errorf("alert %q: empty or listed twice", r.Alert)
			}
			names[r.Alert] = true
			if r.For != "" {
				if _, err := model.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
				}
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs a summary and a description", r.Alert)
			}
		}
	}
}

// prometheusConfig is the part of prometheus.yml the stack relies on.
type prometheusConfig struct {
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

// TestPrometheusScrapesEveryInstaller wants Prometheus in the compose stack scraping /metrics of
// every installer service on the port it listens on, with the alert rules loaded.
func TestPrometheusScrapesEveryInstaller(t *testing.T) {
	data, err := fs.ReadFile(Monitoring, "prometheus/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg prometheusConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	f := loadCompose(t)
	prom, ok := f.Services["prometheus"]
	if !ok {
		t.Fatal("no prometheus service")
	}
	mounts := map[string]string{} // container path -> source
	for _, v := range prom.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 {
			mounts[parts[1]] = parts[0]
		}
	}
	if mounts["/etc/prometheus/prometheus.yml"] != "./deploy/prometheus/prometheus.yml" {
		t.Errorf("prometheus does not mount deploy/prometheus/prometheus.yml: %v", prom.Volumes)
	}
	if !slices.Contains(prom.Command, "--config.file=/etc/prometheus/prometheus.yml") {
		t.Errorf("prometheus command %v does not load the mounted configuration", prom.Command)
	}
	for _, rf := range cfg.RuleFiles {
		if src := mounts[rf]; src != "./deploy/prometheus/alerts.yml" {
			t.Errorf("rule file %s is mounted from %q, want ./deploy/prometheus/alerts.yml", rf, src)
		}
	}
	if len(cfg.RuleFiles) == 0 {
		t.Error("no rule_files: the alert rules are never evaluated")
	}
	var targets []string
	for _, sc := range cfg.ScrapeConfigs {
		if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" {
			t.Errorf("job %s scrapes %s, the installer serves /metrics", sc.JobName, sc.MetricsPath)
		}
		for _, st := range sc.StaticConfigs {
			targets = append(targets, st.Targets...)
		}
	}
	var want []string
	for name, svc := range f.Services {
		if svc.Build != nil && len(svc.Entrypoint) == 0 && len(svc.Profiles) == 0 { // the image's entrypoint: an installer
			_, port, err := net.SplitHostPort(svc.Environment["INSTALLER_HTTP_ADDR"])
			if err != nil {
				t.Errorf("%s: INSTALLER_HTTP_ADDR %q", name, svc.Environment["INSTALLER_HTTP_ADDR"])
			}
			want = append(want, name+":"+port)
		}
	}
	slices.Sort(want)
	slices.Sort(targets)
	if len(want) != len(installers) || !slices.Equal(targets, want) {
		t.Errorf("Prometheus scrapes %v, want every installer %v", targets, want)
	}
}

// TestGrafanaProvisioning wants the dashboards loaded from the mounted directory and each
// panel querying the provisioned Prometheus data source.
func TestGrafanaProvisioning(t *testing.T) {
	var sources struct {
		Datasources []struct {
			UID  string `yaml:"uid"`
			Type string `yaml:"type"`
			URL  string `yaml:"url"`
		} `yaml:"datasources"`
	}
	data, err := fs.ReadFile(Monitoring, "grafana/provisioning/datasources/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &sources); err != nil {
		t.Fatal(err)
	}
	if len(sources.Datasources) != 1 || sources.Datasources[0].Type != "prometheus" || sources.Datasources[0].URL != "http://prometheus:9090" {
		t.Fatalf("data sources %+v, want the compose stack's Prometheus", sources.Datasources)
	}
	uid := sources.Datasources[0].UID

	var providers struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	data, err = fs.ReadFile(Monitoring, "grafana/provisioning/dashboards/installer.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &providers); err != nil {
		t.Fatal(err)
	}
	grafana := loadCompose(t).Services["grafana"]
	for _, p := range providers.Providers {
		if !slices.Contains(grafana.Volumes, "./deploy/grafana/dashboards:"+p.Options.Path+":ro") {
			t.Errorf("dashboards are read from %s, where grafana mounts nothing of deploy/grafana/dashboards (%v)", p.Options.Path, grafana.Volumes)
		}
	}
	if !slices.Contains(grafana.Volumes, "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro") {
		t.Errorf("grafana does not mount the provisioning: %v", grafana.Volumes)
	}

	dashboards, err := LoadDashboards()
	if err != nil {
		t.Fatal(err)
	}
	if len(dashboards) == 0 {
		t.Fatal("no dashboards")
	}
	for file, d := range dashboards {
		if d.UID == "" || d.Title == "" {
			t.Errorf("%s: a uid and a title, please", file)
		}
		for _, p := range d.Panels {
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", file, p.Title)
			}
			if p.Datasource == nil || p.Datasource.UID != uid {
				t.Errorf("%s: panel %q does not query data source %s", file, p.Title, uid)
			}
			for _, tg := range p.Targets {
				if tg.Datasource != nil && tg.Datasource.UID != uid {
					t.Errorf("%s: a query of panel %q asks data source %s", file, p.Title, tg.Datasource.UID)
				}
			}
		}
	}
}
