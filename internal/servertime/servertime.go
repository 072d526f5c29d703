// Package servertime tells the time on a NATS server's clock, so that processes whose own
// clocks differ agree on deadlines they record in JetStream.
//
// A JetStream server stamps each stream info answer with its own time (the field ts, NATS
// server 2.10 or later). A sample sends such a request and reads the answer's stamp: the
// server's time at the midpoint of the round trip on the local clock, within half the
// round trip. Now is the stamp of the best recent sample plus the time elapsed since on
// the local clock, which is monotonic for a real clock: a step of the local wall clock
// (a correction by NTP, an operator) changes nothing, and between samples only the drift
// of the local oscillator against the server's adds up (parts per million).
//
//	c := servertime.New(js, clockwork.NewRealClock(), "KV_INSTALL_JOURNEYS")
//	if err := c.Sync(ctx); err != nil { … } // before the first Now that matters
//	go c.Run(ctx)                           // a new sample every Refresh
//	deadline := c.Now().Add(time.Minute)    // on the server's clock
package servertime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	// Refresh is how often Run samples the server's clock.
	Refresh = 30 * time.Second
	// StaleAfter is how long without a sample makes Run warn that the estimate is stale. A
	// stale estimate still holds within the local clock's drift (a few milliseconds an hour
	// for a common oscillator), unless the server's own clock was set meanwhile.
	StaleAfter = 5 * time.Minute
	// Jump is how far a new sample may disagree with the estimate before Run warns: one of
	// the clocks was set, or the stream's leader, whose clock answers, moved to another
	// server.
	Jump = time.Second
	// samplesPerSync: Sync keeps the sample with the shortest round trip of these, the one
	// whose stamp is known most precisely.
	samplesPerSync = 3
)

// Clock is the server's clock as estimated by one process. It is safe for concurrent use.
type Clock struct {
	local  clockwork.Clock
	sample func(context.Context) (time.Time, error)
	log    *slog.Logger

	mu     sync.Mutex
	base   time.Time // the server's time at the local time at
	at     time.Time // a local reading, monotonic on a real clock
	synced time.Time // local time of the last successful Sync; zero before the first
	since  time.Time // local time of the last successful Sync, or of New before any
	stale  bool      // Run has warned of this estimate being stale
}

// Option configures a Clock.
type Option func(*Clock)

// WithLogger sends the estimate's changes and failures to log (by default, nowhere).
func WithLogger(log *slog.Logger) Option {
	return func(c *Clock) { c.log = log }
}

// New returns the clock of the server that answers info requests of stream: in a cluster,
// the stream's leader, whose clock also stamps the messages stored in the stream. local
// measures the time elapsed since a sample. Until the first Sync, Now is local's time.
func New(js jetstream.JetStream, local clockwork.Clock, stream string, opts ...Option) *Clock {
	c := &Clock{local: local, log: slog.New(slog.DiscardHandler), since: local.Now()}
	c.sample = func(ctx context.Context) (time.Time, error) {
		s, err := js.Stream(ctx, stream)
		if err != nil {
			return time.Time{}, fmt.Errorf("stream info of %s: %w", stream, err)
		}
		return s.CachedInfo().TimeStamp, nil
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// errNoStamp: servers before 2.10 do not stamp their answers.
var errNoStamp = errors.New("the NATS server does not stamp its answers with its time (version 2.10 or later needed)")

// Now is the server's time now, within the half round trip of the last sample and the
// local clock's drift since.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.synced.IsZero() {
		return c.local.Now().UTC()
	}
	return c.base.Add(c.local.Since(c.at)).UTC()
}

// Observe takes note of a time the server's clock has passed, such as the stamp of a
// message it stored: an estimate behind it moves up to it at once (a move of more than Jump
// is logged), rather than at the next sample. Before the first Sync it does nothing.
func (c *Clock) Observe(server time.Time) {
	c.mu.Lock()
	now := c.local.Now()
	behind := server.Sub(c.base.Add(now.Sub(c.at)))
	if c.synced.IsZero() || behind <= 0 {
		c.mu.Unlock()
		return
	}
	c.base, c.at = server, now
	c.mu.Unlock()
	if behind > Jump {
		c.log.Warn("the estimate of the NATS server's clock was behind a time the server stamped: it moves up to it",
			"moved", behind.Round(time.Millisecond))
	}
}

// Sync samples the server's clock a few times and keeps the sample with the shortest round
// trip. It fails only when no sample could be taken; the estimate is then unchanged.
func (c *Clock) Sync(ctx context.Context) error {
	var best struct {
		server, mid time.Time
		rtt         time.Duration
	}
	var err error
	for range samplesPerSync {
		sent := c.local.Now()
		server, serr := c.sample(ctx)
		if serr == nil && server.IsZero() {
			serr = errNoStamp
		}
		if serr != nil {
			err = serr
			if ctx.Err() != nil {
				break
			}
			continue
		}
		rtt := c.local.Since(sent)
		if best.server.IsZero() || rtt < best.rtt {
			best.server, best.mid, best.rtt = server, sent.Add(rtt/2), rtt
		}
	}
	if best.server.IsZero() {
		return fmt.Errorf("sample the NATS server's clock: %w", err)
	}
	c.mu.Lock()
	first := c.synced.IsZero()
	var moved time.Duration
	if !first {
		moved = best.server.Sub(c.base.Add(best.mid.Sub(c.at)))
	}
	c.base, c.at, c.stale = best.server, best.mid, false
	c.synced = c.local.Now()
	c.since = c.synced
	c.mu.Unlock()

	offset := best.server.Sub(best.mid).Round(time.Millisecond)
	switch {
	case first:
		c.log.Info("NATS server clock sampled", "server_minus_local", offset, "uncertainty", best.rtt/2)
	case moved.Abs() > Jump:
		c.log.Warn("the NATS server's clock moved against the local clock: the estimate follows it",
			"moved", moved.Round(time.Millisecond), "server_minus_local", offset, "uncertainty", best.rtt/2)
	}
	return nil
}

// Run samples the server's clock every Refresh until ctx ends. A failed sample keeps the
// estimate; once none succeeded for StaleAfter, it warns, once until the next success.
func (c *Clock) Run(ctx context.Context) {
	t := c.local.NewTicker(Refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
		}
		err := c.Sync(ctx)
		if err == nil || ctx.Err() != nil {
			continue
		}
		c.mu.Lock()
		age := c.local.Since(c.since)
		warn := age >= StaleAfter && !c.stale
		c.stale = c.stale || warn
		c.mu.Unlock()
		if warn {
			c.log.Warn("the estimate of the NATS server's clock is stale", "age", age.Round(time.Second), "error", err)
		} else {
			c.log.Debug("sampling the NATS server's clock failed", "error", err)
		}
	}
}
