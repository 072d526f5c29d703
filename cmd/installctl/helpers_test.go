package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/record"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// env is a test's NATS server with the installer's streams and journey bucket, and the
// environment installctl sees.
type env struct {
	t       *testing.T
	ctx     context.Context
	js      jetstream.JetStream
	kv      jetstream.KeyValue
	url     string
	subj    events.Subjects
	environ map[string]string
	tty     bool
	// stdinTTY makes standard input a terminal, on which destructive commands ask.
	stdinTTY bool
	// clock, when set, is installctl's clock instead of the real one.
	clock *clockwork.FakeClock
	// world is the shared test environment: the NATS server, a sandbox, a fake clock, and
	// installers when a test runs one.
	world *installtest.Env
}

func setup(t *testing.T) *env {
	t.Helper()
	w := installtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	subj := events.NewSubjects("")
	if err := events.EnsureStreams(ctx, w.JS, subj, 1); err != nil {
		t.Fatalf("ensure streams: %v", err)
	}
	kv, err := w.JS.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: record.DefaultBucket, History: 5})
	if err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return &env{t: t, ctx: ctx, js: w.JS, kv: kv, url: w.Server.ClientURL(), subj: subj, environ: map[string]string{}, world: w}
}

// result is what one run of installctl left.
type result struct {
	code   int
	stdout string
	stderr string
}

// running is an installctl command running in the background.
type running struct {
	stdout, stderr *installtest.LogBuffer
	done           chan int
	cancel         context.CancelFunc
}

// start runs installctl with args against the test's server, in the background.
func (e *env) start(stdin string, args ...string) *running {
	ctx, cancel := context.WithCancel(e.ctx)
	r := &running{stdout: &installtest.LogBuffer{}, stderr: &installtest.LogBuffer{}, done: make(chan int, 1), cancel: cancel}
	a := newApp(func(k string) string { return e.environ[k] }, strings.NewReader(stdin), r.stdout, r.stderr)
	if e.tty {
		a.isTerminal = func(w io.Writer) bool { return w == io.Writer(r.stdout) }
	}
	a.stdinIsTerminal = func(io.Reader) bool { return e.stdinTTY }
	if e.clock != nil {
		a.clock = e.clock
	}
	go func() { r.done <- a.run(ctx, append([]string{"--nats-url", e.url}, args...)) }()
	e.t.Cleanup(cancel)
	return r
}

// wait waits for the command to end.
func (r *running) wait(t *testing.T) result {
	t.Helper()
	select {
	case code := <-r.done:
		return result{code: code, stdout: r.stdout.String(), stderr: r.stderr.String()}
	case <-time.After(installtest.Timeout):
		t.Fatalf("installctl did not end within %s; stdout:\n%s\nstderr:\n%s", installtest.Timeout, r.stdout, r.stderr)
		return result{}
	}
}

// run runs installctl to its end.
func (e *env) run(stdin string, args ...string) result {
	e.t.Helper()
	return e.start(stdin, args...).wait(e.t)
}

// streamMsgs counts the messages of a stream.
func (e *env) streamMsgs(name string) uint64 {
	e.t.Helper()
	s, err := e.js.Stream(e.ctx, name)
	if err != nil {
		e.t.Fatalf("stream %s: %v", name, err)
	}
	info, err := s.Info(e.ctx)
	if err != nil {
		e.t.Fatalf("stream %s: %v", name, err)
	}
	return info.State.Msgs
}

// consumers counts the consumers of INSTALL_EVENTS.
func (e *env) consumers() int {
	e.t.Helper()
	s, err := e.js.Stream(e.ctx, events.StreamEvents)
	if err != nil {
		e.t.Fatalf("stream %s: %v", events.StreamEvents, err)
	}
	info, err := s.Info(e.ctx)
	if err != nil {
		e.t.Fatalf("stream %s: %v", events.StreamEvents, err)
	}
	return info.State.Consumers
}

// startWatching starts installctl and waits until its follower is positioned on INSTALL_EVENTS,
// so that events published afterwards are seen even by a "new only" watch.
func (e *env) startWatching(args ...string) *running {
	e.t.Helper()
	before := e.consumers()
	r := e.start("", args...)
	installtest.Eventually(e.t, "a new consumer on "+events.StreamEvents, func() bool { return e.consumers() > before })
	return r
}

// publishOutcome publishes an outcome as the installer would.
func (e *env) publishOutcome(requestID, eventType string, data any) {
	e.t.Helper()
	p := events.NewPublisher(e.js, e.subj, "urn:test")
	if _, err := p.PublishOutcome(e.ctx, requestID, eventType, data, ""); err != nil {
		e.t.Fatalf("publish %s: %v", eventType, err)
	}
}

// putJourney records a journey state as the installer would.
func (e *env) putJourney(s record.State) {
	e.t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.kv.Put(e.ctx, record.Key(s.RequestID), b); err != nil {
		e.t.Fatalf("put journey: %v", err)
	}
}

// writeFile writes a file under the test's temporary directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// jsonLines decodes output of one JSON object per line.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}
