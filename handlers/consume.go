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

// fetchRetryPause spaces the pull requests that follow a failed one, in real time: it
// paces requests to the server, as the NATS client's own timers do, not journeys.
const fetchRetryPause = 250 * time.Millisecond

// fetch pulls requests and hands each to deliver until pulling fails for good, and
// returns why. It pulls only as many messages as it has room for (see room): a backlog
// stays on the server, for every instance to take its share, instead of waiting in one
// instance's buffer. Each pull expires after pullExpiry with heartbeats, so that a pull
// request lost with a NATS node is noticed within seconds.
func (in *Installer) fetch(ctx context.Context, cons jetstream.Consumer, deliver func(jetstream.Msg), first bool) error {
	in.ready.Store(true)
	if first {
		in.log.Info("consuming install requests", "consumer", in.cfg.Consumer, "concurrency", in.cfg.Concurrency)
	} else {
		in.log.Info("consuming install requests again", "consumer", in.cfg.Consumer)
	}
	for {
		n := in.room(ctx)
		if n == 0 {
			return ctx.Err()
		}
		batch, err := cons.Fetch(n, jetstream.FetchMaxWait(pullExpiry), jetstream.FetchHeartbeat(pullExpiry*2/5))
		if err == nil {
			err = in.take(ctx, batch, deliver)
		}
		switch {
		case err == nil:
			continue
		case ctx.Err() != nil || in.js.Conn().IsClosed():
			return err
		}
		lost := errors.Is(err, jetstream.ErrNoHeartbeat) || errors.Is(err, jetstream.ErrConsumerDeleted) ||
			errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrBadRequest) ||
			errors.Is(err, nats.ErrNoResponders)
		if !lost {
			// A leadership change or a reconnect: pull again.
			in.log.Warn("fetching install requests", "error", err)
		}
		t := time.NewTimer(fetchRetryPause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
		if lost {
			return err
		}
	}
}

// take hands the messages of one pull to deliver as they arrive. When ctx ends first, the
// rest are handed back to the consumer at once.
func (in *Installer) take(ctx context.Context, batch jetstream.MessageBatch, deliver func(jetstream.Msg)) error {
	msgs := batch.Messages()
	for {
		select {
		case msg, ok := <-msgs:
			if !ok {
				err := batch.Error()
				if errors.Is(err, jetstream.ErrNoMessages) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, jetstream.ErrBatchCompleted) {
					return nil
				}
				return err
			}
			in.unstarted.Add(1)
			deliver(msg)
		case <-ctx.Done():
			go func() {
				for msg := range msgs {
					_ = msg.Nak()
				}
			}()
			return ctx.Err()
		}
	}
}

// room waits until this instance can work on more messages, and says on how many: its
// free concurrency slots, less the messages it holds whose journeys have not yet begun a
// step, and the steps waiting for a turn of the API's quota. Journeys waiting between polls
// hold their messages but no slot, and take no room.
// It returns 0 once ctx ends.
func (in *Installer) room(ctx context.Context) int {
	for {
		if n := in.cfg.Concurrency - len(in.slots) - int(in.unstarted.Load()) - int(in.quotaWaits.Load()); n > 0 {
			return n
		}
		select {
		case <-in.roomMade:
		case <-ctx.Done():
			return 0
		}
	}
}

// makeRoom wakes room: a slot was given back, or a message began its journey.
func (in *Installer) makeRoom() {
	select {
	case in.roomMade <- struct{}{}:
	default:
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
