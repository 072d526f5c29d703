package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// store reads and writes journey states; every write is a compare-and-set.
type store struct {
	kv jetstream.KeyValue
}

// get returns the journey state of a request and its revision, or nil when the request
// was never seen.
func (s *store) get(ctx context.Context, requestID string) (*State, uint64, error) {
	e, err := s.kv.Get(ctx, Key(requestID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read journey %s: %w", requestID, err)
	}
	var st State
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return nil, 0, fmt.Errorf("decode journey %s: %w", requestID, err)
	}
	if st.RequestID != requestID {
		return nil, 0, fmt.Errorf("journey key %s holds request %q, not %q", Key(requestID), st.RequestID, requestID)
	}
	return &st, e.Revision(), nil
}

// create records a new journey; errConflict when another delivery recorded it first.
func (s *store) create(ctx context.Context, st *State) (uint64, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return 0, fmt.Errorf("encode journey %s: %w", st.RequestID, err)
	}
	rev, err := s.kv.Create(ctx, Key(st.RequestID), b)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return 0, errConflict
	}
	if err != nil {
		return 0, fmt.Errorf("record journey %s: %w", st.RequestID, err)
	}
	return rev, nil
}

// update writes st over revision rev; errConflict when the journey moved on since.
func (s *store) update(ctx context.Context, st *State, rev uint64) (uint64, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return 0, fmt.Errorf("encode journey %s: %w", st.RequestID, err)
	}
	next, err := s.kv.Update(ctx, Key(st.RequestID), b, rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return 0, errConflict
	}
	if err != nil {
		return 0, fmt.Errorf("record journey %s: %w", st.RequestID, err)
	}
	return next, nil
}
