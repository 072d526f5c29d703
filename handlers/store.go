package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/handlers/record"
)

// store reads and writes journey states; every write is a compare-and-set. A journey's
// state that holds its outcome expires ttl after it is written (never when ttl is zero);
// once the outcome is published, the journey's compact record goes to the finished bucket,
// kept for the duplicate horizon: it also records the publication, so that the journey's
// last state write is the one of its outcome.
type store struct {
	kv       jetstream.KeyValue
	finished jetstream.KeyValue
	js       jetstream.JetStream
	bucket   string
	ttl      time.Duration
	// seen, when set, is told the server's stamp of every journey record read: a time the
	// NATS server's clock has passed (servertime.Clock.Observe).
	seen func(time.Time)
}

// get returns the journey state of a request and its revision, or nil when the request
// was never seen (or finished beyond the duplicate horizon). A journey whose state expired
// comes back as its compact record, at revision 0: finished and published.
func (s *store) get(ctx context.Context, requestID string) (*record.State, uint64, error) {
	e, err := s.kv.Get(ctx, record.Key(requestID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		e, err = s.finished.Get(ctx, record.Key(requestID))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, 0, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("read finished journey %s: %w", requestID, err)
		}
		st, err := decodeState(requestID, e.Value())
		return st, 0, err
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read journey %s: %w", requestID, err)
	}
	if s.seen != nil {
		s.seen(e.Created())
	}
	st, err := decodeState(requestID, e.Value())
	if err != nil || !st.Terminal() || st.IsPublished(st.Outcome.Type) {
		return st, e.Revision(), err
	}
	// Its outcome's publication is recorded with its compact record.
	f, err := s.finished.Get(ctx, record.Key(requestID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return st, e.Revision(), nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read finished journey %s: %w", requestID, err)
	}
	compact, err := decodeState(requestID, f.Value())
	if err != nil {
		return nil, 0, err
	}
	st.Published = compact.Published
	return st, e.Revision(), nil
}

func decodeState(requestID string, b []byte) (*record.State, error) {
	var st record.State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("decode journey %s: %w", requestID, err)
	}
	if st.RequestID != requestID {
		return nil, fmt.Errorf("journey key %s holds request %q, not %q", record.Key(requestID), st.RequestID, requestID)
	}
	return &st, nil
}

// create records a new journey; errConflict when another delivery recorded it first.
func (s *store) create(ctx context.Context, st *record.State) (uint64, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return 0, fmt.Errorf("encode journey %s: %w", st.RequestID, err)
	}
	var opts []jetstream.KVCreateOpt
	if st.Terminal() && s.ttl > 0 {
		opts = append(opts, jetstream.KeyTTL(s.ttl))
	}
	rev, err := s.kv.Create(ctx, record.Key(st.RequestID), b, opts...)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return 0, errConflict
	}
	if err != nil {
		return 0, fmt.Errorf("record journey %s: %w", st.RequestID, err)
	}
	return rev, nil
}

// update writes st over revision rev; errConflict when the journey moved on since.
func (s *store) update(ctx context.Context, st *record.State, rev uint64) (uint64, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return 0, fmt.Errorf("encode journey %s: %w", st.RequestID, err)
	}
	var next uint64
	if st.Terminal() && s.ttl > 0 {
		next, err = s.updateExpiring(ctx, st, b, rev)
	} else {
		next, err = s.kv.Update(ctx, record.Key(st.RequestID), b, rev)
	}
	var apiErr *jetstream.APIError
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) ||
		errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return 0, errConflict
	}
	if err != nil {
		return 0, fmt.Errorf("record journey %s: %w", st.RequestID, err)
	}
	return next, nil
}

// updateExpiring writes st over revision rev, to expire ttl later. The KV API sets a TTL
// only on a key it creates; this is its compare-and-set with one.
func (s *store) updateExpiring(ctx context.Context, st *record.State, b []byte, rev uint64) (uint64, error) {
	m := &nats.Msg{Subject: "$KV." + s.bucket + "." + record.Key(st.RequestID), Data: b, Header: nats.Header{}}
	ack, err := s.js.PublishMsg(ctx, m, jetstream.WithExpectLastSequencePerSubject(rev), jetstream.WithMsgTTL(s.ttl))
	if err != nil {
		return 0, err
	}
	return ack.Sequence, nil
}

// finish records in the finished bucket the compact record of a journey that ended: that its
// outcome was published (st.Published), and its request id for the duplicate horizon, beyond
// its state's expiry.
func (s *store) finish(ctx context.Context, st *record.State) error {
	rec, err := json.Marshal(st.Compact())
	if err != nil {
		return fmt.Errorf("encode finished journey %s: %w", st.RequestID, err)
	}
	if _, err := s.finished.Put(ctx, record.Key(st.RequestID), rec); err != nil {
		return fmt.Errorf("record finished journey %s: %w", st.RequestID, err)
	}
	return nil
}
