package servertime

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/internal/natstest"
)

// server answers samples on a fake local clock: each answer takes its round trip on the
// local clock and carries the server's time at its midpoint, offset from the local clock,
// plus an error in the stamp (at most half the round trip).
type server struct {
	local *clockwork.FakeClock
	mu    sync.Mutex
	// offset is the server's clock less the local clock.
	offset time.Duration
	// answers are the round trips and stamp errors of the next samples; once used up, a
	// sample takes no time and is exact. fail makes samples fail.
	answers []answer
	fail    bool
	calls   chan struct{}
}

type answer struct{ rtt, err time.Duration }

func newServer(offset time.Duration) *server {
	return &server{local: clockwork.NewFakeClock(), offset: offset, calls: make(chan struct{}, 100)}
}

func (s *server) sample(context.Context) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { s.calls <- struct{}{} }()
	if s.fail {
		return time.Time{}, errors.New("no responders")
	}
	var a answer
	if len(s.answers) > 0 {
		a, s.answers = s.answers[0], s.answers[1:]
	}
	s.local.Advance(a.rtt / 2)
	stamp := s.local.Now().Add(s.offset + a.err)
	s.local.Advance(a.rtt - a.rtt/2)
	return stamp, nil
}

// logs is a log destination the clock's goroutine writes while the test reads it.
type logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (s *server) clock(l *logs) *Clock {
	c := &Clock{local: s.local, sample: s.sample, log: slog.New(slog.DiscardHandler), since: s.local.Now()}
	if l != nil {
		c.log = slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return c
}

func (s *server) set(f func(*server)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// TestServerAheadOrBehind: once synced, Now is the server's time however far the local
// clock is from it, and moves with the local clock.
func TestServerAheadOrBehind(t *testing.T) {
	for _, offset := range []time.Duration{5 * time.Minute, -5 * time.Minute, 0, 3 * time.Hour} {
		t.Run(offset.String(), func(t *testing.T) {
			s := newServer(offset)
			s.answers = []answer{{rtt: 40 * time.Millisecond}}
			c := s.clock(nil)
			if got := c.Now(); !got.Equal(s.local.Now()) {
				t.Errorf("before any sample Now is %s, want the local %s", got, s.local.Now())
			}
			if err := c.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if got, want := c.Now(), s.local.Now().Add(offset); !got.Equal(want) {
					t.Errorf("Now %s, want %s (local %s)", got, want, s.local.Now())
				}
				s.local.Advance(time.Hour)
			}
		})
	}
}

// TestShortestRoundTrip: of the samples of one Sync, the one with the shortest round trip
// sets the estimate: its stamp is off by at most half of it.
func TestShortestRoundTrip(t *testing.T) {
	s := newServer(time.Minute)
	s.answers = []answer{
		{rtt: 800 * time.Millisecond, err: 400 * time.Millisecond},
		{rtt: 20 * time.Millisecond, err: -10 * time.Millisecond},
		{rtt: 300 * time.Millisecond, err: 150 * time.Millisecond},
	}
	c := s.clock(nil)
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := c.Now().Sub(s.local.Now()), time.Minute-10*time.Millisecond; got != want {
		t.Errorf("server minus local %s, want %s", got, want)
	}
}

// TestObserve: a time the server stamped that is ahead of the estimate moves it up at
// once; one behind it changes nothing; before the first sample nothing does.
func TestObserve(t *testing.T) {
	s := newServer(time.Minute)
	var l logs
	c := s.clock(&l)
	c.Observe(s.local.Now().Add(time.Hour))
	if got := c.Now(); !got.Equal(s.local.Now()) {
		t.Errorf("before any sample Now is %s, want the local %s", got, s.local.Now())
	}
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Observe(s.local.Now().Add(time.Minute - 5*time.Second))
	if got := c.Now().Sub(s.local.Now()); got != time.Minute {
		t.Errorf("server minus local %s after a stamp behind the estimate, want 1m", got)
	}
	c.Observe(s.local.Now().Add(time.Minute + 10*time.Second))
	s.local.Advance(time.Hour)
	if got := c.Now().Sub(s.local.Now()); got != time.Minute+10*time.Second {
		t.Errorf("server minus local %s after a stamp 10s ahead of the estimate, want 1m10s", got)
	}
	if !strings.Contains(l.String(), "moved=10s") {
		t.Errorf("the move was not logged:\n%s", l.String())
	}
}

// TestFailedSample: a Sync that takes no sample fails and keeps the estimate; an answer
// without the server's stamp is no sample.
func TestFailedSample(t *testing.T) {
	s := newServer(time.Minute)
	c := s.clock(nil)
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.fail = true
	if err := c.Sync(context.Background()); err == nil {
		t.Error("Sync without answers succeeded")
	}
	if got := c.Now().Sub(s.local.Now()); got != time.Minute {
		t.Errorf("server minus local %s after a failed Sync, want the estimate kept", got)
	}

	c = (&server{local: s.local}).clock(nil)
	c.sample = func(context.Context) (time.Time, error) { return time.Time{}, nil }
	if err := c.Sync(context.Background()); !errors.Is(err, errNoStamp) {
		t.Errorf("Sync of a server without stamps: %v", err)
	}
}

// TestRun: Run samples every Refresh, follows a server clock that moved (and says so), and
// warns once when no sample succeeded for StaleAfter.
func TestRun(t *testing.T) {
	s := newServer(time.Minute)
	var l logs
	c := s.clock(&l)
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-s.calls
	<-s.calls
	<-s.calls
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	tick := func() {
		t.Helper()
		if err := s.local.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
		s.local.Advance(Refresh)
		for range samplesPerSync {
			<-s.calls
		}
	}

	s.set(func(s *server) { s.offset = time.Minute + 10*time.Second })
	tick()
	eventually(t, "the move logged", func() bool { return strings.Contains(l.String(), "moved=10s") })
	if got := c.Now().Sub(s.local.Now()); got != time.Minute+10*time.Second {
		t.Errorf("server minus local %s after the server's clock moved 10s, want 1m10s", got)
	}

	s.set(func(s *server) { s.fail = true })
	for range int(StaleAfter/Refresh) - 1 {
		tick()
	}
	if strings.Contains(l.String(), "stale") {
		t.Fatalf("stale before %s:\n%s", StaleAfter, l.String())
	}
	tick()
	eventually(t, "the stale estimate logged", func() bool { return strings.Contains(l.String(), "stale") })
	tick()
	tick()
	if n := strings.Count(l.String(), "stale"); n != 1 {
		t.Errorf("stale warned %d times, want once:\n%s", n, l.String())
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestEmbeddedServer samples a real server, whose clock is the machine's, from a local
// clock decades away: Now is the machine's time within the sample's round trip, then moves
// with the local clock.
func TestEmbeddedServer(t *testing.T) {
	_, _, js := natstest.RunServer(t)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "CLOCK", Subjects: []string{"clock"}}); err != nil {
		t.Fatal(err)
	}
	local := clockwork.NewFakeClock()
	c := New(js, local, "CLOCK")
	before := time.Now()
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	got := c.Now()
	if got.Before(before) || got.After(after) {
		t.Errorf("Now %s, want between %s and %s", got, before, after)
	}
	local.Advance(time.Hour)
	if d := c.Now().Sub(got); d != time.Hour {
		t.Errorf("Now moved %s while the local clock moved 1h", d)
	}
	if err := New(js, local, "MISSING").Sync(ctx); err == nil {
		t.Error("Sync on a missing stream succeeded")
	}
}
