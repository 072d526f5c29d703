package deploy

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// Monitoring holds the Prometheus configuration and alert rules (prometheus/) and the Grafana
// provisioning and dashboards (grafana/) of the compose stack, which Kubernetes users load too.
//
//go:embed prometheus grafana
var Monitoring embed.FS

// Query is one PromQL expression of the alert rules or the dashboards.
type Query struct {
	// Where names it: "alert InstallerDown" or "dashboard installer.json panel Failures by code".
	Where string
	// Expr is the expression, Grafana's interval variables ($__rate_interval, $__interval,
	// $__range) replaced by 5m so that it parses as PromQL.
	Expr string
}

// AlertRules is the part of a Prometheus rule file the installer's rules use.
type AlertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// Dashboard is the part of a Grafana dashboard the installer's dashboards use.
type Dashboard struct {
	UID    string  `json:"uid"`
	Title  string  `json:"title"`
	Panels []Panel `json:"panels"`
}

// Panel is one panel of a Dashboard; a row holds none of its own queries.
type Panel struct {
	Title      string      `json:"title"`
	Type       string      `json:"type"`
	Datasource *Datasource `json:"datasource"`
	Targets    []struct {
		Expr       string      `json:"expr"`
		Datasource *Datasource `json:"datasource"`
	} `json:"targets"`
}

// Datasource names a Grafana data source by type and uid.
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// LoadAlertRules parses prometheus/alerts.yml.
func LoadAlertRules() (*AlertRules, error) {
	data, err := fs.ReadFile(Monitoring, "prometheus/alerts.yml")
	if err != nil {
		return nil, err
	}
	var r AlertRules
	if err := yaml.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("prometheus/alerts.yml: %w", err)
	}
	return &r, nil
}

// LoadDashboards parses every dashboard of grafana/dashboards, by file name.
func LoadDashboards() (map[string]*Dashboard, error) {
	files, err := fs.Glob(Monitoring, "grafana/dashboards/*.json")
	if err != nil {
		return nil, err
	}
	out := map[string]*Dashboard{}
	for _, f := range files {
		data, err := fs.ReadFile(Monitoring, f)
		if err != nil {
			return nil, err
		}
		var d Dashboard
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out[strings.TrimPrefix(f, "grafana/dashboards/")] = &d
	}
	return out, nil
}

// grafanaIntervals are Grafana's built-in variables that stand for a range in PromQL.
var grafanaIntervals = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "5m", "$__range", "5m")

// Queries returns every expression of the alert rules and the dashboards.
func Queries() ([]Query, error) {
	rules, err := LoadAlertRules()
	if err != nil {
		return nil, err
	}
	var out []Query
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			out = append(out, Query{Where: "alert " + r.Alert, Expr: r.Expr})
		}
	}
	dashboards, err := LoadDashboards()
	if err != nil {
		return nil, err
	}
	for file, d := range dashboards {
		for _, p := range d.Panels {
			for _, t := range p.Targets {
				out = append(out, Query{Where: "dashboard " + file + " panel " + p.Title, Expr: grafanaIntervals.Replace(t.Expr)})
			}
		}
	}
	return out, nil
}

// Metrics parses the expression as PromQL and returns the metric names it selects, in order of
// appearance; an error when it does not parse.
func (q Query) Metrics() ([]string, error) {
	expr, err := parser.ParseExpr(q.Expr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q.Where, err)
	}
	var names []string
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name != "" && !slices.Contains(names, name) {
			names = append(names, name)
		}
		return nil
	})
	return names, nil
}
