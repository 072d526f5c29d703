package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/record"
	sharedquota "github.com/procurement/atlassian-installer/internal/quota"
)

// The cluster scenario's settings: the consumer's ack wait, after which a killed
// installer's journeys are taken over, and the first poll interval.
const (
	clusterAckWait = 5 * time.Second
	clusterPoll    = 200 * time.Millisecond
)

// clusterResult is scenario 6's: one run of n journeys on a three-node cluster.
type clusterResult struct {
	Instances int
	Journeys  int
	Killed    bool // one installer was killed once half the journeys had ended
	// PerProcess is each installer's own orders limit per minute (its client's); 0: the
	// documented quotas shared by every installer (internal/quota).
	PerProcess int
	Wall       time.Duration
	// RateLimited counts 429 answers of the sandbox; Orders the orders it accepted,
	// OrderIDs how many distinct orderIds they had.
	RateLimited, Orders, OrderIDs int
	// Terminal counts terminal events; Ended, requests with exactly one; Provisioned, those
	// ending provisioned.
	Terminal, Ended, Provisioned int
	// Odd lists the outcomes of requests that did not end exactly once.
	Odd map[string][]string
	// Gap is provisioning answered → order received by the sandbox; Announce, order
	// answered → ordered received by a subscriber.
	GapP50, GapP99, AnnounceP50, AnnounceP99 time.Duration
}

// Throughput is the journeys ended per second.
func (r *clusterResult) Throughput() float64 { return float64(r.Journeys) / r.Wall.Seconds() }

// QuotaPace is the journeys a second the orders quota allows: two order-family calls each
// (the order and one read of it).
func QuotaPace() float64 { return float64(atlassiantest.OrdersPerMinute) / 60 / 2 }

// clusterTimes stands in front of the sandbox: it times provisioning answers and orders,
// and counts 429s.
type clusterTimes struct {
	mu          sync.Mutex
	provisioned map[string]time.Time // site → provisioning answered
	orderIn     map[string]time.Time // orderId → first order POST received
	orderOut    map[string]time.Time // orderId → first order POST answered
	limited     atomic.Int64
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (c *clusterTimes) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := time.Now()
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		sw := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		out := time.Now()
		if sw.status == http.StatusTooManyRequests {
			c.limited.Add(1)
			return
		}
		if r.Method != http.MethodPost || sw.status >= 300 {
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/products"):
			var p client.ProvisionRequest
			if json.Unmarshal(body, &p) == nil {
				if _, ok := c.provisioned[p.Parameters.Name]; !ok {
					c.provisioned[p.Parameters.Name] = out
				}
			}
		case r.URL.Path == "/commerce/api/v2/orders":
			var o client.OrderRequest
			if json.Unmarshal(body, &o) == nil {
				if _, ok := c.orderIn[o.OrderID]; !ok {
					c.orderIn[o.OrderID], c.orderOut[o.OrderID] = in, out
				}
			}
		}
	})
}

// natsCluster is three JetStream nodes in this process, routed to each other on loopback,
// each fsyncing every write.
type natsCluster struct {
	dir     string
	servers []*server.Server
}

func startNATSCluster(size int) (c *natsCluster, err error) {
	c = &natsCluster{}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	if c.dir, err = os.MkdirTemp("", "installer-cluster-*"); err != nil {
		return nil, err
	}
	ports := make([]int, 2*size)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
	}
	routes := make([]string, size)
	for i := range size {
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", ports[size+i])
	}
	for i := range size {
		s, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("nats-%d", i+1),
			Host:       "127.0.0.1",
			Port:       ports[i],
			JetStream:  true,
			StoreDir:   fmt.Sprintf("%s/%d", c.dir, i),
			SyncAlways: true,
			Cluster:    server.ClusterOpts{Name: "bench", Host: "127.0.0.1", Port: ports[size+i]},
			Routes:     server.RoutesFromStr(strings.Join(routes, ",")),
			NoLog:      true,
			NoSigs:     true,
		})
		if err != nil {
			return nil, fmt.Errorf("nats-%d: %w", i+1, err)
		}
		go s.Start()
		c.servers = append(c.servers, s)
	}
	for _, s := range c.servers {
		if !s.ReadyForConnections(readyTimeout) {
			return nil, fmt.Errorf("%s not ready", s.Name())
		}
	}
	err = waitUntil(time.Minute, func() bool {
		for _, s := range c.servers {
			if s.JetStreamIsLeader() && len(s.JetStreamClusterPeers()) == size {
				return true
			}
		}
		return false
	})
	return c, err
}

func (c *natsCluster) url() string {
	urls := make([]string, len(c.servers))
	for i, s := range c.servers {
		urls[i] = s.ClientURL()
	}
	return strings.Join(urls, ",")
}

func (c *natsCluster) close() {
	for _, s := range c.servers {
		s.Shutdown()
		s.WaitForShutdown()
	}
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
	}
}

// clusterInstaller is one installer process: its own NATS connection and HTTP client.
type clusterInstaller struct {
	in     *handlers.Installer
	nc     *nats.Conn
	cancel context.CancelFunc
	done   chan error
}

// runCluster publishes n journeys at once to instances installers sharing a three-node
// cluster, against a sandbox enforcing the documented quotas. The installers share the
// documented quotas as cmd/installer does, or with perProcess > 0 each installer's client
// limits its own orders to perProcess a minute, as they did before the quota was shared. With kill, one installer is killed (its NATS
// connection closed, as a crash would) once half the journeys have ended: the others take its
// journeys over after the consumer's ack wait.
func runCluster(ctx context.Context, n, instances, perProcess int, kill bool) (*clusterResult, error) {
	cluster, err := startNATSCluster(3)
	if err != nil {
		return nil, err
	}
	defer cluster.close()
	times := &clusterTimes{provisioned: map[string]time.Time{}, orderIn: map[string]time.Time{},
		orderOut: map[string]time.Time{}}
	sandbox := atlassiantest.NewUnstartedServer(
		atlassiantest.WithDocumentedRateLimits(),
		atlassiantest.WithProvisionDelay(0),
		atlassiantest.WithOrderProcessingDelay(0),
		atlassiantest.WithRequestLogLimit(0),
	)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: times.wrap(sandbox.Handler()), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()
	apiURL := "http://" + l.Addr().String()

	installers := make([]*clusterInstaller, instances)
	defer func() {
		for _, i := range installers {
			if i != nil {
				i.stop()
			}
		}
	}()
	for k := range installers {
		if installers[k], err = startClusterInstaller(cluster.url(), apiURL, fmt.Sprintf("installer-%d", k+1), perProcess); err != nil {
			return nil, err
		}
	}
	for _, i := range installers {
		if err := waitUntil(time.Minute, i.in.Ready); err != nil {
			return nil, fmt.Errorf("installer: %w", err)
		}
	}

	pnc, pjs, err := connect(cluster.url(), "procurement")
	if err != nil {
		return nil, err
	}
	defer pnc.Close()
	t, err := newTracker(pnc, n)
	if err != nil {
		return nil, err
	}
	defer t.close()
	ordered := map[string]time.Time{} // request id → ordered received
	var omu sync.Mutex
	osub, err := pnc.Subscribe(subjects.Ordered(), func(m *nats.Msg) {
		now := time.Now()
		omu.Lock()
		defer omu.Unlock()
		if id := m.Header.Get(events.HeaderPrefix + "subject"); id != "" {
			if _, ok := ordered[id]; !ok {
				ordered[id] = now
			}
		}
	})
	if err != nil {
		return nil, err
	}
	defer func() { _ = osub.Unsubscribe() }()
	_ = osub.SetPendingLimits(-1, -1)
	msgs, ids, err := requestMsgs("cluster", n)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := publishAll(ctx, pjs, t, msgs, ids); err != nil {
		return nil, err
	}
	killed := false
	if kill && instances > 1 {
		if err := t.waitFinished(ctx, n/2); err != nil {
			return nil, err
		}
		installers[0].kill()
		killed = true
	}
	if err := t.waitFinished(ctx, n); err != nil {
		return nil, err
	}
	res := &clusterResult{Instances: instances, Journeys: n, Killed: killed, PerProcess: perProcess, Wall: time.Since(start)}
	res.RateLimited = int(times.limited.Load())
	orders := sandbox.Orders()
	distinct := map[string]bool{}
	for _, o := range orders {
		distinct[o.OrderID] = true
	}
	res.Orders, res.OrderIDs = len(orders), len(distinct)
	// A subscriber may see an outcome before the stream has stored it on a quorum of nodes:
	// the stream is read until it holds a terminal event for every request, or for 10 s.
	var outcomes map[string][]string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if outcomes, err = readOutcomes(ctx, pjs); err != nil {
			return nil, err
		}
		if everyEnded(outcomes, ids) || time.Now().After(deadline) {
			break
		}
	}
	for _, id := range ids {
		terminal := 0
		for _, typ := range outcomes[id] {
			switch typ {
			case subjects.Provisioned():
				res.Provisioned++
				terminal++
			case subjects.Failed():
				terminal++
			}
		}
		res.Terminal += terminal
		if terminal == 1 {
			res.Ended++
		} else {
			if res.Odd == nil {
				res.Odd = map[string][]string{}
			}
			res.Odd[id] = outcomes[id]
		}
	}
	var gaps, announces []time.Duration
	times.mu.Lock()
	omu.Lock()
	for i, id := range ids {
		oid := record.OrderID(id)
		if p, ok := times.provisioned[fmt.Sprintf("cluster-%d", i)]; ok {
			if in, ok := times.orderIn[oid]; ok {
				gaps = append(gaps, in.Sub(p))
			}
		}
		if out, ok := times.orderOut[oid]; ok {
			if at, ok := ordered[id]; ok {
				announces = append(announces, at.Sub(out))
			}
		}
	}
	omu.Unlock()
	times.mu.Unlock()
	res.GapP50, res.GapP99 = percentile(gaps, 50), percentile(gaps, 99)
	res.AnnounceP50, res.AnnounceP99 = percentile(announces, 50), percentile(announces, 99)
	return res, nil
}

// readOutcomes reads INSTALL_EVENTS to its end: the types of the outcomes of each request.
func readOutcomes(ctx context.Context, js jetstream.JetStream) (map[string][]string, error) {
	evs, err := readEvents(ctx, js)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, m := range evs {
		out[m.Subject] = append(out[m.Subject], m.Type)
	}
	return out, nil
}

// everyEnded reports whether every request has a terminal event among outcomes.
func everyEnded(outcomes map[string][]string, ids []string) bool {
	for _, id := range ids {
		ended := false
		for _, typ := range outcomes[id] {
			ended = ended || typ == subjects.Provisioned() || typ == subjects.Failed()
		}
		if !ended {
			return false
		}
	}
	return true
}

func startClusterInstaller(natsURL, apiURL, name string, perProcess int) (_ *clusterInstaller, err error) {
	nc, js, err := connect(natsURL, name)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			cancel()
			nc.Close()
		}
	}()
	opts := []client.Option{
		client.WithBaseURL(apiURL),
		client.WithAPIKey(atlassiantest.DefaultAPIKey),
		client.WithHTTPClient(client.PooledHTTPClient(handlers.DefaultConcurrency)),
	}
	cfg := handlers.Config{
		Replicas:        3,
		AckWait:         clusterAckWait,
		PollInterval:    clusterPoll,
		MaxPollInterval: 5 * clusterPoll,
		DrainTimeout:    5 * time.Second,
	}
	if perProcess > 0 {
		opts = append(opts, client.WithRateLimit(client.FamilyOrders, perProcess))
	} else {
		// The documented quotas, shared by the installers as cmd/installer shares them.
		q, err := sharedquota.New(ctx, js, sharedquota.Config{Prefix: events.DefaultSubjectPrefix, Replicas: 3, Limits: client.DefaultLimits()})
		if err != nil {
			return nil, err
		}
		go func() { _ = q.Run(ctx) }()
		opts = append(opts, client.WithLimiter(q))
		cfg.Limiter = q
	}
	c, err := client.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	in, err := handlers.NewInstaller(js, handlers.ClientAPI(c), cfg)
	if err != nil {
		return nil, err
	}
	i := &clusterInstaller{in: in, nc: nc, cancel: cancel, done: make(chan error, 1)}
	go func() { i.done <- in.Run(ctx) }()
	return i, nil
}

// kill stops the installer as a crash would: its NATS connection closes first, so it settles
// and records nothing more.
func (i *clusterInstaller) kill() {
	i.nc.Close()
	i.cancel()
}

// stop drains the installer and closes its connection.
func (i *clusterInstaller) stop() {
	i.cancel()
	select {
	case err := <-i.done:
		if err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			fmt.Fprintln(os.Stderr, "bench: installer:", err)
		}
	case <-time.After(2 * time.Minute):
	}
	i.nc.Close()
}

func printCluster(w io.Writer, rs []*clusterResult) {
	fmt.Fprintf(w, "6. Cluster: three NATS nodes (R3, fsync every write), installers of concurrency %d, the sandbox enforcing the documented quotas "+
		"(orders %d/min: %.1f journeys/s at two order-family calls each); \"killed\": one installer killed once half the journeys ended (ack wait %s)\n",
		handlers.DefaultConcurrency, atlassiantest.OrdersPerMinute, QuotaPace(), clusterAckWait)
	tw := table(w)
	fmt.Fprintln(tw, "instances\torders quota\tjourneys\t429s\tjourneys/s\tof pace\tgap p50\tgap p99\torder→ordered p50\tp99\tended once\torders (ids)\t")
	for _, r := range rs {
		killed := ""
		if r.Killed {
			killed = " (1 killed)"
		}
		limit := "shared"
		if r.PerProcess > 0 {
			limit = fmt.Sprintf("%d/min each", r.PerProcess)
		}
		fmt.Fprintf(tw, "%d%s\t%s\t%d\t%d\t%.2f\t%.0f%%\t%s\t%s\t%s\t%s\t%d\t%d (%d)\t\n", r.Instances, killed, limit, r.Journeys,
			r.RateLimited, r.Throughput(), 100*r.Throughput()/QuotaPace(), ms(r.GapP50), ms(r.GapP99), ms(r.AnnounceP50), ms(r.AnnounceP99),
			r.Ended, r.Orders, r.OrderIDs)
	}
	_ = tw.Flush()
	for _, r := range rs {
		for id, types := range r.Odd {
			fmt.Fprintf(w, "  %d instances: request %s did not end exactly once: %v\n", r.Instances, id, types)
		}
	}
}
