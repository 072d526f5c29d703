package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// follower reads outcome events from INSTALL_EVENTS and, when it follows one request, that
// request's journey state from the INSTALL_JOURNEYS bucket.
type follower struct {
	subj      events.Subjects
	requestID string // empty: every request
	cons      jetstream.Consumer
	kvw       jetstream.KeyWatcher // nil when not following one request or the bucket is missing
}

// newFollower positions an ordered consumer on the outcome subjects. Its start is fixed on the
// server when this returns, so a request published afterwards cannot be missed.
func newFollower(ctx context.Context, c *conn, subj events.Subjects, requestID string, cfg jetstream.OrderedConsumerConfig) (*follower, error) {
	s, err := c.stream(ctx, events.StreamEvents)
	if err != nil {
		return nil, err
	}
	cfg.FilterSubjects = subj.Outcomes()
	cons, err := s.OrderedConsumer(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("follow %s: %w", events.StreamEvents, err)
	}
	f := &follower{subj: subj, requestID: requestID, cons: cons}
	if requestID == "" {
		return f, nil
	}
	kv, err := c.js.KeyValue(ctx, journeyBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return f, nil // no journey state yet: progress comes from the events alone
	}
	if err != nil {
		return nil, fmt.Errorf("journeys bucket %s: %w", journeyBucket, err)
	}
	f.kvw, err = kv.Watch(ctx, record.Key(requestID))
	if err != nil {
		return nil, fmt.Errorf("watch journey %s: %w", requestID, err)
	}
	return f, nil
}

// stop releases the journey watcher.
func (f *follower) stop() {
	if f.kvw != nil {
		_ = f.kvw.Stop()
	}
}

// run renders what happens until the followed request reaches its terminal event, which it
// returns, or until ctx ends. Following every request only ends with ctx.
func (f *follower) run(ctx context.Context, r renderer) (*outcome, error) {
	msgs, err := f.cons.Messages()
	if err != nil {
		return nil, fmt.Errorf("follow %s: %w", events.StreamEvents, err)
	}
	defer msgs.Stop()

	var ticks <-chan time.Time
	rr, refreshing := r.(refresher)
	if refreshing {
		tk := rr.ticker()
		defer tk.Stop()
		ticks = tk.Chan()
	}

	evCh := make(chan jetstream.Msg)
	errCh := make(chan error, 1)
	go func() {
		for {
			m, err := msgs.Next()
			if err != nil {
				errCh <- err
				return
			}
			select {
			case evCh <- m:
			case <-ctx.Done():
				return
			}
		}
	}()

	var kvCh <-chan jetstream.KeyValueEntry
	if f.kvw != nil {
		kvCh = f.kvw.Updates()
	}
	initial := true // the watcher is still delivering the state as it was when we began
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-ticks:
			rr.refresh()
		case err := <-errCh:
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("follow %s: %w", events.StreamEvents, err)
		case m := <-evCh:
			o, err := decodeOutcome(f.subj, m)
			if err != nil {
				r.warn(fmt.Errorf("skipped a message on %s: %w", m.Subject(), err))
				continue
			}
			if f.requestID != "" && o.RequestID != f.requestID {
				continue
			}
			r.outcome(o)
			if f.requestID != "" && o.terminal() {
				return o, nil
			}
		case e, ok := <-kvCh:
			if !ok {
				kvCh = nil
				continue
			}
			if e == nil {
				initial = false
				continue
			}
			if e.Operation() != jetstream.KeyValuePut {
				continue
			}
			j, err := decodeJourney(e)
			if err != nil {
				r.warn(err)
				continue
			}
			r.progress(j)
			if initial && j.outcome != nil {
				// The journey had ended before we began: its event may be older than where
				// the consumer starts, but its state holds the same outcome.
				o, err := recordedOutcome(f.subj, j)
				if err != nil {
					return nil, err
				}
				r.outcome(o)
				return o, nil
			}
		}
	}
}
