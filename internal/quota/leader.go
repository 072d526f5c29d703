package quota

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
)

// Run opens the lease bucket (trying again every quarter of a lease while JetStream cannot
// answer) and takes part in the election until ctx ends: every quarter of a lease it creates the
// leader's key if absent, or, while it leads, renews it by compare-and-set. While leading it
// hands out turns (lead). A leader that stops gracefully deletes its key, so that another
// takes over at once.
func (q *Quota) Run(ctx context.Context) error {
	tick := time.NewTicker(q.cfg.Lease / 4)
	defer tick.Stop()
	var kv jetstream.KeyValue
	for {
		if kv == nil {
			var err error
			if kv, err = q.bucket(ctx); err != nil && ctx.Err() == nil {
				q.log.Warn("quota: the lease bucket is not available yet; trying again", "error", err)
			}
		}
		if kv == nil {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
				continue
			}
		}
		rev, err := kv.Create(ctx, leaderKey, []byte(q.id))
		if err == nil {
			q.log.Info("quota: this instance hands out the API's turns", "lease", q.cfg.Lease)
			q.lead(ctx, kv, rev)
			q.log.Info("quota: this instance no longer hands out the API's turns")
		} else if !errors.Is(err, jetstream.ErrKeyExists) && ctx.Err() == nil {
			q.log.Debug("quota: election", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// bucket opens the lease bucket, creating it when missing (in memory: a lease is worth
// nothing after a restart of the servers).
func (q *Quota) bucket(ctx context.Context) (jetstream.KeyValue, error) {
	cfg := q.cfg
	kv, err := q.js.KeyValue(ctx, cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = q.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: cfg.Bucket, Description: "the installer that hands out the Atlassian API's turns",
			History: 1, TTL: cfg.Lease, Storage: jetstream.MemoryStorage, Replicas: cfg.Replicas,
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = q.js.KeyValue(ctx, cfg.Bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("quota bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// lead hands out turns while the lease holds: it renews the key every quarter of a lease,
// and stops when a renewal is refused, when none has succeeded for half a lease, or when ctx
// ends.
func (q *Quota) lead(ctx context.Context, kv jetstream.KeyValue, rev uint64) {
	requests := make(chan *nats.Msg, 4096)
	sub, err := q.nc.ChanQueueSubscribe(q.take, "quota", requests)
	if err != nil {
		q.log.Warn("quota: cannot serve turns", "error", err)
		return
	}
	q.setLeader(true)
	defer func() {
		q.setLeader(false)
		_ = sub.Unsubscribe()
		// Gracefully: give the lease up so that another instance takes over at once.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = kv.Delete(dctx, leaderKey, jetstream.LastRevision(rev))
	}()
	renewed := time.Now()
	renew := time.NewTicker(q.cfg.Lease / 4)
	defer renew.Stop()
	s := newScheduler(q.cfg.Limits, time.Now())
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		if now.Sub(renewed) > q.cfg.Lease/2 {
			return // the lease may be lost: another instance may lead after it expires
		}
		q.mu.Lock()
		paused := maps.Clone(q.paused)
		q.mu.Unlock()
		next := s.grant(now, paused, q.reply)
		timer.Reset(min(max(time.Until(next), 0), q.cfg.Lease/4))
		select {
		case <-ctx.Done():
			return
		case m := <-requests:
			q.enqueue(s, m, time.Now())
		case <-renew.C:
			rctx, cancel := context.WithTimeout(ctx, q.cfg.Lease/4)
			r, err := kv.Update(rctx, leaderKey, []byte(q.id), rev)
			cancel()
			switch {
			case err == nil:
				rev, renewed = r, time.Now()
			case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyNotFound):
				return // another instance leads
			default:
				q.log.Warn("quota: renewing the lease failed", "error", err)
			}
		case <-timer.C:
		}
	}
}

func (q *Quota) setLeader(v bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.isLeader = v
}

// enqueue reads a request and queues it, or refuses it at once when its turn cannot come
// before its deadline.
func (q *Quota) enqueue(s *scheduler, m *nats.Msg, now time.Time) {
	var t takeMsg
	if err := json.Unmarshal(m.Data, &t); err != nil || m.Reply == "" || !q.limited(t.Family) {
		q.reply(m.Reply, takeReply{}) // an unlimited family has nothing to wait for
		return
	}
	w := &waiter{
		reply: m.Reply, priority: t.Priority, since: now.Add(-t.Age),
		// Answered no later than the caller waits, less a margin for the answer's way back.
		expires: now.Add(t.Wait - t.Wait/10),
	}
	if t.Deadline > 0 {
		w.deadline = now.Add(t.Deadline)
	}
	q.mu.Lock()
	paused := q.paused[lane{t.Org, t.Family}]
	q.mu.Unlock()
	if !s.add(lane{t.Org, t.Family}, w, now, paused) {
		q.reply(m.Reply, takeReply{Refused: true})
	}
}

func (q *Quota) reply(to string, r takeReply) {
	if to == "" {
		return
	}
	b, _ := json.Marshal(r)
	_ = q.nc.Publish(to, b)
}

// waiter is a request for a turn, waiting at the leader.
type waiter struct {
	reply    string
	priority client.Priority
	since    time.Time // when the call began to wait: older first
	expires  time.Time // the caller asks again after it
	deadline time.Time // zero: none
}

// bucket is the token bucket of a lane (GCRA): a turn is free once now ≥ tat - tolerance.
type bucket struct {
	interval, tolerance time.Duration
	tat                 time.Time
	waiters             []*waiter // creation first, then oldest first
}

// scheduler holds the buckets of the lanes, on the leader only.
type scheduler struct {
	limits  map[client.Family]int
	start   time.Time
	buckets map[lane]*bucket
}

func newScheduler(limits map[client.Family]int, now time.Time) *scheduler {
	return &scheduler{limits: limits, start: now, buckets: map[lane]*bucket{}}
}

// bucketOf returns the lane's bucket. A new leader's buckets start empty, as if it had handed
// out a whole burst at its start: the old leader may have done so just before it stopped.
func (s *scheduler) bucketOf(l lane, now time.Time) *bucket {
	b := s.buckets[l]
	if b == nil {
		perMinute := s.limits[l.family]
		interval := time.Minute / time.Duration(perMinute)
		burst := max(1, perMinute/60) // a second's worth: the API allows two
		b = &bucket{interval: interval, tolerance: time.Duration(burst-1) * interval}
		b.tat = latest(now, s.start.Add(b.tolerance))
		s.buckets[l] = b
	}
	return b
}

// free is when the bucket's next turn is free.
func (b *bucket) free(now, paused time.Time) time.Time {
	return latest(now, b.tat.Add(-b.tolerance), paused)
}

// add queues w, or reports false when its turn cannot come before its deadline given the
// waiters of its priority or higher ahead of it.
func (s *scheduler) add(l lane, w *waiter, now, paused time.Time) bool {
	b := s.bucketOf(l, now)
	ahead := 0
	for _, o := range b.waiters {
		if o.priority >= w.priority {
			ahead++
		}
	}
	at := b.free(now, paused).Add(time.Duration(ahead) * b.interval)
	if !w.deadline.IsZero() && at.After(w.deadline) {
		return false
	}
	i, _ := slices.BinarySearchFunc(b.waiters, w, func(a, b *waiter) int {
		if a.priority != b.priority {
			return int(b.priority - a.priority)
		}
		return a.since.Compare(b.since)
	})
	b.waiters = slices.Insert(b.waiters, i, w)
	return true
}

// grant answers the waiters whose turn has come, drops those whose callers have stopped
// waiting, and returns when the next turn is due.
func (s *scheduler) grant(now time.Time, paused map[lane]time.Time, reply func(string, takeReply)) time.Time {
	next := now.Add(time.Hour)
	for l, b := range s.buckets {
		b.waiters = slices.DeleteFunc(b.waiters, func(w *waiter) bool {
			if !w.deadline.IsZero() && now.After(w.deadline) {
				return true
			}
			return now.After(w.expires)
		})
		for len(b.waiters) > 0 && !b.free(now, paused[l]).After(now) {
			reply(b.waiters[0].reply, takeReply{})
			b.waiters = b.waiters[1:]
			b.tat = latest(b.tat, now).Add(b.interval)
		}
		if len(b.waiters) > 0 {
			next = earliest(next, b.free(now, paused[l]))
		}
		for _, w := range b.waiters {
			next = earliest(next, w.expires)
		}
		if len(b.waiters) == 0 && now.After(b.tat) {
			delete(s.buckets, l) // full again: nothing to remember
		}
	}
	return next
}

func latest(t time.Time, more ...time.Time) time.Time {
	for _, u := range more {
		if u.After(t) {
			t = u
		}
	}
	return t
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
