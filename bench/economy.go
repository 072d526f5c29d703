package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/time/rate"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// pollingResult is scenario 4's polling back-off at one provisioning duration.
type pollingResult struct {
	Provisioning time.Duration
	Calls        int           // Atlassian calls of the journey
	StatusPolls  int           // provisioning status reads
	OrderReads   int           // order reads
	Noticed      time.Duration // request -> provisioned, on the shared clock
}

// runPolling runs one journey whose provisioning takes d, on a fake clock shared by the
// sandbox, the client and the installer, with the installer's default poll intervals. The
// clock moves a second at a time whenever the journey waits, so minutes pass in
// milliseconds and every call lands at the time it would in production.
func runPolling(ctx context.Context, d time.Duration) (*pollingResult, error) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC))
	e, err := newEnv(envOptions{sandbox: []atlassiantest.Option{
		atlassiantest.WithClock(clock),
		atlassiantest.WithProvisionDelay(d),
	}})
	if err != nil {
		return nil, err
	}
	defer e.close()
	c, err := e.newClient(clock)
	if err != nil {
		return nil, err
	}
	r, err := e.startInstaller(handlers.ClientAPI(c), handlers.Config{Clock: clock, ServerClock: clock})
	if err != nil {
		return nil, err
	}
	defer r.stop()
	t, err := newTracker(e.pnc, 1)
	if err != nil {
		return nil, err
	}
	defer t.close()
	m, id, err := requestMsg(fmt.Sprintf("poll%d", int(d.Seconds())), 0, clock.Now())
	if err != nil {
		return nil, err
	}
	t.sent(id)
	idle, err := waitersAtRest(ctx, clock)
	if err != nil {
		return nil, err
	}
	if _, err := e.pjs.PublishMsg(ctx, m); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := driveClock(ctx, e, clock, idle, func() bool { return t.finished() >= 1 }); err != nil {
		return nil, fmt.Errorf("journey of %s: %w", d, err)
	}
	if err := t.failure(); err != nil {
		return nil, err
	}
	res := &pollingResult{Provisioning: d}
	for _, rec := range e.sandbox.Requests() {
		res.Calls++
		switch rec.Endpoint {
		case atlassiantest.EndpointProvisionStatus:
			res.StatusPolls++
		case atlassiantest.EndpointGetOrder:
			res.OrderReads++
		}
	}
	st, err := journeyState(ctx, e, id)
	if err != nil {
		return nil, err
	}
	res.Noticed = st.CompletedAt.Sub(st.RequestedAt)
	return res, nil
}

// waiters reports how many timers and tickers are set on the fake clock (up to 64).
func waiters(clock *clockwork.FakeClock) int {
	done, cancel := context.WithCancel(context.Background())
	cancel() // BlockUntilContext answers at once when enough waiters are set, else ctx.Err()
	n := 0
	for n < 64 && clock.BlockUntilContext(done, n+1) == nil {
		n++
	}
	return n
}

// waitersAtRest is how many timers the idle installer keeps on the clock, once it has kept
// the same number for a little while.
func waitersAtRest(ctx context.Context, clock *clockwork.FakeClock) (int, error) {
	last, same := -1, 0
	for same < 20 {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n := waiters(clock)
		if n == last {
			same++
		} else {
			last, same = n, 0
		}
		time.Sleep(time.Millisecond)
	}
	return last, nil
}

// driveClock moves the fake clock a second at a time while the journey waits between polls:
// its delivery then holds two timers more than the idle installer (the poll wait and the
// in-progress heartbeat) and no Atlassian call is in flight. Minutes pass in milliseconds,
// and every call lands at the time it would in production. Should the installer ever wait on
// something else, the clock still moves after a quiet half second, so nothing hangs.
func driveClock(ctx context.Context, e *env, clock *clockwork.FakeClock, idle int, done func() bool) error {
	waiting := idle + 2
	settled := func() bool { return e.inflight.Load() == 0 && waiters(clock) >= waiting }
	for quiet := 0; !done(); quiet++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if settled() {
			time.Sleep(time.Millisecond)
			if settled() {
				clock.Advance(time.Second)
				quiet = 0
				continue
			}
		}
		if quiet >= 500 {
			clock.Advance(time.Second)
			quiet = 0
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// rateResult is scenario 4's rate-limit check.
type rateResult struct {
	PerMinute   int
	Journeys    int
	Wall        time.Duration
	Calls       map[client.Family]int
	MaxPerSec   map[client.Family]int // most calls that arrived within any one second
	Rejected    int64                 // 429s answered by the quota in front of the sandbox
	SandboxErrs int                   // 429s and other errors in the sandbox's log
}

// quota stands in front of the sandbox and answers 429 to any request above the API's
// limit: a token bucket per family at the same rate and burst as the client's, plus one
// request of allowance for network jitter between the two.
type quota struct {
	limits   map[client.Family]*rate.Limiter
	rejected atomic.Int64
	mu       sync.Mutex
	arrivals map[client.Family][]time.Time
}

func newQuota(perMinute int, families ...client.Family) *quota {
	q := &quota{limits: map[client.Family]*rate.Limiter{}, arrivals: map[client.Family][]time.Time{}}
	for _, f := range families {
		q.limits[f] = rate.NewLimiter(rate.Every(time.Minute/time.Duration(perMinute)), max(1, perMinute/60)+1)
	}
	return q
}

func familyOf(path string) client.Family {
	switch {
	case strings.HasPrefix(path, "/commerce/api/v1/orders"), strings.HasPrefix(path, "/commerce/api/v2/orders"):
		return client.FamilyOrders
	case strings.HasPrefix(path, "/commerce/api/v2/entitlements/"):
		return client.FamilyEntitlementDetails
	}
	return ""
}

func (q *quota) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := familyOf(r.URL.Path)
		if lim := q.limits[f]; lim != nil {
			now := time.Now()
			q.mu.Lock()
			q.arrivals[f] = append(q.arrivals[f], now)
			q.mu.Unlock()
			if !lim.AllowN(now, 1) {
				q.rejected.Add(1)
				w.Header().Set("Retry-After", "1")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = w.Write([]byte(`{"code":"RATE_LIMITED","message":"rate limit exceeded"}`))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// maxPerSecond is the most arrivals within any one-second window.
func maxPerSecond(ts []time.Time) int {
	best, lo := 0, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) >= time.Second {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// runRateLimit publishes n requests at once to an installer whose client limits orders and
// entitlement details to perMinute, against a sandbox that refuses anything above the same
// rate; the client-side limit must keep every call under it.
func runRateLimit(ctx context.Context, n, perMinute int) (*rateResult, error) {
	q := newQuota(perMinute, client.FamilyOrders, client.FamilyEntitlementDetails)
	e, err := newEnv(envOptions{
		sandbox: []atlassiantest.Option{
			atlassiantest.WithProvisionDelay(0),
			atlassiantest.WithOrderProcessingDelay(0),
		},
		wrap: q.wrap,
	})
	if err != nil {
		return nil, err
	}
	defer e.close()
	c, err := e.newClient(nil,
		client.WithRateLimit(client.FamilyOrders, perMinute),
		client.WithRateLimit(client.FamilyEntitlementDetails, perMinute))
	if err != nil {
		return nil, err
	}
	r, err := e.startInstaller(handlers.ClientAPI(c), handlers.Config{
		PollInterval:    10 * time.Millisecond,
		MaxPollInterval: 100 * time.Millisecond,
	})
	if err != nil {
		return nil, err
	}
	defer r.stop()
	t, err := newTracker(e.pnc, n)
	if err != nil {
		return nil, err
	}
	defer t.close()
	msgs, ids, err := requestMsgs("rate", n)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := publishAll(ctx, e.pjs, t, msgs, ids); err != nil {
		return nil, err
	}
	if err := t.waitFinished(ctx, n); err != nil {
		return nil, err
	}
	res := &rateResult{PerMinute: perMinute, Journeys: n, Wall: time.Since(start),
		Calls: map[client.Family]int{}, MaxPerSec: map[client.Family]int{}, Rejected: q.rejected.Load()}
	if err := t.failure(); err != nil {
		return nil, err
	}
	q.mu.Lock()
	for f, ts := range q.arrivals {
		res.Calls[f], res.MaxPerSec[f] = len(ts), maxPerSecond(ts)
	}
	q.mu.Unlock()
	for _, rec := range e.sandbox.Requests() {
		if rec.Status >= 400 || rec.Status == 0 {
			res.SandboxErrs++
		}
	}
	return res, nil
}

// journeyState reads a journey's state from the installer's bucket.
func journeyState(ctx context.Context, e *env, id string) (*record.State, error) {
	kv, err := e.js.KeyValue(ctx, record.DefaultBucket)
	if err != nil {
		return nil, err
	}
	entry, err := kv.Get(ctx, record.Key(id))
	if err != nil {
		return nil, fmt.Errorf("journey %s: %w", id, err)
	}
	var st record.State
	if err := json.Unmarshal(entry.Value(), &st); err != nil {
		return nil, err
	}
	return &st, nil
}
