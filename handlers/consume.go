package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/events"
)

// pullExpiry bounds each pull request. A pull request parked on a node that was lost is
// never answered: with heartbeats every pullExpiry/2, its absence is noticed within
// pullExpiry rather than after the 30s default.
const pullExpiry = 5 * time.Second

// consume fetches requests and hands each to deliver until ctx ends (nil) or the
// connection is closed. When the consumer stops delivering (missing heartbeats, the
// consumer deleted, the iterator closed under it) it is obtained again, created again if
// missing, and fetching goes on; Ready reports false in between.
func (in *Installer) consume(ctx context.Context, cons jetstream.Consumer, deliver func(jetstream.Msg)) error {
	for first := true; ; first = false {
		err := in.fetch(ctx, cons, deliver, first)
		in.ready.Store(false)
		if ctx.Err() != nil {
			return nil
		}
		if in.js.Conn().IsClosed() {
			return fmt.Errorf("consume %s: %w", in.cfg.Consumer, nats.ErrConnectionClosed)
		}
		in.log.Warn("not consuming: obtaining the consumer again", "consumer", in.cfg.Consumer, "error", err)
		if cons, err = in.reobtain(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// fetch runs one message iterator until it fails for good, and returns why.
func (in *Installer) fetch(ctx context.Context, cons jetstream.Consumer, deliver func(jetstream.Msg), first bool) error {
	it, err := cons.Messages(
		jetstream.PullMaxMessages(min(max(2*in.cfg.Concurrency, 16), 1000)),
		jetstream.PullExpiry(pullExpiry),
	)
	if err != nil {
		return fmt.Errorf("consume %s: %w", in.cfg.Consumer, err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	in.ready.Store(true)
	if first {
		in.log.Info("consuming install requests", "consumer", in.cfg.Consumer, "concurrency", in.cfg.Concurrency)
	} else {
		in.log.Info("consuming install requests again", "consumer", in.cfg.Consumer)
	}
	for {
		msg, err := it.Next()
		if err == nil {
			deliver(msg)
			continue
		}
		if ctx.Err() != nil || in.js.Conn().IsClosed() {
			return err
		}
		switch {
		case errors.Is(err, jetstream.ErrNoHeartbeat), errors.Is(err, jetstream.ErrMsgIteratorClosed),
			errors.Is(err, jetstream.ErrConsumerDeleted), errors.Is(err, jetstream.ErrConsumerNotFound),
			errors.Is(err, jetstream.ErrBadRequest):
			return err
		}
		// A leadership change or a reconnect: the iterator pulls again by itself.
		in.log.Warn("fetching install requests", "error", err)
	}
}

// reobtain looks the consumer up again until it answers, creating the requests stream
// and the consumer if they are missing, with the set-up's back-off. Only ctx ending or
// the connection closing ends it.
func (in *Installer) reobtain(ctx context.Context) (jetstream.Consumer, error) {
	b := newSetupBackOff()
	for attempt := 1; ; attempt++ {
		err := events.EnsureStreams(ctx, in.js, in.subjects, in.cfg.Replicas)
		if err == nil {
			var cons jetstream.Consumer
			if cons, err = in.ensureConsumer(ctx, in.requests); err == nil {
				return cons, nil
			}
		}
		if in.js.Conn().IsClosed() {
			return nil, fmt.Errorf("consumer %s: %w", in.cfg.Consumer, nats.ErrConnectionClosed)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		wait := min(b.NextBackOff(), setupRetryMax)
		in.log.Warn("consumer not available: trying again", "consumer", in.cfg.Consumer, "attempt", attempt, "after", wait, "error", err)
		if err := in.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}
