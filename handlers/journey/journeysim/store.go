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

	// Writes counts the writes applied.
	Writes int
}

type storeEntry struct {
	value []byte
	rev   uint64
}

// NewStore returns an empty store.
func NewStore(clock *Clock, rnd *rand.Rand, conflicts float64, trace *Trace) *Store {
	return &Store{rnd: rnd, conflicts: conflicts, trace: trace, clock: clock, entries: map[string]*storeEntry{}}
}

// Get returns the record of a request and its revision; nil when there is none.
func (s *Store) Get(requestID string) (*record.State, uint64, error) {
	e := s.entries[record.Key(requestID)]
	if e == nil {
		return nil, 0, nil
	}
	var st record.State
	if err := json.Unmarshal(e.value, &st); err != nil {
		return nil, 0, fmt.Errorf("decode journey %s: %w", requestID, err)
	}
	return &st, e.rev, nil
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
