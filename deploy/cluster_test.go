package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// Timing of the cluster tests: a real clock with short intervals, and generous deadlines on
// conditions rather than sleeps.
const (
	pollInterval   = 50 * time.Millisecond
	provisionDelay = 100 * time.Millisecond
	// ackWait is how soon the surviving installer receives the stopped one's unsettled requests.
	ackWait = 2 * time.Second
	// journeysDone bounds the whole run, failovers included.
	journeysDone = 2 * time.Minute
)

// TestClusterSurvivesNodeAndInstallerLoss runs the compose topology without Docker: three
// JetStream nodes, streams and journey state at three replicas, two installers sharing the
// consumer, and the sandbox. While requests flow, one node shuts down (in turn the leader of
// the requests stream, of the installers' consumer, of the journey bucket, and of the cluster's
// metadata) and one installer stops dead. Every request must still end in exactly one terminal
// event, and no order may be placed twice.
func TestClusterSurvivesNodeAndInstallerLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster failover test")
	}
	const account = server.DEFAULT_GLOBAL_ACCOUNT
	victims := []struct {
		name string
		lead func(*server.Server) bool
	}{
		{"requests stream leader", func(s *server.Server) bool {
			return s.JetStreamIsStreamLeader(account, events.StreamRequests)
		}},
		{"consumer leader", func(s *server.Server) bool {
			return s.JetStreamIsConsumerLeader(account, events.StreamRequests, handlers.DefaultConsumer)
		}},
		{"journey bucket leader", func(s *server.Server) bool {
			return s.JetStreamIsStreamLeader(account, "KV_"+record.DefaultBucket)
		}},
		{"meta leader", (*server.Server).JetStreamIsLeader},
	}
	for _, v := range victims {
		t.Run(v.name, func(t *testing.T) { testFailover(t, v.name, v.lead) })
	}
}

func testFailover(t *testing.T, victim string, leads func(*server.Server) bool) {
	const requests = 30
	cluster := startCluster(t, 3)
	sandbox := atlassiantest.NewServer(
		atlassiantest.WithProvisionDelay(provisionDelay),
		atlassiantest.WithOrderProcessingDelay(provisionDelay),
	)
	t.Cleanup(sandbox.Close)
	subjects := events.NewSubjects("")

	// Both at once, as the compose file may start them: each keeps setting up while the
	// other's streams, bucket and consumer are being created and their leaders elected.
	first := startInstaller(t, cluster, sandbox, "installer-1")
	second := startInstaller(t, cluster, sandbox, "installer-2")
	waitFor(t, clusterReady, "installer-1 consuming", func() bool { return first.ready(t) })
	waitFor(t, clusterReady, "installer-2 consuming", func() bool { return second.ready(t) })

	_, js := connect(t, cluster.url(), "procurement")
	seen := watchOutcomes(t, js)

	ids := make([]string, requests)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	before, after := ids[:requests/2], ids[requests/2:]
	for i, id := range before {
		publishRequest(t, js, subjects, id, i)
	}
	// Stop things while journeys are mid-way. Either installer may have pulled all of them, so
	// the one stopped dead is the one that has called the API most: it surely holds journeys.
	waitFor(t, journeysDone, "journeys under way", func() bool { return seen.count(subjects.Ordered()) >= 3 })
	doomed := first
	if second.http.calls.Load() > first.http.calls.Load() {
		doomed = second
	}

	leader := cluster.leader(t, victim, leads)
	t.Logf("shutting down %s, %s; stopping %s dead after %d API calls, with %d of %d requests finished",
		leader.Name(), victim, doomed.name, doomed.http.calls.Load(), seen.terminated(subjects, before), len(before))
	leader.Shutdown()
	doomed.kill(t)

	for i, id := range after {
		publishRequest(t, js, subjects, id, len(before)+i)
	}
	t.Cleanup(func() {
		if t.Failed() {
			describeUnfinished(t, js, subjects, seen, ids)
		}
	})
	waitFor(t, journeysDone, fmt.Sprintf("a terminal event for each of %d requests", requests), func() bool {
		return seen.terminated(subjects, ids) == requests
	})

	// Everything the events stream holds, read to its end.
	stream, err := js.Stream(context.Background(), events.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, journeysDone, "the outcome watcher at the end of the stream", func() bool {
		return seen.lastSeq() >= info.State.LastSeq
	})

	for _, id := range ids {
		types := seen.of(id)
		terminal := 0
		for _, typ := range types {
			if typ == subjects.Provisioned() || typ == subjects.Failed() {
				terminal++
			}
		}
		if terminal != 1 {
			t.Errorf("request %s: %d terminal events %v, want exactly one", id, terminal, types)
		}
		if len(types) > 0 && types[len(types)-1] != subjects.Provisioned() {
			t.Errorf("request %s: events %v, want it provisioned (no fault was injected at the API)", id, types)
		}
	}
	checkOrderedOnce(t, sandbox, requests)
	// One provisioning per request, plus at most one for each journey stopped between sending
	// it and recording its answer (the contract's one exception).
	t.Logf("%d provisioning requests for %d requests", sandbox.ProvisionRequests(), requests)
}

// TestInstallersStartBeforeTheClusterForms starts two installers when only one of the three
// nodes is up, so that no stream can be created yet: both keep setting up, not ready, and
// consume once the other nodes have joined, without being restarted; a request then ends
// provisioned.
func TestInstallersStartBeforeTheClusterForms(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster start-up test")
	}
	cluster := newCluster(t, 3)
	cluster.start(t, 0)
	sandbox := atlassiantest.NewServer()
	t.Cleanup(sandbox.Close)
	first := startInstaller(t, cluster, sandbox, "installer-1")
	second := startInstaller(t, cluster, sandbox, "installer-2")
	if first.ready(t) || second.ready(t) {
		t.Fatal("an installer is ready on a cluster without a meta leader")
	}

	cluster.start(t, 1)
	cluster.start(t, 2)
	cluster.waitFormed(t)
	waitFor(t, journeysDone, "installer-1 consuming", func() bool { return first.ready(t) })
	waitFor(t, journeysDone, "installer-2 consuming", func() bool { return second.ready(t) })

	_, js := connect(t, cluster.url(), "procurement")
	seen := watchOutcomes(t, js)
	subjects := events.NewSubjects("")
	id := uuid.NewString()
	publishRequest(t, js, subjects, id, 0)
	waitFor(t, journeysDone, "the request's terminal event", func() bool {
		return seen.terminated(subjects, []string{id}) == 1
	})
	if types := seen.of(id); types[len(types)-1] != subjects.Provisioned() {
		t.Errorf("events %v, want the request provisioned", types)
	}
}

// checkOrderedOnce asserts that the sandbox accepted exactly one order per request and that an
// orderId never arrived with different content.
func checkOrderedOnce(t *testing.T, sandbox *atlassiantest.Server, requests int) {
	t.Helper()
	orders := sandbox.Orders()
	ids := map[string]bool{}
	for _, o := range orders {
		ids[o.OrderID] = true
	}
	if len(orders) != requests || len(ids) != requests {
		t.Errorf("%d orders with %d distinct orderIds accepted, want %d", len(orders), len(ids), requests)
	}
	bodies := map[string]client.OrderRequest{}
	for _, r := range sandbox.RequestsTo(atlassiantest.EndpointCreateOrder) {
		var o client.OrderRequest
		if err := json.Unmarshal([]byte(r.Body), &o); err != nil {
			t.Errorf("order body: %v", err)
			continue
		}
		prev, ok := bodies[o.OrderID]
		if !ok {
			bodies[o.OrderID] = o
			continue
		}
		a, _ := json.Marshal(prev)
		b, _ := json.Marshal(o)
		if string(a) != string(b) {
			t.Errorf("orderId %s sent with different content:\n%s\n%s", o.OrderID, a, b)
		}
	}
}

// installer is one installer process of the compose file: its own NATS connection to every
// node, its own HTTP transport to the sandbox.
type installer struct {
	name   string
	in     *handlers.Installer
	nc     *nats.Conn
	http   *killableTransport
	cancel context.CancelFunc
	done   chan error
}

func startInstaller(t *testing.T, cluster *natsCluster, sandbox *atlassiantest.Server, name string) *installer {
	t.Helper()
	nc, js := connect(t, cluster.url(), name)
	tr := newKillableTransport()
	api, err := client.NewClient(
		client.WithBaseURL(sandbox.URL),
		client.WithAPIKey(atlassiantest.DefaultAPIKey),
		client.WithHTTPClient(&http.Client{Transport: tr}),
		// The sandbox answers at once; the documented limits would only slow the test down.
		client.WithRateLimit(client.FamilyOrders, 60_000),
	)
	if err != nil {
		t.Fatal(err)
	}
	in, err := handlers.NewInstaller(js, handlers.API{
		Installations: api.Installations, Commerce: api.Commerce, Workspaces: api.Workspaces,
	}, handlers.Config{
		Subjects:        events.NewSubjects(""),
		Replicas:        3,
		Concurrency:     16,
		PollInterval:    pollInterval,
		MaxPollInterval: 4 * pollInterval,
		AckWait:         ackWait,
		DrainTimeout:    time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	i := &installer{name: name, in: in, nc: nc, http: tr, cancel: cancel, done: make(chan error, 1)}
	go func() { i.done <- in.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-i.done:
		case <-time.After(journeysDone):
			t.Errorf("%s did not return from Run", name)
		}
	})
	return i
}

// ready reports whether the installer consumes, failing the test if Run returned.
func (i *installer) ready(t *testing.T) bool {
	t.Helper()
	select {
	case err := <-i.done:
		i.done <- err
		t.Fatalf("installer stopped before consuming: %v", err)
	default:
	}
	return i.in.Ready()
}

// kill stops the installer without a drain, as a crash or SIGKILL would: its NATS connection
// closes first, so it settles nothing more, then its HTTP connections drop mid-call.
func (i *installer) kill(t *testing.T) {
	t.Helper()
	i.nc.Close()
	i.http.kill()
	i.cancel()
}

// killableTransport is an HTTP transport whose connections can all be cut at once.
type killableTransport struct {
	*http.Transport
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	killed atomic.Bool
	calls  atomic.Int64
}

var errKilled = errors.New("installer process stopped")

func newKillableTransport() *killableTransport {
	k := &killableTransport{conns: map[net.Conn]struct{}{}}
	var d net.Dialer
	k.Transport = &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if k.killed.Load() {
				return nil, errKilled
			}
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			k.mu.Lock()
			defer k.mu.Unlock()
			k.conns[c] = struct{}{}
			return c, nil
		},
	}
	return k
}

func (k *killableTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if k.killed.Load() {
		return nil, errKilled
	}
	k.calls.Add(1)
	return k.Transport.RoundTrip(r)
}

func (k *killableTransport) kill() {
	k.killed.Store(true)
	k.mu.Lock()
	defer k.mu.Unlock()
	for c := range k.conns {
		c.Close()
	}
}

// publishRequest publishes a new-site Jira request as a procurement system would, retrying
// while the cluster elects a new leader; Nats-Msg-Id (the event id) keeps a retry from storing
// the request twice.
func publishRequest(t *testing.T, js jetstream.JetStream, subjects events.Subjects, id string, n int) {
	t.Helper()
	e := cloudevents.NewEvent()
	e.SetID(id)
	e.SetSource("urn:procurement:deploy-test")
	e.SetType(subjects.Requested())
	data := map[string]any{
		"orgId":      atlassiantest.OrgID,
		"adminEmail": "admin@acme.example",
		"site":       map[string]any{"name": fmt.Sprintf("cluster-%d", n), "create": true, "timezone": "Australia/Sydney"},
		"products": []map[string]any{{
			"offeringId":          atlassiantest.JiraOfferingID,
			"family":              "jira",
			"location":            "us",
			"chargeElement":       "user",
			"quantity":            100,
			"parentEntitlementId": atlassiantest.JiraParentEntitlementID,
		}},
	}
	if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
		t.Fatal(err)
	}
	msg, err := events.ToNATS(subjects.Requested(), &e)
	if err != nil {
		t.Fatal(err)
	}
	var lastErr error
	waitFor(t, journeysDone, "request "+id+" stored", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, lastErr = js.PublishMsg(ctx, msg)
		return lastErr == nil
	})
}

// outcomes records every outcome event on INSTALL_EVENTS by request id (the event's subject).
type outcomes struct {
	mu     sync.Mutex
	byID   map[string][]string
	byType map[string]int
	seq    uint64
}

func watchOutcomes(t *testing.T, js jetstream.JetStream) *outcomes {
	t.Helper()
	o := &outcomes{byID: map[string][]string{}, byType: map[string]int{}}
	var cons jetstream.Consumer
	waitFor(t, clusterReady, "an outcome watcher", func() bool {
		var err error
		cons, err = js.OrderedConsumer(context.Background(), events.StreamEvents, jetstream.OrderedConsumerConfig{})
		return err == nil
	})
	cc, err := cons.Consume(func(m jetstream.Msg) {
		e, err := events.FromNATS(m.Headers(), m.Data())
		if err != nil {
			t.Errorf("outcome is not a CloudEvent: %v", err)
			return
		}
		meta, err := m.Metadata()
		if err != nil {
			t.Errorf("outcome metadata: %v", err)
			return
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		o.byID[e.Subject()] = append(o.byID[e.Subject()], e.Type())
		o.byType[e.Type()]++
		o.seq = meta.Sequence.Stream
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cc.Stop)
	return o
}

func (o *outcomes) count(eventType string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.byType[eventType]
}

func (o *outcomes) of(id string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.byID[id]...)
}

func (o *outcomes) lastSeq() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seq
}

// terminated counts the requests among ids that have at least one terminal event.
func (o *outcomes) terminated(subjects events.Subjects, ids []string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, id := range ids {
		for _, typ := range o.byID[id] {
			if typ == subjects.Provisioned() || typ == subjects.Failed() {
				n++
				break
			}
		}
	}
	return n
}

// describeUnfinished logs the recorded journey of every request without a terminal event, so a
// failure says where each one stopped.
func describeUnfinished(t *testing.T, js jetstream.JetStream, subjects events.Subjects, seen *outcomes, ids []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, record.DefaultBucket)
	if err != nil {
		t.Logf("journey bucket: %v", err)
		return
	}
	for _, id := range ids {
		if seen.terminated(subjects, []string{id}) == 1 {
			continue
		}
		e, err := kv.Get(ctx, record.Key(id))
		if err != nil {
			t.Logf("request %s: events %v, no journey state: %v", id, seen.of(id), err)
			continue
		}
		t.Logf("request %s: events %v, journey state %s", id, seen.of(id), e.Value())
	}
}
