package deploy

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.yaml.in/yaml/v3"
)

// composeFile is the part of the Compose specification the stack uses.
type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string                `yaml:"image"`
	Build       *composeBuild         `yaml:"build"`
	Entrypoint  []string              `yaml:"entrypoint"`
	Command     []string              `yaml:"command"`
	Environment map[string]string     `yaml:"environment"`
	Ports       []string              `yaml:"ports"`
	Volumes     []string              `yaml:"volumes"`
	DependsOn   map[string]dependency `yaml:"depends_on"`
	Healthcheck *healthcheck          `yaml:"healthcheck"`
	Profiles    []string              `yaml:"profiles"`
}

type composeBuild struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

type dependency struct {
	Condition string `yaml:"condition"`
}

type healthcheck struct {
	Test []string `yaml:"test"`
}

// port is one published port of the short syntax "IP:HOST:CONTAINER".
type port struct{ ip, host, container string }

// contractEnv are the variables CONTRACT.md's configuration table defines.
var contractEnv = []string{
	"NATS_URL", "NATS_CREDS", "INSTALLER_DATA_DIR", "ATLASSIAN_API_URL", "ATLASSIAN_API_KEY",
	"ATLASSIAN_EMAIL", "ATLASSIAN_API_TOKEN", "INSTALLER_SUBJECT_PREFIX", "INSTALLER_SOURCE",
	"INSTALLER_STREAM_REPLICAS", "INSTALLER_CONCURRENCY", "INSTALLER_ORDER_WINDOW",
	"INSTALLER_POLL_INTERVAL", "INSTALLER_JOURNEY_TIMEOUT", "INSTALLER_HTTP_ADDR",
}

// otelEnv are the standard OpenTelemetry SDK variables the stack may set; anything else named
// OTEL_* is a typo the SDK would silently ignore.
var otelEnv = []string{
	"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_EXPORTER",
	"OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
	"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
	"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
	"OTEL_PROPAGATORS",
}

var (
	// ownPrefixes mark the variables the product reads; each must be defined by the contract or
	// the README.
	ownPrefixes = []string{"INSTALLER_", "NATS_", "ATLASSIAN_"}
	envNameRE   = regexp.MustCompile(`\b(?:INSTALLER|NATS|ATLASSIAN)_[A-Z0-9_]*[A-Z0-9]\b`)
	versionRE   = regexp.MustCompile(`^v?\d+\.\d+\.\d+`)
	natsServers = []string{"nats-1", "nats-2", "nats-3"}
	installers  = []string{"installer-1", "installer-2"}
)

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "docker-compose.yml"))
	if err != nil {
		t.Fatalf("read docker-compose.yml: %v", err)
	}
	var f composeFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("parse docker-compose.yml: %v", err)
	}
	return f
}

// knownEnv is every product variable the contract or the README defines.
func knownEnv(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{}
	for _, name := range contractEnv {
		known[name] = true
	}
	if readme, err := os.ReadFile(filepath.Join("..", "README.md")); err == nil {
		for _, name := range envNameRE.FindAllString(string(readme), -1) {
			known[name] = true
		}
	}
	return known
}

func TestComposeServices(t *testing.T) {
	f := loadCompose(t)
	want := append(append(slices.Clone(natsServers), installers...),
		"sandbox", "installctl", "otel-collector", "jaeger", "prometheus", "grafana")
	for _, name := range want {
		if _, ok := f.Services[name]; !ok {
			t.Errorf("service %q missing", name)
		}
	}
	if got := len(f.Services); got != len(want) {
		t.Errorf("%d services, want %d (%v)", got, len(want), want)
	}
	if profiles := f.Services["installctl"].Profiles; !slices.Contains(profiles, "tools") {
		t.Errorf("installctl profiles = %v: it must not start with `docker compose up`", profiles)
	}
}

func TestComposeImagesPinned(t *testing.T) {
	f := loadCompose(t)
	for name, svc := range f.Services {
		ref := svc.Image
		if ref == "" {
			t.Errorf("%s: no image", name)
			continue
		}
		repo, tag := splitImage(ref)
		if tag == "" || tag == "latest" {
			t.Errorf("%s: image %q is not pinned to a version", name, ref)
			continue
		}
		if svc.Build != nil {
			// Built here from this tree; the tag names the build, not an upstream release.
			if svc.Build.Context != "." || svc.Build.Dockerfile != "Dockerfile" {
				t.Errorf("%s: build %+v, want the repository's Dockerfile", name, *svc.Build)
			}
			continue
		}
		if !versionRE.MatchString(tag) {
			t.Errorf("%s: image %q: tag %q is not a release version", name, repo, tag)
		}
	}
}

// splitImage splits "repo:tag@digest" into repository and tag.
func splitImage(ref string) (repo, tag string) {
	ref, _, _ = strings.Cut(ref, "@")
	slash := strings.LastIndex(ref, "/")
	if colon := strings.LastIndex(ref, ":"); colon > slash {
		return ref[:colon], ref[colon+1:]
	}
	return ref, ""
}

func TestComposeNATSCluster(t *testing.T) {
	f := loadCompose(t)
	names := map[string]bool{}
	for _, name := range natsServers {
		svc := f.Services[name]
		confPath := "/etc/nats/" + name + ".conf"
		if !slices.Contains(svc.Command, confPath) {
			t.Errorf("%s: command %v does not use %s", name, svc.Command, confPath)
		}
		if !slices.Contains(svc.Volumes, "./deploy/nats:/etc/nats:ro") {
			t.Errorf("%s: deploy/nats is not mounted read-only at /etc/nats: %v", name, svc.Volumes)
		}
		opts, err := server.ProcessConfigFile(filepath.Join("nats", name+".conf"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if opts.ServerName != name {
			t.Errorf("%s: server_name %q", name, opts.ServerName)
		}
		names[opts.ServerName] = true
		if !opts.JetStream || !opts.SyncAlways {
			t.Errorf("%s: jetstream %v, sync_interval always %v; want both", name, opts.JetStream, opts.SyncAlways)
		}
		dataVolume := name + "-data:/data"
		if !slices.Contains(svc.Volumes, dataVolume) || (opts.StoreDir != "/data" && !strings.HasPrefix(opts.StoreDir, "/data/")) {
			t.Errorf("%s: store_dir %q must live on volume %q (volumes %v)", name, opts.StoreDir, dataVolume, svc.Volumes)
		}
		if _, ok := f.Volumes[name+"-data"]; !ok {
			t.Errorf("volume %s-data not declared", name)
		}
		if opts.Cluster.Name == "" || opts.Cluster.Port != 6222 {
			t.Errorf("%s: cluster %q on port %d, want a named cluster on 6222", name, opts.Cluster.Name, opts.Cluster.Port)
		}
		var routes []string
		for _, r := range opts.Routes {
			routes = append(routes, r.Host)
		}
		for _, peer := range natsServers {
			if !slices.Contains(routes, peer+":6222") {
				t.Errorf("%s: no route to %s (routes %v)", name, peer, routes)
			}
		}
		if opts.Port != 4222 || opts.HTTPPort != 8222 {
			t.Errorf("%s: client port %d, monitoring port %d; want 4222 and 8222", name, opts.Port, opts.HTTPPort)
		}
		if svc.Healthcheck == nil || !strings.Contains(strings.Join(svc.Healthcheck.Test, " "), ":8222/healthz") {
			t.Errorf("%s: health check must ask the monitoring port's /healthz", name)
		}
	}
	if len(names) != len(natsServers) {
		t.Errorf("server names not distinct: %v", names)
	}
}

func TestComposeInstallers(t *testing.T) {
	f := loadCompose(t)
	known := knownEnv(t)
	sandboxEnv := f.Services["sandbox"].Environment
	for _, name := range installers {
		svc := f.Services[name]
		env := svc.Environment
		if len(svc.Entrypoint) != 0 || svc.Build == nil {
			t.Errorf("%s: must run the image's entrypoint (installer), built from the Dockerfile", name)
		}
		checkEnvNames(t, name, env, known)

		checkNATSURL(t, name, env["NATS_URL"])
		if got := env["INSTALLER_STREAM_REPLICAS"]; got != "3" {
			t.Errorf("%s: INSTALLER_STREAM_REPLICAS = %q, want 3", name, got)
		}
		api, err := url.Parse(env["ATLASSIAN_API_URL"])
		if err != nil || api.Hostname() != "sandbox" {
			t.Errorf("%s: ATLASSIAN_API_URL = %q, want the sandbox service", name, env["ATLASSIAN_API_URL"])
		} else if listen := sandboxEnv["SANDBOX_ADDR"]; listen != "0.0.0.0:"+api.Port() {
			t.Errorf("%s: ATLASSIAN_API_URL port %s, sandbox listens on %q", name, api.Port(), listen)
		}
		if key := env["ATLASSIAN_API_KEY"]; key == "" || key != sandboxEnv["SANDBOX_API_KEY"] {
			t.Errorf("%s: ATLASSIAN_API_KEY does not match the sandbox's SANDBOX_API_KEY", name)
		}
		host, httpPort, err := net.SplitHostPort(env["INSTALLER_HTTP_ADDR"])
		if err != nil || host != "0.0.0.0" {
			t.Errorf("%s: INSTALLER_HTTP_ADDR = %q, want 0.0.0.0:PORT so probes reach it", name, env["INSTALLER_HTTP_ADDR"])
		}
		if svc.Healthcheck == nil || !strings.Contains(strings.Join(svc.Healthcheck.Test, " "), ":"+httpPort+"/readyz") {
			t.Errorf("%s: health check must ask /readyz on port %s", name, httpPort)
		}
		if ps := parsePorts(t, svc.Ports); len(ps) != 1 || ps[0].container != httpPort {
			t.Errorf("%s: ports %v, want one publishing container port %s", name, svc.Ports, httpPort)
		}
		for _, dur := range []string{"INSTALLER_ORDER_WINDOW", "INSTALLER_POLL_INTERVAL", "INSTALLER_JOURNEY_TIMEOUT"} {
			if v, ok := env[dur]; ok {
				if _, err := time.ParseDuration(v); err != nil {
					t.Errorf("%s: %s = %q is not a Go duration", name, dur, v)
				}
			}
		}
		if n, ok := env["INSTALLER_CONCURRENCY"]; ok {
			if c, err := strconv.Atoi(n); err != nil || c < 1 {
				t.Errorf("%s: INSTALLER_CONCURRENCY = %q", name, n)
			}
		}
		if got := env["OTEL_EXPORTER_OTLP_ENDPOINT"]; got != "http://otel-collector:4318" {
			t.Errorf("%s: OTEL_EXPORTER_OTLP_ENDPOINT = %q, want the collector's OTLP/HTTP port", name, got)
		}
		if env["OTEL_TRACES_EXPORTER"] != "otlp" || env["OTEL_SERVICE_NAME"] == "" {
			t.Errorf("%s: traces must be exported over OTLP under a service name", name)
		}
		for _, dep := range append(slices.Clone(natsServers), "sandbox") {
			if svc.DependsOn[dep].Condition != "service_healthy" {
				t.Errorf("%s: must wait for %s to be healthy", name, dep)
			}
		}
	}
	if f.Services["installer-2"].DependsOn["installer-1"].Condition != "service_healthy" {
		t.Error("installer-2 must start once installer-1 has created the streams and the consumer")
	}
	// Two instances share the one durable consumer only if they agree on everything that names
	// it: prefix, streams, replicas, source. Only their instance identity may differ.
	a, b := f.Services[installers[0]].Environment, f.Services[installers[1]].Environment
	for k, v := range a {
		if k != "OTEL_RESOURCE_ATTRIBUTES" && b[k] != v {
			t.Errorf("%s differs between the installers: %q vs %q", k, v, b[k])
		}
	}
	if len(a) != len(b) {
		t.Errorf("installers set different variables: %d vs %d", len(a), len(b))
	}
}

func checkEnvNames(t *testing.T, service string, env map[string]string, known map[string]bool) {
	t.Helper()
	for name := range env {
		switch {
		case slices.ContainsFunc(ownPrefixes, func(p string) bool { return strings.HasPrefix(name, p) }):
			if !known[name] {
				t.Errorf("%s: %s is defined neither by the contract nor by the README", service, name)
			}
		case strings.HasPrefix(name, "OTEL_"):
			if !slices.Contains(otelEnv, name) {
				t.Errorf("%s: %s is not a standard OpenTelemetry variable", service, name)
			}
		default:
			t.Errorf("%s: %s is not a variable the installer reads", service, name)
		}
	}
}

// checkNATSURL asserts that the URL list names every node, so a client survives any one node.
func checkNATSURL(t *testing.T, service, list string) {
	t.Helper()
	var hosts []string
	for _, u := range strings.Split(list, ",") {
		parsed, err := url.Parse(strings.TrimSpace(u))
		if err != nil || parsed.Scheme != "nats" || parsed.Port() != "4222" || parsed.User != nil {
			t.Errorf("%s: NATS_URL entry %q: want nats://HOST:4222 without credentials", service, u)
			continue
		}
		hosts = append(hosts, parsed.Hostname())
	}
	slices.Sort(hosts)
	if !slices.Equal(hosts, natsServers) {
		t.Errorf("%s: NATS_URL names %v, want %v", service, hosts, natsServers)
	}
}

func parsePorts(t *testing.T, specs []string) []port {
	t.Helper()
	var ps []port
	for _, s := range specs {
		parts := strings.Split(s, ":")
		if len(parts) != 3 {
			t.Errorf("port %q: want IP:HOST:CONTAINER", s)
			continue
		}
		ps = append(ps, port{parts[0], parts[1], parts[2]})
	}
	return ps
}

func TestComposePorts(t *testing.T) {
	f := loadCompose(t)
	seen := map[string]string{}
	for name, svc := range f.Services {
		for _, p := range parsePorts(t, svc.Ports) {
			if p.ip != "127.0.0.1" {
				t.Errorf("%s: port %s:%s is published beyond loopback", name, p.host, p.container)
			}
			if other, dup := seen[p.host]; dup {
				t.Errorf("host port %s published by %s and %s", p.host, other, name)
			}
			seen[p.host] = name
		}
	}
	want := map[string]string{
		"4222": "nats-1", "4223": "nats-2", "4224": "nats-3", "8222": "nats-1",
		"8081": "sandbox", "16686": "jaeger", "9090": "prometheus", "3000": "grafana",
	}
	for hostPort, svc := range want {
		if seen[hostPort] != svc {
			t.Errorf("host port %s: published by %q, want %s", hostPort, seen[hostPort], svc)
		}
	}
}

func TestComposeVolumes(t *testing.T) {
	f := loadCompose(t)
	for name, svc := range f.Services {
		for _, v := range svc.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(filepath.Join("..", src)); err != nil {
					t.Errorf("%s: bind mount source %s: %v", name, src, err)
				}
				if !strings.HasSuffix(v, ":ro") {
					t.Errorf("%s: bind mount %s should be read-only", name, v)
				}
				continue
			}
			if _, ok := f.Volumes[src]; !ok {
				t.Errorf("%s: volume %s is not declared", name, src)
			}
		}
	}
}

func TestComposeSandboxAndTools(t *testing.T) {
	f := loadCompose(t)
	sandbox := f.Services["sandbox"]
	if !slices.Equal(sandbox.Entrypoint, []string{"/usr/local/bin/atlassian-sandbox"}) {
		t.Errorf("sandbox entrypoint %v", sandbox.Entrypoint)
	}
	if sandbox.Healthcheck == nil || !strings.Contains(strings.Join(sandbox.Healthcheck.Test, " "), "127.0.0.1:8081/") {
		t.Error("sandbox: no health check on its port, yet the installers wait for it to be healthy")
	}
	// The sandbox reads its variables in cmd/atlassian-sandbox (its -h lists them).
	src, err := os.ReadFile(filepath.Join("..", "cmd", "atlassian-sandbox", "config.go"))
	if err != nil {
		t.Fatal(err)
	}
	for name := range sandbox.Environment {
		if !strings.HasPrefix(name, "SANDBOX_") || !strings.Contains(string(src), `"`+name+`"`) {
			t.Errorf("sandbox: %s is not a variable atlassian-sandbox reads", name)
		}
	}
	ctl := f.Services["installctl"]
	if !slices.Equal(ctl.Entrypoint, []string{"/usr/local/bin/installctl"}) {
		t.Errorf("installctl entrypoint %v", ctl.Entrypoint)
	}
	checkEnvNames(t, "installctl", ctl.Environment, knownEnv(t))
	checkNATSURL(t, "installctl", ctl.Environment["NATS_URL"])
}
