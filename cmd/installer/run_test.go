package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/natstest"
)

// waitTimeout bounds every wait on a condition in these tests; it is a deadline for a hung
// system, not a speed expectation.
const waitTimeout = 60 * time.Second

// syncBuffer is an io.Writer the program and the test may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// process is one run() of the program, in a goroutine.
type process struct {
	cancel         context.CancelFunc
	done           chan error
	stdout, stderr *syncBuffer
}

func start(t *testing.T, args []string, vars map[string]string) *process {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &process{cancel: cancel, done: make(chan error, 1), stdout: &syncBuffer{}, stderr: &syncBuffer{}}
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
	waitFor(t, "the dev banner", func() bool {
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
	waitFor(t, "/readyz", func() bool {
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

// publishAll publishes every example with --watch, all at once, and fails unless each ends in
// a provisioned event.
func publishAll(t *testing.T, natsURL string, extra ...string) {
	t.Helper()
	var wg sync.WaitGroup
	for _, f := range examples(t) {
		wg.Go(func() {
			var out, errOut syncBuffer
			args := append([]string{"publish", "--nats-url", natsURL, "--watch", "--timeout=60s", f}, extra...)
			err := run(t.Context(), args, env(nil), &out, &errOut)
			if err != nil {
				t.Errorf("%s: %v\n%s%s", filepath.Base(f), err, out.String(), errOut.String())
				return
			}
			if !strings.Contains(out.String(), ".install.provisioned ") {
				t.Errorf("%s: no provisioned event:\n%s", filepath.Base(f), out.String())
			}
		})
	}
	wg.Wait()
}

// outcomeCounts counts the messages per subject on INSTALL_EVENTS.
func outcomeCounts(t *testing.T, natsURL string) map[string]uint64 {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(t.Context(), events.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(t.Context(), jetstream.WithSubjectFilter(">"))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Subjects
}

// The whole system of `installer dev`: every example, in both content modes, is provisioned.
// Each mode gets a fresh system, since a new site can be created only once.
func TestDevEndToEnd(t *testing.T) {
	for _, mode := range []struct {
		name  string
		extra []string
	}{{"binary", nil}, {"structured", []string{"--structured"}}} {
		t.Run(mode.name, func(t *testing.T) {
			p, natsURL, httpAddr := startDev(t)
			if code, body := get(t, "http://"+httpAddr+"/healthz"); code != http.StatusOK {
				t.Fatalf("/healthz = %d %s", code, body)
			}
			waitReady(t, httpAddr)

			publishAll(t, natsURL, mode.extra...)

			counts := outcomeCounts(t, natsURL)
			n := uint64(len(examples(t)))
			if counts["atlassian.install.provisioned"] != n || counts["atlassian.install.ordered"] != n || counts["atlassian.install.failed"] != 0 {
				t.Fatalf("outcomes on %s = %v, want %d ordered and provisioned", events.StreamEvents, counts, n)
			}
			succeeded := regexp.MustCompile(fmt.Sprintf(`(?m)^installer_journeys_succeeded_total %d$`, n))
			if code, body := get(t, "http://"+httpAddr+"/metrics"); code != http.StatusOK || !strings.Contains(body, "go_goroutines") ||
				!succeeded.MatchString(body) {
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
	waitFor(t, "the operator endpoints", func() bool {
		m := opsLog.FindStringSubmatch(p.stderr.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	waitReady(t, addr)

	var out syncBuffer
	err := run(t.Context(), []string{"publish", "--nats-url", ns.ClientURL(), "--watch", "--timeout=60s",
		"../../examples/app-on-jira-with-promotion.json"}, env(nil), &out, io.Discard)
	if err != nil || !strings.Contains(out.String(), ".install.provisioned ") {
		t.Fatalf("publish: %v\n%s", err, out.String())
	}

	// An invalid request sent anyway ends in a failed event and a non-zero exit.
	bad := filepath.Join(t.TempDir(), "bad.json")
	writeFile(t, bad, `{"orgId":"`+atlassiantest.OrgID+`","adminEmail":"admin@acme.example"}`)
	out = syncBuffer{}
	err = run(t.Context(), []string{"publish", "--nats-url", ns.ClientURL(), "--watch", "--no-validate", bad}, env(nil), &out, io.Discard)
	if !errors.Is(err, errRequestFailed) || !strings.Contains(err.Error(), "invalid_request") || !strings.Contains(out.String(), ".install.failed ") {
		t.Fatalf("publish of an invalid request: %v\n%s", err, out.String())
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
	for _, cmd := range [][]string{nil, {"dev"}, {"publish", "x.json"}} {
		var stderr syncBuffer
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

// publish refuses an invalid request locally, listing every wrong field.
func TestPublishValidatesLocally(t *testing.T) {
	f := filepath.Join(t.TempDir(), "bad.json")
	writeFile(t, f, `{"adminEmail":"x@y.example","site":{"name":"Bad Name","create":true},"products":[{"quantity":0}]}`)
	err := run(t.Context(), []string{"publish", "--nats-url", "nats://127.0.0.1:1", f}, env(nil), io.Discard, io.Discard)
	if !errors.Is(err, events.ErrInvalidRequest) {
		t.Fatalf("err = %v", err)
	}
	for _, field := range []string{"orgId", "site.name", "site.timezone", "products[0].quantity"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
}

// The examples are valid requests of the sandbox's default organization.
func TestExamplesAreValid(t *testing.T) {
	for _, f := range examples(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := events.DecodeRequest(data)
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
	inst, err := handlers.NewInstaller(js, apiOf(c), handlers.Config{})
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
