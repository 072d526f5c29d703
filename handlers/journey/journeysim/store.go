package journeysim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/procurement/atlassian-installer/handlers/record"
)

// ErrConflict is the compare-and-set refusal of Store: the record is not at the revision
// the writer read (or, at create, exists).
var ErrConflict = errors.New("journeysim: revision conflict")

// Store is a simulated journey KV bucket: records by key, kept encoded as JetStream keeps
// them, each with the revision of its last write; every write is a compare-and-set. With
// the chance Conflicts, another writer rewrites a record just before an update (the
// record unchanged, its revision moved on), so that the update meets a conflict; not once
// the journey has its outcome, whose only other writers record its publication.
type Store struct {
	rnd       *rand.Rand
	conflicts float64
	trace     *Trace
	clock     *Clock
	seq       uint64
	entries   map[string]*storeEntry
	// finished holds the compact records of the journeys whose outcome was published.
	finished map[string][]byte

	// Writes counts the record writes applied (not the compact records).
	Writes int
}

type storeEntry struct {
	value []byte
	rev   uint64
}

// NewStore returns an empty store.
func NewStore(clock *Clock, rnd *rand.Rand, conflicts float64, trace *Trace) *Store {
	return &Store{rnd: rnd, conflicts: conflicts, trace: trace, clock: clock,
		entries: map[string]*storeEntry{}, finished: map[string][]byte{}}
}

// Get returns the record of a request and its revision; nil when there is none. As the
// installer's store does, the publication of an outcome recorded with the compact record
// is merged into the record.
func (s *Store) Get(requestID string) (*record.State, uint64, error) {
	e := s.entries[record.Key(requestID)]
	if e == nil {
		return nil, 0, nil
	}
	var st record.State
	if err := json.Unmarshal(e.value, &st); err != nil {
		return nil, 0, fmt.Errorf("decode journey %s: %w", requestID, err)
	}
	if f := s.finished[record.Key(requestID)]; f != nil && st.Terminal() && !st.IsPublished(st.Outcome.Type) {
		var compact record.State
		if err := json.Unmarshal(f, &compact); err != nil {
			return nil, 0, fmt.Errorf("decode finished journey %s: %w", requestID, err)
		}
		st.Published = compact.Published
	}
	return &st, e.rev, nil
}

// Finish records the compact record of a journey whose outcome was published.
func (s *Store) Finish(st *record.State) {
	b, err := json.Marshal(st.Compact())
	if err != nil {
		panic(err)
	}
	s.finished[record.Key(st.RequestID)] = b
	s.trace.Add(s.clock.Now(), "store: %s finished, published %v", record.Key(st.RequestID), st.Published)
}

// Create records a new journey; ErrConflict when one exists.
func (s *Store) Create(st *record.State) (uint64, error) {
	key := record.Key(st.RequestID)
	if s.entries[key] != nil {
		return 0, ErrConflict
	}
	return s.put(key, st)
}

// Update writes st over revision rev; ErrConflict when the record moved on since.
func (s *Store) Update(st *record.State, rev uint64) (uint64, error) {
	key := record.Key(st.RequestID)
	e := s.entries[key]
	if e != nil && e.rev == rev && !st.Terminal() && s.rnd.Float64() < s.conflicts {
		s.seq++
		e.rev = s.seq
		s.trace.Add(s.clock.Now(), "store: another writer rewrote %s (revision %d)", key, e.rev)
	}
	if e == nil || e.rev != rev {
		return 0, ErrConflict
	}
	return s.put(key, st)
}

func (s *Store) put(key string, st *record.State) (uint64, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return 0, fmt.Errorf("encode journey %s: %w", st.RequestID, err)
	}
	s.seq++
	s.entries[key] = &storeEntry{value: b, rev: s.seq}
	s.Writes++
	s.trace.Add(s.clock.Now(), "store: %s written at revision %d: step %s", key, s.seq, st.Step)
	return s.seq, nil
}
