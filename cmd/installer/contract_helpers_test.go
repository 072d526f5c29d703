package main

// Helpers of the contract tests (contract_test.go). They use only what CONTRACT.md exposes: the
// installer binary configured by environment variables, NATS subjects, streams and headers, and
// the Atlassian sandbox standing in for the API.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// The contract's stream names.
const (
	ctStreamRequests   = "INSTALL_REQUESTS"
	ctStreamEvents     = "INSTALL_EVENTS"
	ctStreamDeadLetter = "INSTALL_DEADLETTER"
)

// ctAPIKey is the organization API key the contract installers and their sandboxes share; it
// must never appear in the installer's output or events.
const ctAPIKey = "ct-api-key-5f1e0c7d9b3a"

// The installer binary, built once for every contract test.
var (
	ctBuildOnce sync.Once
	ctBinDir    string
	ctBinPath   string
	ctBuildErr  error
)

// contractBinary builds ./cmd/installer with `go build -o` into a temporary directory, once.
// Under -race the binary is built with -race too: its packages are then already compiled.
func contractBinary(t *testing.T) string {
	t.Helper()
	ctBuildOnce.Do(func() {
		ctBinDir, ctBuildErr = os.MkdirTemp("", "installer-contract-")
		if ctBuildErr != nil {
			return
		}
		ctBinPath = filepath.Join(ctBinDir, "installer")
		args := []string{"build", "-o", ctBinPath}
		if ctRaceEnabled() {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			ctBuildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if ctBuildErr != nil {
		t.Fatal(ctBuildErr)
	}
	return ctBinPath
}

// removeContractBinary deletes the built binary; TestMain calls it after the tests.
func removeContractBinary() {
	if ctBinDir != "" {
		_ = os.RemoveAll(ctBinDir)
	}
}

// ctRaceEnabled reports whether this test binary was built with -race.
func ctRaceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return true
		}
	}
	return false
}

// ctFreeAddr returns a loopback address with a port that was free a moment ago.
func ctFreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// ctSandbox starts the Atlassian sandbox with a real clock, short delays and ctAPIKey.
func ctSandbox(t *testing.T, opts ...atlassiantest.Option) *atlassiantest.Server {
	t.Helper()
	base := []atlassiantest.Option{
		atlassiantest.WithAPIKey(ctAPIKey),
		atlassiantest.WithProvisionDelay(50 * time.Millisecond),
		atlassiantest.WithOrderProcessingDelay(50 * time.Millisecond),
	}
	s := atlassiantest.NewServer(append(base, opts...)...)
	t.Cleanup(s.Close)
	return s
}

// ctInstaller is one run of the installer binary with the embedded NATS server.
type ctInstaller struct {
	env            map[string]string
	dir            string // working directory
	cmd            *exec.Cmd
	done           chan struct{}
	waitErr        error
	stdout, stderr *installtest.LogBuffer
	natsURL        string
	httpAddr       string
	secrets        []string
	nc             *nats.Conn
	js             jetstream.JetStream
}

// ctStart runs the installer against the sandbox with the contract's variables: a fresh data
// directory, free ports, 20ms polling and ctAPIKey, overridden or extended by vars (an empty
// value removes a variable). It returns once /readyz answers 200. The working directory is a
// fresh one too.
func ctStart(t *testing.T, sandbox *atlassiantest.Server, vars map[string]string) *ctInstaller {
	t.Helper()
	return ctRun(t, ctEnv(t, sandbox, vars), t.TempDir())
}

// ctEnv is the environment ctStart gives the installer.
func ctEnv(t *testing.T, sandbox *atlassiantest.Server, vars map[string]string) map[string]string {
	t.Helper()
	env := map[string]string{
		"INSTALLER_DATA_DIR":      t.TempDir(),
		"INSTALLER_NATS_LISTEN":   ctFreeAddr(t),
		"INSTALLER_HTTP_ADDR":     ctFreeAddr(t),
		"INSTALLER_POLL_INTERVAL": "20ms",
		"ATLASSIAN_API_KEY":       ctAPIKey,
	}
	if sandbox != nil {
		env["ATLASSIAN_API_URL"] = sandbox.URL
	}
	for k, v := range vars {
		if v == "" {
			delete(env, k)
			continue
		}
		env[k] = v
	}
	return env
}

// ctRun starts the binary with exactly env in dir and waits until it is ready. It connects to
// the embedded NATS server, or to the last URL of NATS_URL when that is set.
func ctRun(t *testing.T, env map[string]string, dir string) *ctInstaller {
	t.Helper()
	p := &ctInstaller{env: env, dir: dir, done: make(chan struct{}), stdout: &installtest.LogBuffer{}, stderr: &installtest.LogBuffer{},
		natsURL: "nats://" + env["INSTALLER_NATS_LISTEN"], httpAddr: env["INSTALLER_HTTP_ADDR"]}
	if urls := env["NATS_URL"]; urls != "" {
		p.natsURL = urls[strings.LastIndex(urls, ",")+1:]
	}
	for _, k := range []string{"ATLASSIAN_API_KEY", "ATLASSIAN_API_TOKEN"} {
		if env[k] != "" {
			p.secrets = append(p.secrets, env[k])
		}
	}
	p.cmd = exec.Command(contractBinary(t))
	p.cmd.Dir = dir
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(t) })
	installtest.EventuallyWithin(t, waitTimeout, "the installer's /readyz", func() bool {
		select {
		case <-p.done:
			t.Fatalf("the installer exited before it was ready: %v\n%s", p.waitErr, p.stderr)
		default:
		}
		resp, err := http.Get("http://" + p.httpAddr + "/readyz")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	nc, err := nats.Connect(p.natsURL, nats.Name("contract-test"))
	if err != nil {
		t.Fatalf("connect to the embedded NATS at %s: %v", p.natsURL, err)
	}
	p.nc = nc
	if p.js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	return p
}

// stop sends SIGTERM, waits for the exit, and checks that no secret reached the output. It is
// safe to call twice.
func (p *ctInstaller) stop(t *testing.T) {
	t.Helper()
	if p.nc != nil {
		p.nc.Close()
	}
	select {
	case <-p.done:
		return
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(waitTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("the installer did not exit after SIGTERM\n%s", p.stderr)
	}
	if p.waitErr != nil {
		t.Errorf("the installer exited with %v after SIGTERM\n%s", p.waitErr, p.stderr)
	}
	for _, s := range p.secrets {
		if strings.Contains(p.stdout.String(), s) || strings.Contains(p.stderr.String(), s) {
			t.Errorf("a secret reached the installer's output:\n%s%s", p.stdout, p.stderr)
		}
	}
}

// kill ends the installer at once, as a crash would: no drain, nothing flushed but what the
// embedded server had already written.
func (p *ctInstaller) kill(t *testing.T) {
	t.Helper()
	if p.nc != nil {
		p.nc.Close()
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(waitTimeout):
		t.Fatal("the installer did not die on SIGKILL")
	}
}

// restart stops the installer and starts it again with the same environment: the same data
// directory and ports.
func (p *ctInstaller) restart(t *testing.T) *ctInstaller {
	t.Helper()
	p.stop(t)
	return ctRun(t, p.env, p.dir)
}

// ctMsg is one message seen on NATS.
type ctMsg struct {
	Subject string
	Header  nats.Header
	Data    []byte
	Seq     uint64 // stream sequence; 0 for a core subscription
}

// ce returns the CloudEvents attribute header ce-attr.
func (m ctMsg) ce(attr string) string { return m.Header.Get("ce-" + attr) }

// dataMap decodes the body as a JSON object.
func (m ctMsg) dataMap(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(m.Data, &v); err != nil {
		t.Fatalf("%s: the data is not a JSON object: %v\n%s", m.Subject, err, m.Data)
	}
	return v
}

// ctCollector gathers messages from a stream (an ordered consumer) or from a core subscription.
type ctCollector struct {
	mu   sync.Mutex
	msgs []ctMsg
	bad  []error
}

func (c *ctCollector) addBad(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bad = append(c.bad, err)
}

func (c *ctCollector) badOnes() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.bad)
}

// add records a message; consumers call it from their own goroutines.
func (c *ctCollector) add(m ctMsg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
}

// all returns a copy of the messages so far, in arrival order.
func (c *ctCollector) all() []ctMsg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

// where returns the messages that keep holds for.
func (c *ctCollector) where(keep func(ctMsg) bool) []ctMsg {
	var out []ctMsg
	for _, m := range c.all() {
		if keep(m) {
			out = append(out, m)
		}
	}
	return out
}

// about returns the outcome events whose ce-subject is the request id.
func (c *ctCollector) about(requestID string) []ctMsg {
	return c.where(func(m ctMsg) bool { return m.ce("subject") == requestID })
}

// watchStream follows every message of a stream from its start. Every outcome of
// INSTALL_EVENTS must match the schema its dataschema names, or the test fails.
func (p *ctInstaller) watchStream(t *testing.T, stream string) *ctCollector {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cons, err := p.js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("ordered consumer on %s: %v", stream, err)
	}
	c := &ctCollector{}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		md, _ := msg.Metadata()
		var seq uint64
		if md != nil {
			seq = md.Sequence.Stream
		}
		if stream == ctStreamEvents {
			if err := installtest.CheckOutcome(msg.Headers(), msg.Data()); err != nil {
				c.addBad(err)
			}
		}
		c.add(ctMsg{Subject: msg.Subject(), Header: msg.Headers(), Data: msg.Data(), Seq: seq})
	})
	if err != nil {
		t.Fatalf("consume %s: %v", stream, err)
	}
	// Cleanups run last first: the consumer stops, then what it saw is reported.
	t.Cleanup(func() {
		for _, err := range c.badOnes() {
			t.Error(err)
		}
	})
	t.Cleanup(cc.Stop)
	return c
}

// watchCore subscribes to subject on core NATS: it sees every publish, also those JetStream
// drops as duplicates of a Nats-Msg-Id.
func (p *ctInstaller) watchCore(t *testing.T, subject string) *ctCollector {
	t.Helper()
	c := &ctCollector{}
	sub, err := p.nc.Subscribe(subject, func(m *nats.Msg) {
		c.add(ctMsg{Subject: m.Subject, Header: m.Header, Data: m.Data})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return c
}

// waitTerminal waits for the provisioned or failed event of a request and returns it.
func (c *ctCollector) waitTerminal(t *testing.T, prefix, requestID string) ctMsg {
	t.Helper()
	var term []ctMsg
	installtest.EventuallyWithin(t, waitTimeout, "the terminal event of "+requestID, func() bool {
		term = c.where(func(m ctMsg) bool {
			return m.ce("subject") == requestID &&
				(m.Subject == prefix+".install.provisioned" || m.Subject == prefix+".install.failed" || m.Subject == prefix+".install.planned")
		})
		return len(term) > 0
	})
	return term[0]
}

// waitFailed waits for the terminal event of a request and fails the test unless it is a
// failed event with the given stage and code; it returns the event's data.
func (c *ctCollector) waitFailed(t *testing.T, prefix, requestID, stage, code string) map[string]any {
	t.Helper()
	m := c.waitTerminal(t, prefix, requestID)
	if m.Subject != prefix+".install.failed" {
		t.Fatalf("request %s ended with %s, want failed %s/%s:\n%s", requestID, m.Subject, stage, code, m.Data)
	}
	d := m.dataMap(t)
	if d["stage"] != stage || d["code"] != code {
		t.Fatalf("request %s failed with %v/%v, want %s/%s:\n%s", requestID, d["stage"], d["code"], stage, code, m.Data)
	}
	installtest.CheckFailedMessage(t, installtest.Message{Subject: requestID, Data: d}, "")
	ctCheckFailedShape(t, d)
	return d
}

// waitSettled waits until every consumer of the requests stream has acknowledged the message
// at seq: the installer is done with it.
func (p *ctInstaller) waitSettled(t *testing.T, seq uint64) {
	t.Helper()
	installtest.EventuallyWithin(t, waitTimeout, fmt.Sprintf("request message %d to be acknowledged", seq), func() bool {
		st, err := p.js.Stream(context.Background(), ctStreamRequests)
		if err != nil {
			return false
		}
		lister := st.ListConsumers(context.Background())
		n := 0
		for ci := range lister.Info() {
			n++
			if ci.AckFloor.Stream < seq {
				return false
			}
		}
		return n > 0 && lister.Err() == nil
	})
}

// ctRequest is an install request's data, as a procurement system writes it.
type ctRequest = map[string]any

// ctNewSiteJira is a request for Jira Software on a new site, billed through the Jira parent
// entitlement.
func ctNewSiteJira(site string) ctRequest {
	return ctRequest{
		"orgId":      atlassiantest.OrgID,
		"adminEmail": "admin@acme.example",
		"site":       map[string]any{"name": site, "create": true, "timezone": "Australia/Sydney"},
		"products": []any{map[string]any{
			"offeringId":          atlassiantest.JiraOfferingID,
			"family":              "jira",
			"location":            "us",
			"chargeElement":       "user",
			"quantity":            100,
			"parentEntitlementId": atlassiantest.JiraParentEntitlementID,
		}},
	}
}

// ctSiteName returns a site name no other test uses.
func ctSiteName() string { return "ct-" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12] }

// ctPublishOpt adjusts a request message before it is published.
type ctPublishOpt func(*nats.Msg)

// ctHeader sets a header of the message.
func ctHeader(k, v string) ctPublishOpt { return func(m *nats.Msg) { m.Header.Set(k, v) } }

// ctNoHeader removes a header of the message.
func ctNoHeader(k string) ctPublishOpt { return func(m *nats.Msg) { m.Header.Del(k) } }

// publishBinary publishes a binary-mode CloudEvent: ce-* headers and the data as the body, its
// type in Content-Type unless opts say otherwise.
func (p *ctInstaller) publishBinary(t *testing.T, subject, id, typ string, data any, opts ...ctPublishOpt) uint64 {
	t.Helper()
	m := nats.NewMsg(subject)
	m.Header.Set("ce-specversion", "1.0")
	m.Header.Set("ce-id", id)
	m.Header.Set("ce-source", "urn:contract-test")
	m.Header.Set("ce-type", typ)
	m.Header.Set("Content-Type", "application/json")
	m.Data = ctJSON(t, data)
	for _, o := range opts {
		o(m)
	}
	return p.publishMsg(t, m)
}

// publishStructured publishes a structured-mode CloudEvent: the whole event as JSON in the body.
func (p *ctInstaller) publishStructured(t *testing.T, subject string, event map[string]any, opts ...ctPublishOpt) uint64 {
	t.Helper()
	m := nats.NewMsg(subject)
	m.Data = ctJSON(t, event)
	for _, o := range opts {
		o(m)
	}
	return p.publishMsg(t, m)
}

// publishRaw publishes bytes with headers, as anything might.
func (p *ctInstaller) publishRaw(t *testing.T, subject string, data []byte, header nats.Header) uint64 {
	t.Helper()
	m := nats.NewMsg(subject)
	for k, vs := range header {
		m.Header[k] = vs
	}
	m.Data = data
	return p.publishMsg(t, m)
}

// publishMsg publishes through JetStream and returns the stream sequence, failing unless the
// requests stream took the message.
func (p *ctInstaller) publishMsg(t *testing.T, m *nats.Msg) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ack, err := p.js.PublishMsg(ctx, m)
	if err != nil {
		t.Fatalf("publish on %s: %v", m.Subject, err)
	}
	if ack.Stream != ctStreamRequests {
		t.Fatalf("a message on %s went to stream %s, want %s", m.Subject, ack.Stream, ctStreamRequests)
	}
	return ack.Sequence
}

// ctJSON encodes v as JSON; bytes are taken as they are, to send what no encoder would.
func ctJSON(t *testing.T, v any) []byte {
	t.Helper()
	if b, ok := v.([]byte); ok {
		return b
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ctKeys checks that obj has every key of required, only keys of required and optional, and
// returns a description of what is wrong.
func ctKeys(obj map[string]any, required, optional []string) error {
	var errs []error
	for _, k := range required {
		if _, ok := obj[k]; !ok {
			errs = append(errs, fmt.Errorf("missing %q", k))
		}
	}
	for k := range obj {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			errs = append(errs, fmt.Errorf("unexpected %q", k))
		}
	}
	return errors.Join(errs...)
}

// ctString reports whether obj[key] is a non-empty string.
func ctString(obj map[string]any, key string) bool {
	s, ok := obj[key].(string)
	return ok && s != ""
}

// ctCheckFailedShape checks the fields of a failed event against the contract's example.
func ctCheckFailedShape(t *testing.T, d map[string]any) {
	t.Helper()
	if err := ctKeys(d, []string{"requestId", "orgId", "stage", "code", "message", "retryable", "httpStatus"},
		[]string{"orderId", "provisionRequestId", "errors"}); err != nil {
		t.Errorf("failed event fields: %v\n%v", err, d)
	}
	if !slices.Contains([]string{"validation", "lookup", "provision", "order", "completion"}, fmt.Sprint(d["stage"])) {
		t.Errorf("failed event: stage %v is not one of the contract's", d["stage"])
	}
	if !slices.Contains([]string{"invalid_request", "unauthorized", "forbidden", "not_found", "rate_limited", "api_error",
		"provision_failed", "order_rejected", "order_failed", "order_window_expired", "deadline_exceeded"}, fmt.Sprint(d["code"])) {
		t.Errorf("failed event: code %v is not one of the contract's", d["code"])
	}
	for _, k := range []string{"requestId", "stage", "code", "message"} {
		if !ctString(d, k) {
			t.Errorf("failed event: %s = %#v, want a non-empty string", k, d[k])
		}
	}
	if _, ok := d["orgId"].(string); !ok {
		t.Errorf("failed event: orgId = %#v, want a string", d["orgId"])
	}
	if _, ok := d["retryable"].(bool); !ok {
		t.Errorf("failed event: retryable = %#v, want a boolean", d["retryable"])
	}
	if n, ok := d["httpStatus"].(float64); !ok || n != float64(int(n)) {
		t.Errorf("failed event: httpStatus = %#v, want a whole number", d["httpStatus"])
	}
	for _, k := range []string{"orderId", "provisionRequestId"} {
		if v, ok := d[k]; ok && !ctString(d, k) {
			t.Errorf("failed event: %s = %#v, want a non-empty string when present", k, v)
		}
	}
	if v, ok := d["errors"]; ok {
		list, ok := v.([]any)
		if !ok {
			t.Fatalf("failed event: errors = %#v, want an array", v)
		}
		for i, e := range list {
			fe, ok := e.(map[string]any)
			if !ok || ctKeys(fe, []string{"field", "message"}, nil) != nil || !ctString(fe, "field") || !ctString(fe, "message") {
				t.Errorf("failed event: errors[%d] = %#v, want {field, message}", i, e)
			}
		}
	}
}

// ctErrorFields returns the field paths of a failed event's errors.
func ctErrorFields(d map[string]any) []string {
	var out []string
	list, _ := d["errors"].([]any)
	for _, e := range list {
		if fe, ok := e.(map[string]any); ok {
			if f, ok := fe["field"].(string); ok {
				out = append(out, f)
			}
		}
	}
	slices.Sort(out)
	return out
}

// ctRFC3339Z reports whether v is an RFC 3339 time in UTC written with "Z".
func ctRFC3339Z(v any) bool {
	s, ok := v.(string)
	if !ok || !strings.HasSuffix(s, "Z") {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// ctRequestsFor counts the sandbox requests whose body or path mentions s.
func ctRequestsFor(sandbox *atlassiantest.Server, e atlassiantest.Endpoint, s string) int {
	n := 0
	for _, r := range sandbox.RequestsTo(e) {
		if strings.Contains(r.Body, s) || strings.Contains(r.Path, s) {
			n++
		}
	}
	return n
}

// ctCheckOperatorEndpoints checks /healthz, /readyz and /metrics, and that no secret is in the
// metrics.
func ctCheckOperatorEndpoints(t *testing.T, p *ctInstaller) {
	t.Helper()
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get("http://" + p.httpAddr + path)
		if err != nil {
			t.Errorf("GET %s: %v", path, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d %s", path, resp.StatusCode, body)
		}
		if path == "/metrics" && !strings.Contains(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("GET /metrics: Content-Type %q, want Prometheus text", resp.Header.Get("Content-Type"))
		}
		for _, s := range p.secrets {
			if strings.Contains(string(body), s) {
				t.Errorf("GET %s shows a secret", path)
			}
		}
	}
}

// ctCheckOrderFollowsProvisioning checks, from the sandbox's request log, the order of an
// ordered event: it was sent once, named the provisioning request at the end of the statusUrl,
// has the event's orderId and billing, and the order reads carried X-transaction-account.
// It returns the order sent.
func ctCheckOrderFollowsProvisioning(t *testing.T, sandbox *atlassiantest.Server, ordered map[string]any) client.OrderRequest {
	t.Helper()
	prid, _ := ordered["provisionRequestId"].(string)
	var orders []client.OrderRequest
	for _, r := range sandbox.RequestsTo(atlassiantest.EndpointCreateOrder) {
		var o client.OrderRequest
		if err := json.Unmarshal([]byte(r.Body), &o); err == nil && o.Metadata.ProvisionRequestID == prid && prid != "" {
			orders = append(orders, o)
		}
	}
	if len(orders) != 1 {
		t.Fatalf("%d orders name provisioning request %q, want 1", len(orders), prid)
	}
	o := orders[0]
	if o.OrderID != ordered["orderId"] || o.TransactionAccountID != ordered["transactionAccountId"] || o.InvoiceGroupID != ordered["invoiceGroupId"] {
		t.Errorf("order %+v does not match the ordered event %v", o, ordered)
	}
	for _, r := range sandbox.RequestsTo(atlassiantest.EndpointGetOrder) {
		if strings.HasSuffix(r.Path, "/"+o.OrderID) && r.Header.Get("X-transaction-account") != o.TransactionAccountID {
			t.Errorf("order read %s without X-transaction-account %s: %v", r.Path, o.TransactionAccountID, r.Header)
		}
	}
	for _, r := range sandbox.RequestsTo(atlassiantest.EndpointProvisionStatus) {
		if strings.HasSuffix(r.Path, "/status/"+prid) {
			return o
		}
	}
	t.Errorf("the provisioning status %s was never read", prid)
	return o
}

// ctCheckNewSiteJira checks the provisioning request and the order of a Jira Software request
// on a new site (ctNewSiteJira): the instance offering with its location, the parameters, and
// one family container item of the default offering related from the product.
func ctCheckNewSiteJira(t *testing.T, sandbox *atlassiantest.Server, site string, order client.OrderRequest) {
	t.Helper()
	for _, r := range sandbox.RequestsTo(atlassiantest.EndpointProvisionProducts) {
		var pr client.ProvisionRequest
		if json.Unmarshal([]byte(r.Body), &pr) != nil || pr.Parameters.Name != site {
			continue
		}
		if len(pr.Offerings) != 1 || pr.Offerings[0].ID != atlassiantest.JiraOfferingID || pr.Offerings[0].Location != "us" ||
			pr.Parameters.AdminEmail != "admin@acme.example" || pr.Parameters.Timezone != "Australia/Sydney" {
			t.Errorf("provisioning request %s, want the Jira offering in us, adminEmail, name and timezone", r.Body)
		}
	}
	var container, product *client.OrderItem
	for i := range order.Items {
		switch order.Items[i].OfferingID {
		case atlassiantest.JiraFamilyContainerOfferingID:
			container = &order.Items[i]
		case atlassiantest.JiraOfferingID:
			product = &order.Items[i]
		}
	}
	if container == nil || product == nil || len(order.Items) != 2 {
		t.Fatalf("order items %+v, want the default family container and Jira", order.Items)
	}
	var family, enterprise bool
	for _, r := range product.RelatesFromEntitlements {
		family = family || (r.RelationshipType == "FAMILY_CONTAINER" && r.ReferenceType == "ORDER_ITEM" && r.ItemID == container.ItemID)
		enterprise = enterprise || (r.RelationshipType == "ENTERPRISE" && r.ReferenceType == "ENTITLEMENT" &&
			r.EntitlementID == atlassiantest.JiraParentEntitlementID)
	}
	if !family || !enterprise || product.Type != "CREATION_ORDER" {
		t.Errorf("Jira item %+v: want a CREATION_ORDER related FAMILY_CONTAINER/ORDER_ITEM to the container and ENTERPRISE/ENTITLEMENT to the parent", product)
	}
}

// ctCheckStepOrder checks one journey's calls: every look-up endpoint was called, all before
// the provisioning request, and the order came right after the provisioning answer, with no
// call in between.
func ctCheckStepOrder(t *testing.T, calls []atlassiantest.RecordedRequest, lookups []atlassiantest.Endpoint, provision atlassiantest.Endpoint) {
	t.Helper()
	var seq []atlassiantest.Endpoint
	for _, r := range calls {
		seq = append(seq, r.Endpoint)
	}
	at := slices.Index(seq, provision)
	if at < 0 || at+1 >= len(seq) || seq[at+1] != atlassiantest.EndpointCreateOrder {
		t.Fatalf("calls %v: want %s followed at once by %s", seq, provision, atlassiantest.EndpointCreateOrder)
	}
	for _, l := range lookups {
		if i := slices.Index(seq, l); i < 0 || i > at {
			t.Errorf("calls %v: want the look-up %s before %s", seq, l, provision)
		}
	}
	for _, r := range seq[at:] {
		if slices.Contains(lookups, r) {
			t.Errorf("calls %v: a look-up after the provisioning request", seq)
			break
		}
	}
}

// ctNATSWithPassword starts a JetStream server that wants a user and password, and returns the
// URL carrying them: a NATS_URL whose password must never show.
func ctNATSWithPassword(t *testing.T, user, password string) string {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		Username: user, Password: password, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return fmt.Sprintf("nats://%s:%s@%s", user, password, ns.Addr())
}

// ctOutcomes follows a running installer's outcomes: the events stream as stored, and every
// publish on the outcome subjects as sent (JetStream drops re-sent ids from the stream only).
type ctOutcomes struct {
	prefix, source string
	stream         *ctCollector
	sent           *ctCollector
	dead           *ctCollector
}

// ctFollow starts following an installer's outcomes and dead letters from the streams' start.
func ctFollow(t *testing.T, p *ctInstaller, prefix, source string) *ctOutcomes {
	t.Helper()
	o := &ctOutcomes{prefix: prefix, source: source,
		stream: p.watchStream(t, ctStreamEvents),
		dead:   p.watchStream(t, ctStreamDeadLetter),
		sent:   p.watchCore(t, prefix+".install.>")}
	return o
}

// published returns the outcome publishes seen on core NATS for a request.
func (o *ctOutcomes) published(requestID string) []ctMsg {
	return o.sent.where(func(m ctMsg) bool {
		return m.Subject != o.prefix+".install.requested" && m.Subject != o.prefix+".install.deadletter" &&
			m.ce("subject") == requestID
	})
}

// check verifies the contract's rules on every outcome seen: the binding, the headers, the data
// shape per type, no secret anywhere, and per request at most one ordered, before exactly one
// terminal event.
func (o *ctOutcomes) check(t *testing.T, secrets ...string) {
	t.Helper()
	ordered, provisioned, failed := o.prefix+".install.ordered", o.prefix+".install.provisioned", o.prefix+".install.failed"
	planned := o.prefix + ".install.planned"
	for _, m := range o.stream.all() {
		ctCheckBinding(t, m, o.source)
		for _, s := range append(secrets, ctAPIKey) {
			if strings.Contains(string(m.Data), s) || strings.Contains(fmt.Sprint(m.Header), s) {
				t.Errorf("a secret is in the %s event of %s", m.Subject, m.ce("subject"))
			}
		}
		d := m.dataMap(t)
		switch m.Subject {
		case ordered:
			ctCheckOrderedShape(t, d)
		case provisioned:
			ctCheckProvisionedShape(t, d)
		case failed:
			ctCheckFailedShape(t, d)
		case planned:
			if err := ctKeys(d, []string{"requestId", "orgId", "provisioning", "order", "lookups"}, []string{"site"}); err != nil {
				t.Errorf("planned event of %s: %v", m.ce("subject"), err)
			}
		default:
			t.Errorf("event on unexpected subject %s in %s", m.Subject, ctStreamEvents)
		}
	}
	ids := map[string]bool{}
	for _, m := range o.sent.all() {
		if m.Subject == ordered || m.Subject == provisioned || m.Subject == failed || m.Subject == planned {
			ids[m.ce("subject")] = true
		}
	}
	for id := range ids {
		var seq []string
		for _, m := range o.published(id) {
			seq = append(seq, strings.TrimPrefix(m.Subject, o.prefix+".install."))
		}
		switch {
		case slices.Equal(seq, []string{"ordered", "provisioned"}),
			slices.Equal(seq, []string{"ordered", "failed"}),
			slices.Equal(seq, []string{"failed"}),
			slices.Equal(seq, []string{"planned"}):
		default:
			t.Errorf("request %s: outcomes published %v, want [ordered] then exactly one of provisioned or failed (ordered before provisioned)", id, seq)
		}
	}
}

// ctCheckBinding checks an outbound event against the contract's CloudEvents rules.
func ctCheckBinding(t *testing.T, m ctMsg, source string) {
	t.Helper()
	id := m.ce("id")
	want := map[string]string{
		"ce-specversion":     "1.0",
		"ce-type":            m.Subject,
		"ce-source":          source,
		"ce-datacontenttype": "application/json",
		"Nats-Msg-Id":        id,
	}
	for k, v := range want {
		if got := m.Header.Get(k); got != v || v == "" {
			t.Errorf("%s event of %s: header %s = %q, want %q", m.Subject, m.ce("subject"), k, got, v)
		}
	}
	if ct := m.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/cloudevents") {
		t.Errorf("%s event: Content-Type %q: outbound events must be in binary mode", m.Subject, ct)
	}
	if m.ce("subject") == "" {
		t.Errorf("%s event without ce-subject", m.Subject)
	}
	d := m.dataMap(t)
	if d["requestId"] != m.ce("subject") {
		t.Errorf("%s event: ce-subject %q but requestId %v", m.Subject, m.ce("subject"), d["requestId"])
	}
	if _, err := time.Parse(time.RFC3339Nano, m.ce("time")); m.ce("time") != "" && err != nil {
		t.Errorf("%s event: ce-time %q is not RFC 3339", m.Subject, m.ce("time"))
	}
}

// ctCheckOrderedShape checks the fields of an ordered event against the contract's example.
func ctCheckOrderedShape(t *testing.T, d map[string]any) {
	t.Helper()
	keys := []string{"requestId", "orgId", "orderId", "slug", "provisionRequestId", "transactionAccountId", "invoiceGroupId", "items"}
	if err := ctKeys(d, keys, nil); err != nil {
		t.Errorf("ordered event fields: %v\n%v", err, d)
	}
	for _, k := range keys[:len(keys)-1] {
		if !ctString(d, k) {
			t.Errorf("ordered event: %s = %#v, want a non-empty string", k, d[k])
		}
	}
	items, ok := d["items"].([]any)
	if !ok || len(items) == 0 {
		t.Fatalf("ordered event: items = %#v, want a non-empty array", d["items"])
	}
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok || ctKeys(m, []string{"itemId", "orderItemId", "offeringId"}, nil) != nil ||
			!ctString(m, "itemId") || !ctString(m, "orderItemId") || !ctString(m, "offeringId") {
			t.Errorf("ordered event: items[%d] = %#v, want {itemId, orderItemId, offeringId} strings", i, it)
		}
	}
}

// ctCheckProvisionedShape checks the fields of a provisioned event against the contract's
// example: versions are strings and times RFC 3339 in UTC.
func ctCheckProvisionedShape(t *testing.T, d map[string]any) {
	t.Helper()
	keys := []string{"requestId", "orgId", "orderId", "slug", "provisionRequestId", "site", "entitlements", "requestedAt", "completedAt"}
	if err := ctKeys(d, keys, nil); err != nil {
		t.Errorf("provisioned event fields: %v\n%v", err, d)
	}
	for _, k := range keys[:5] {
		if !ctString(d, k) {
			t.Errorf("provisioned event: %s = %#v, want a non-empty string", k, d[k])
		}
	}
	site, ok := d["site"].(map[string]any)
	if !ok || ctKeys(site, []string{"name", "url"}, nil) != nil || !ctString(site, "name") ||
		site["url"] != "https://"+fmt.Sprint(site["name"])+".atlassian.net" {
		t.Errorf("provisioned event: site = %#v, want {name, url: https://{name}.atlassian.net}", d["site"])
	}
	ents, ok := d["entitlements"].([]any)
	if !ok || len(ents) == 0 {
		t.Errorf("provisioned event: entitlements = %#v, want a non-empty array", d["entitlements"])
	}
	for i, e := range ents {
		m, ok := e.(map[string]any)
		if !ok || ctKeys(m, []string{"offeringId", "entitlementId", "version"}, nil) != nil ||
			!ctString(m, "offeringId") || !ctString(m, "entitlementId") || !ctString(m, "version") {
			t.Errorf("provisioned event: entitlements[%d] = %#v, want {offeringId, entitlementId, version} strings", i, e)
		}
	}
	for _, k := range []string{"requestedAt", "completedAt"} {
		if !ctRFC3339Z(d[k]) {
			t.Errorf("provisioned event: %s = %#v, want an RFC 3339 time ending in Z", k, d[k])
		}
	}
}

// ctCheckStreams checks that the three streams exist with exactly the contract's subjects.
func ctCheckStreams(t *testing.T, p *ctInstaller, prefix string) {
	t.Helper()
	want := map[string][]string{
		ctStreamRequests:   {prefix + ".install.requested"},
		ctStreamEvents:     {prefix + ".install.ordered", prefix + ".install.provisioned", prefix + ".install.failed", prefix + ".install.planned"},
		ctStreamDeadLetter: {prefix + ".install.deadletter"},
	}
	for name, subjects := range want {
		st, err := p.js.Stream(context.Background(), name)
		if err != nil {
			t.Errorf("stream %s: %v", name, err)
			continue
		}
		got := slices.Clone(st.CachedInfo().Config.Subjects)
		slices.Sort(got)
		slices.Sort(subjects)
		if !slices.Equal(got, subjects) {
			t.Errorf("stream %s subjects = %v, want %v", name, got, subjects)
		}
		if r := st.CachedInfo().Config.Replicas; r != 1 {
			t.Errorf("stream %s has %d replicas, want INSTALLER_STREAM_REPLICAS's default 1", name, r)
		}
	}
}
