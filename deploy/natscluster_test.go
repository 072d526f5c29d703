package deploy

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// clusterReady bounds how long a cluster may take to elect its JetStream meta leader.
const clusterReady = 60 * time.Second

// natsCluster is the compose file's three-node JetStream cluster in one process: each node on
// 127.0.0.1 with random ports, its own store, fsync on every write, routes to every node.
type natsCluster struct {
	opts    []*server.Options
	servers []*server.Server // nil for a node not started yet
}

// startCluster starts every node and waits until the cluster has formed.
func startCluster(t *testing.T, size int) *natsCluster {
	t.Helper()
	c := newCluster(t, size)
	for i := range size {
		c.start(t, i)
	}
	c.waitFormed(t)
	return c
}

// newCluster configures the nodes of a cluster without starting any.
func newCluster(t *testing.T, size int) *natsCluster {
	t.Helper()
	// Client ports too are chosen here, not by the kernel (-1) at start: a random client port
	// could land on a route port reserved for a node not started yet.
	ports := freePorts(t, 2*size)
	clientPorts, routePorts := ports[:size], ports[size:]
	routes := make([]*url.URL, size)
	for i, p := range routePorts {
		routes[i] = &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", p)}
	}
	c := &natsCluster{servers: make([]*server.Server, size)}
	for i := range size {
		c.opts = append(c.opts, &server.Options{
			ServerName: fmt.Sprintf("nats-%d", i+1),
			Host:       "127.0.0.1",
			Port:       clientPorts[i],
			JetStream:  true,
			StoreDir:   t.TempDir(),
			SyncAlways: true,
			Cluster:    server.ClusterOpts{Name: "installer", Host: "127.0.0.1", Port: routePorts[i]},
			Routes:     routes,
			NoLog:      true,
			NoSigs:     true,
		})
	}
	return c
}

// start starts node i and waits until it accepts connections.
func (c *natsCluster) start(t *testing.T, i int) {
	t.Helper()
	s, err := server.NewServer(c.opts[i])
	if err != nil {
		t.Fatalf("nats-%d: %v", i+1, err)
	}
	go s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	c.servers[i] = s
	if !s.ReadyForConnections(clusterReady) {
		t.Fatalf("%s not ready for connections", s.Name())
	}
}

// waitFormed waits, as nats-server's own cluster tests do, for a meta leader that sees every
// peer online and every node current with it; before that, an R3 stream finds "no suitable
// peers".
func (c *natsCluster) waitFormed(t *testing.T) {
	t.Helper()
	waitFor(t, clusterReady, "a JetStream meta leader seeing every node", func() bool {
		leader := false
		for _, s := range c.servers {
			if s.JetStreamIsLeader() && len(s.JetStreamClusterPeers()) == len(c.servers) {
				leader = true
			}
			if !s.JetStreamIsCurrent() {
				return false
			}
		}
		return leader
	})
}

// freePorts finds n distinct free loopback ports: every node must know the route ports of all
// before any starts.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// url lists every node's client URL, as NATS_URL does in the compose file, started or not.
func (c *natsCluster) url() string {
	var urls []string
	for _, o := range c.opts {
		urls = append(urls, fmt.Sprintf("nats://%s:%d", o.Host, o.Port))
	}
	return strings.Join(urls, ",")
}

// leader returns the running node for which leads holds, once there is one.
func (c *natsCluster) leader(t *testing.T, what string, leads func(*server.Server) bool) *server.Server {
	t.Helper()
	var leader *server.Server
	waitFor(t, clusterReady, "a "+what, func() bool {
		for _, s := range c.servers {
			if s.Running() && leads(s) {
				leader = s
				return true
			}
		}
		return false
	})
	return leader
}

// connect opens a client connection to the whole cluster that reconnects to a surviving node at
// once, as the installer's own connection does.
func connect(t *testing.T, urls, name string, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	opts = append([]nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50 * time.Millisecond),
	}, opts...)
	nc, err := nats.Connect(urls, opts...)
	if err != nil {
		t.Fatalf("connect %s: %v", name, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// waitFor polls cond until it holds, failing the test at the deadline.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, timeout)
		}
		<-tick.C
	}
}
