// Package quota shares the Atlassian API's rate limits among every installer on the same NATS.
//
// Atlassian counts its quotas per organization, so the installers of one NATS system share
// each organization's. One of them is the leader: it holds a key of a KV bucket whose entries
// live for one lease (the bucket's MaxAge), created only if absent and renewed by
// compare-and-set, and it alone runs a token bucket per organization and family. The others
// ask it for turns over request/reply (<prefix>.quota.take): it answers each request when its
// turn comes, order creation before every other call of its family, oldest first. Only the
// leader's clock matters. A leader that dies stops renewing its key; the key expires after the
// lease and another instance takes over with an empty bucket, so a hand-over never overshoots;
// requests left without an answer are asked again of the new leader, keeping their place (they
// say how long they have waited). A 429 with Retry-After pauses the family for the organization
// on every instance (<prefix>.quota.pause).
package quota

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
)

// Defaults of the Config fields left zero.
const (
	DefaultBucket     = "INSTALL_QUOTA"
	DefaultLease      = 3 * time.Second
	DefaultAskTimeout = 5 * time.Second
)

// leaderKey is the key of the bucket the leader holds.
const leaderKey = "leader"

// ErrInvalidOption is wrapped by the error of New when a Config field is wrong.
var ErrInvalidOption = errors.New("quota: invalid option")

// Config configures a Quota. Zero fields take the defaults.
type Config struct {
	// Prefix is the first token of the quota's subjects (INSTALLER_SUBJECT_PREFIX).
	Prefix string
	// Bucket is the KV bucket of the leader's lease, created when missing in memory storage,
	// with Replicas replicas.
	Bucket   string
	Replicas int
	// Limits are the per-minute quotas of the families; a family absent or at 0 is not
	// limited, and its calls never ask the leader.
	Limits map[client.Family]int
	// Lease is how long a leader's key lives unless renewed (renewed every quarter of it). The
	// leader hands out turns only within half a lease of its last renewal, so that it has
	// stopped, and its turns are spent, well before the key expires and another takes over.
	Lease time.Duration
	// AskTimeout bounds one request for a turn: a request left unanswered (the leader died,
	// or the turn is further away) is asked again then, keeping its place.
	AskTimeout time.Duration
	// Observe, when set, is told of turns and pauses (metrics).
	Observe Observer
	Logger  *slog.Logger
}

// Observer hears what the quota does; each func must return quickly.
type Observer struct {
	// Turn: a call of family f got its turn after waiting waited.
	Turn func(f client.Family, p client.Priority, waited time.Duration)
	// Pause: the API paused family f for an organization for d.
	Pause func(f client.Family, d time.Duration)
}

// Quota is a client.Limiter whose turns every installer on the same NATS shares. Build it
// with New; Run elects the leader and serves until its context ends.
type Quota struct {
	cfg      Config
	js       jetstream.JetStream
	nc       *nats.Conn
	id       string
	take     string // subject of turn requests
	pause    string // subject of pauses
	log      *slog.Logger
	mu       sync.Mutex
	paused   map[lane]time.Time
	pauseSub *nats.Subscription
	leading  chan struct{} // closed while this instance leads
	isLeader bool
}

// lane is the quota of one family of one organization.
type lane struct {
	org    string
	family client.Family
}

// New checks the configuration and listens to pauses; Run opens the lease bucket.
func New(ctx context.Context, js jetstream.JetStream, cfg Config) (*Quota, error) {
	cfg.Bucket = cmp.Or(cfg.Bucket, DefaultBucket)
	cfg.Replicas = cmp.Or(cfg.Replicas, 1)
	cfg.Lease = cmp.Or(cfg.Lease, DefaultLease)
	cfg.AskTimeout = cmp.Or(cfg.AskTimeout, DefaultAskTimeout)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case cfg.Prefix == "":
		return nil, fmt.Errorf("%w: Prefix is empty", ErrInvalidOption)
	case cfg.Lease < 400*time.Millisecond:
		return nil, fmt.Errorf("%w: Lease must be at least 400ms", ErrInvalidOption)
	case cfg.AskTimeout < 100*time.Millisecond:
		return nil, fmt.Errorf("%w: AskTimeout must be at least 100ms", ErrInvalidOption)
	}
	for f, n := range cfg.Limits {
		if !f.Valid() || n < 0 {
			return nil, fmt.Errorf("%w: Limits: %s=%d", ErrInvalidOption, f, n)
		}
	}
	q := &Quota{
		cfg: cfg, js: js, nc: js.Conn(), id: uuid.NewString(), log: cfg.Logger,
		take: cfg.Prefix + ".quota.take", pause: cfg.Prefix + ".quota.pause",
		paused: map[lane]time.Time{},
	}
	var err error
	q.pauseSub, err = q.nc.Subscribe(q.pause, q.onPause)
	if err == nil {
		// Listening before New returns.
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = q.nc.FlushWithContext(fctx)
		cancel()
	}
	if err != nil {
		return nil, fmt.Errorf("quota: subscribe %s: %w", q.pause, err)
	}
	return q, nil
}

// Leader reports whether this instance hands out the turns now: cluster-wide figures (the
// consumer's lag) are reported by the leader alone, so that a sum over instances counts them
// once.
func (q *Quota) Leader() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.isLeader
}

// limited reports whether calls of family f take turns.
func (q *Quota) limited(f client.Family) bool { return q.cfg.Limits[f] > 0 }

// pausedFor is how long the lane stays paused.
func (q *Quota) pausedFor(l lane) time.Duration {
	q.mu.Lock()
	defer q.mu.Unlock()
	return time.Until(q.paused[l])
}

// pauseMsg tells every instance of a 429.
type pauseMsg struct {
	Org    string        `json:"org"`
	Family client.Family `json:"family"`
	For    time.Duration `json:"for"`
}

// Pause stops every instance's calls of family f for organization org for d.
func (q *Quota) Pause(org string, f client.Family, d time.Duration) {
	if !q.limited(f) || d <= 0 {
		return
	}
	b, _ := json.Marshal(pauseMsg{Org: org, Family: f, For: d})
	q.setPause(lane{org, f}, d)
	if err := q.nc.Publish(q.pause, b); err != nil {
		q.log.Warn("quota: the pause could not be told to the other instances", "family", f, "error", err)
	}
	if q.cfg.Observe.Pause != nil {
		q.cfg.Observe.Pause(f, d)
	}
}

func (q *Quota) onPause(m *nats.Msg) {
	var p pauseMsg
	if err := json.Unmarshal(m.Data, &p); err != nil || p.For <= 0 {
		return
	}
	q.setPause(lane{p.Org, p.Family}, p.For)
}

func (q *Quota) setPause(l lane, d time.Duration) {
	until := time.Now().Add(d)
	q.mu.Lock()
	defer q.mu.Unlock()
	if until.After(q.paused[l]) {
		q.paused[l] = until
	}
}

// Close stops listening; Run's context ends the leadership.
func (q *Quota) Close() error {
	return q.pauseSub.Unsubscribe()
}
