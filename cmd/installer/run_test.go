package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/installtest"
	"github.com/procurement/atlassian-installer/internal/natstest"
	"github.com/procurement/atlassian-installer/internal/quota"
)

// waitTimeout bounds every wait on a condition in these tests; it is a deadline for a hung
// system, not a speed expectation.
const waitTimeout = 60 * time.Second

// process is one run() of the program, in a goroutine.
type process struct {
	cancel         context.CancelFunc
	done           chan error
	stdout, stderr *installtest.LogBuffer
}

func start(t *testing.T, args []string, vars map[string]string) *process {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &process{cancel: cancel, done: make(chan error, 1), stdout: &installtest.LogBuffer{}, stderr: &installtest.LogBuffer{}}
	go func() { p.done <- run(ctx, args, env(vars), p.stdout, p.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.done:
		case <-time.After(waitTimeout):
			t.Errorf("run did not return after cancel")
		}
	})
	return p
}

// stop cancels as SIGTERM does and returns run's result, failing if the drain does not end.
func (p *process) stop(t *testing.T) error {
	t.Helper()
	p.cancel()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		return err
	case <-time.After(waitTimeout):
		t.Fatal("run did not return after cancel")
		return nil
	}
}

var (
	natsLine  = regexp.MustCompile(`NATS JetStream\s+(nats://\S+)`)
	readyLine = regexp.MustCompile(`http://(\S+)/readyz`)
	opsLog    = regexp.MustCompile(`"msg":"operator endpoints listening","addr":"([^"]+)"`)
)

// startDev runs `installer dev` on random ports with a fast sandbox and returns its NATS URL and
// operator address, read from the banner.
func startDev(t *testing.T) (p *process, natsURL, httpAddr string) {
	t.Helper()
	p = start(t, []string{"dev",
		"--nats-listen=127.0.0.1:-1", "--sandbox-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0",
		"--data-dir=" + t.TempDir(), "--log-format=json",
		"--sandbox-provision-delay=20ms", "--sandbox-order-delay=10ms",
		"--poll-interval=20ms", "--max-poll-interval=200ms",
	}, nil)
	installtest.EventuallyWithin(t, waitTimeout, "the dev banner", func() bool {
		select {
		case err := <-p.done:
			t.Fatalf("dev stopped: %v\n%s", err, p.stderr)
		default:
		}
		return readyLine.MatchString(p.stdout.String())
	})
	out := p.stdout.String()
	return p, natsLine.FindStringSubmatch(out)[1], readyLine.FindStringSubmatch(out)[1]
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func waitReady(t *testing.T, addr string) {
	t.Helper()
	installtest.EventuallyWithin(t, waitTimeout, "/readyz", func() bool {
		code, _ := get(t, "http://"+addr+"/readyz")
		return code == http.StatusOK
	})
}

func examples(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../examples/*.json")
	if err != nil || len(files) < 6 {
		t.Fatalf("examples: %v %v", files, err)
	}
	return files
}

// publishRequest publishes data as a request CloudEvent with the given id, in binary or
// structured mode, as a procurement system does.
func publishRequest(t *testing.T, js jetstream.JetStream, id string, data any, structured bool) {
	t.Helper()
	ev := installtest.RequestEvent(t, id, data)
	msg := installtest.BinaryMsg(t, installtest.Subjects.Requested(), ev)
	if structured {
		msg = installtest.StructuredMsg(t, installtest.Subjects.Requested(), ev)
	}
	if _, err := js.PublishMsg(t.Context(), msg); err != nil {
		t.Fatalf("publish %s: %v", id, err)
	}
}

// publishExamples publishes every example at once, each with its file name as request id,
// and returns the ids.
func publishExamples(t *testing.T, js jetstream.JetStream, structured bool) []string {
	t.Helper()
	var ids []string
	for _, f := range examples(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		id := strings.TrimSuffix(filepath.Base(f), ".json")
		publishRequest(t, js, id, json.RawMessage(data), structured)
		ids = append(ids, id)
	}
	return ids
}

// countTypes counts the events of each type.
func countTypes(msgs []installtest.Message) map[string]int {
	n := make(map[string]int)
	for _, m := range msgs {
		n[m.Type]++
	}
	return n
}

// The whole system of `installer dev`: every example, in both content modes, is provisioned.
// Each mode gets a fresh system, since a new site can be created only once.
func TestDevEndToEnd(t *testing.T) {
	for _, structured := range []bool{false, true} {
		t.Run(map[bool]string{false: "binary", true: "structured"}[structured], func(t *testing.T) {
			p, natsURL, httpAddr := startDev(t)
			if code, body := get(t, "http://"+httpAddr+"/healthz"); code != http.StatusOK {
				t.Fatalf("/healthz = %d %s", code, body)
			}
			waitReady(t, httpAddr)

			_, js := natstest.Dial(t, natsURL)
			ids := publishExamples(t, js, structured)
			for id, term := range installtest.AwaitTerminal(t, js, waitTimeout, ids...) {
				if term.Type != installtest.Subjects.Provisioned() {
					t.Errorf("%s: %s %v", id, term.Type, term.Data)
				}
			}

			counts := countTypes(installtest.ReadStream(t, js, events.StreamEvents))
			n := len(ids)
			s := installtest.Subjects
			if counts[s.Provisioned()] != n || counts[s.Ordered()] != n || counts[s.Failed()] != 0 {
				t.Fatalf("outcomes on %s = %v, want %d ordered and provisioned", events.StreamEvents, counts, n)
			}
			// A provisioned event is counted once its publish is acknowledged, a moment after
			// subscribers can see it.
			succeeded := regexp.MustCompile(fmt.Sprintf(`(?m)^installer_journeys_succeeded_total %d$`, n))
			var code int
			var body string
			installtest.EventuallyWithin(t, waitTimeout, "/metrics counting every journey", func() bool {
				code, body = get(t, "http://"+httpAddr+"/metrics")
				return code == http.StatusOK && succeeded.MatchString(body)
			})
			if !strings.Contains(body, "go_goroutines") {
				t.Fatalf("/metrics = %d\n%s", code, body)
			}
			if err := p.stop(t); err != nil {
				t.Fatalf("run after cancel: %v\n%s", err, p.stderr)
			}
			if !strings.Contains(p.stderr.String(), `"msg":"drained"`) {
				t.Errorf("no drain logged:\n%s", p.stderr)
			}
		})
	}
}

// The production path: an external NATS server and the Atlassian API from the environment.
func TestServeWithExternalNATS(t *testing.T) {
	ns := natstest.StartServer(t)
	sandbox := atlassiantest.NewServer(
		atlassiantest.WithAPIKey("key-hunter2"),
		atlassiantest.WithProvisionDelay(10*time.Millisecond),
		atlassiantest.WithOrderProcessingDelay(10*time.Millisecond),
	)
	t.Cleanup(sandbox.Close)
	p := start(t, []string{"--http-addr=127.0.0.1:0", "--log-format=json"}, map[string]string{
		"NATS_URL":                "nats://" + ns.Addr().String(),
		"ATLASSIAN_API_URL":       sandbox.URL,
		"ATLASSIAN_API_KEY":       "key-hunter2",
		"INSTALLER_POLL_INTERVAL": "20ms",
	})
	var addr string
	installtest.EventuallyWithin(t, waitTimeout, "the operator endpoints", func() bool {
		m := opsLog.FindStringSubmatch(p.stderr.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	waitReady(t, addr)

	_, js := natstest.Connect(t, ns)
	data, err := os.ReadFile("../../examples/app-on-jira-with-promotion.json")
	if err != nil {
		t.Fatal(err)
	}
	publishRequest(t, js, "app-on-jira", json.RawMessage(data), false)
	// An invalid request ends in a failed event naming the reason.
	publishRequest(t, js, "invalid", map[string]any{"orgId": atlassiantest.OrgID, "adminEmail": "admin@acme.example"}, false)

	terms := installtest.AwaitTerminal(t, js, waitTimeout, "app-on-jira", "invalid")
	if term := terms["app-on-jira"]; term.Type != installtest.Subjects.Provisioned() {
		t.Errorf("app-on-jira: %s %v", term.Type, term.Data)
	}
	if term := terms["invalid"]; term.Type != installtest.Subjects.Failed() || term.Data["code"] != events.CodeInvalidRequest {
		t.Errorf("invalid request: %s %v", term.Type, term.Data)
	}
	// The documented quotas run a quota shared on this NATS, which this instance leads.
	if _, err := js.KeyValue(context.Background(), quota.DefaultBucket); err != nil {
		t.Errorf("quota bucket: %v", err)
	}
	if _, body := get(t, "http://"+addr+"/metrics"); !strings.Contains(body, "\ninstaller_quota_leader 1\n") {
		t.Errorf("/metrics does not show this instance leading the quota")
	}

	if err := p.stop(t); err != nil {
		t.Fatalf("run after cancel: %v", err)
	}
	if strings.Contains(p.stderr.String(), "hunter2") {
		t.Fatalf("the API key reached the logs:\n%s", p.stderr)
	}
	if !strings.Contains(p.stderr.String(), `"atlassian_api_key":"[REDACTED]"`) {
		t.Fatalf("configuration not logged:\n%s", p.stderr)
	}
}

// INSTALLER_API_RATE_LIMITS=off runs no shared quota: no bucket, no leader.
func TestRateLimitsOffRunsNoQuota(t *testing.T) {
	ns := natstest.StartServer(t)
	p := start(t, []string{"--http-addr=127.0.0.1:0", "--log-format=json"}, map[string]string{
		"NATS_URL":                  "nats://" + ns.Addr().String(),
		"ATLASSIAN_API_KEY":         "key",
		"INSTALLER_API_RATE_LIMITS": "off",
	})
	var addr string
	installtest.EventuallyWithin(t, waitTimeout, "the operator endpoints", func() bool {
		m := opsLog.FindStringSubmatch(p.stderr.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	waitReady(t, addr)
	_, js := natstest.Connect(t, ns)
	if _, err := js.KeyValue(context.Background(), quota.DefaultBucket); !errors.Is(err, jetstream.ErrBucketNotFound) {
		t.Errorf("quota bucket with the limits off: %v", err)
	}
	if _, body := get(t, "http://"+addr+"/metrics"); strings.Contains(body, "installer_quota_leader") {
		t.Errorf("/metrics shows a quota leader with the limits off")
	}
}

// /readyz answers 503 until the installer consumes, and /healthz answers from the start.
func TestReadyzBeforeConsuming(t *testing.T) {
	var consuming atomic.Bool
	tel, err := newTelemetry(t.Context(), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	ready := func() error {
		if !consuming.Load() {
			return errors.New("not consuming")
		}
		return nil
	}
	ops, err := listenOps("127.0.0.1:0", ready, tel.MetricsHandler(), discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = ops.serve() }()
	t.Cleanup(func() { _ = ops.shutdown(context.Background()) })
	if code, body := get(t, "http://"+ops.Addr()+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "not consuming") {
		t.Fatalf("/readyz = %d %q", code, body)
	}
	if code, _ := get(t, "http://"+ops.Addr()+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz = %d", code)
	}
	consuming.Store(true)
	if code, _ := get(t, "http://"+ops.Addr()+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d once ready", code)
	}
}

// A bad variable stops start-up, before anything listens, with an error naming it.
func TestRunBadVariableFailsStartup(t *testing.T) {
	for _, cmd := range [][]string{nil, {"dev"}} {
		var stderr installtest.LogBuffer
		err := run(t.Context(), cmd, env(map[string]string{"INSTALLER_ORDER_WINDOW": "ten minutes"}), io.Discard, &stderr)
		if err == nil || !strings.Contains(err.Error(), "INSTALLER_ORDER_WINDOW") {
			t.Errorf("%v: err = %v", cmd, err)
		}
	}
}

func TestRunUsage(t *testing.T) {
	if err := run(t.Context(), []string{"frobnicate"}, env(nil), io.Discard, io.Discard); !errors.Is(err, errUsage) {
		t.Fatalf("unknown command: %v", err)
	}
	if err := run(t.Context(), []string{"serve", "extra"}, env(nil), io.Discard, io.Discard); !errors.Is(err, errUsage) {
		t.Fatalf("extra argument: %v", err)
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"help"}, env(nil), &out, io.Discard); err != nil || !strings.Contains(out.String(), "installer dev") {
		t.Fatalf("help: %v %q", err, out.String())
	}
}

// The banner's commands work as written: installctl's defaults are the installer's, so only
// a dev system started elsewhere needs them named.
func TestDevBannerCommand(t *testing.T) {
	for _, c := range []struct{ url, prefix, want string }{
		{"nats://127.0.0.1:4222", "atlassian", "go run ./cmd/installctl request examples/new-site-jira.json --watch"},
		{"nats://127.0.0.1:4333", "atlassian", "go run ./cmd/installctl request --nats-url nats://127.0.0.1:4333 examples/new-site-jira.json --watch"},
		{"nats://127.0.0.1:4222", "acme", "go run ./cmd/installctl request --prefix acme examples/new-site-jira.json --watch"},
	} {
		cmds := installctlCommands(c.url, c.prefix)
		if cmds[1] != c.want || cmds[0] != strings.Replace(strings.TrimSuffix(c.want, " --watch"), " request", " plan", 1) {
			t.Errorf("installctlCommands(%q, %q) = %q, want the plan and %q", c.url, c.prefix, cmds, c.want)
		}
	}
	var b strings.Builder
	printBanner(&b, endpoints{NATSURL: "nats://127.0.0.1:4222", HTTP: "127.0.0.1:8080"}, "http://127.0.0.1:8081", "/tmp/credentials.json",
		installctlCommands("nats://127.0.0.1:4222", "atlassian"))
	for _, want := range []string{"\n  go run ./cmd/installctl plan examples/new-site-jira.json\n", "\n  go run ./cmd/installctl request examples/new-site-jira.json --watch\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, b.String())
		}
	}
}

// publish is not a command of the installer: installctl publishes requests.
func TestRunHasNoPublish(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"publish", "x.json"}, env(nil), io.Discard, &out); !errors.Is(err, errUsage) {
		t.Fatalf("publish: %v", err)
	}
	if !strings.Contains(out.String(), "installctl request") {
		t.Errorf("usage does not point to installctl:\n%s", out.String())
	}
}

// The examples are valid requests of the sandbox's default organization.
func TestExamplesAreValid(t *testing.T) {
	for _, f := range examples(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := events.DecodeRequest(data, time.Now())
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if r.OrgID != atlassiantest.OrgID {
			t.Errorf("%s: orgId %s is not the sandbox's %s", filepath.Base(f), r.OrgID, atlassiantest.OrgID)
		}
	}
}

// /readyz names what is missing: the NATS connection first, then consumption.
func TestReadinessReasons(t *testing.T) {
	_, nc, js := natstest.RunServer(t)
	c, err := newClient(defaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	inst, err := handlers.NewInstaller(js, handlers.ClientAPI(c), handlers.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ready := readiness(inst, nc)
	if err := ready(); err == nil || !strings.Contains(err.Error(), "not consuming") {
		t.Fatalf("before Run: %v", err)
	}
	nc.Close()
	if err := ready(); err == nil || !strings.Contains(err.Error(), "NATS") {
		t.Fatalf("closed connection: %v", err)
	}
}
