package installtest

import (
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// Timeout bounds every wait: a deadline for a hung system, not a speed expectation.
const Timeout = 60 * time.Second

// Step is how far Env's waits move the fake clock between two checks: short beside the
// poll intervals of Config, so no timer is skipped over.
const Step = 500 * time.Millisecond

// pollEvery is how often a condition is checked in real time.
const pollEvery = 2 * time.Millisecond

// Eventually checks cond until it holds and fails the test, naming what, if it does not
// within Timeout.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	poll(t, Timeout, nil, 0, what, cond)
}

// EventuallyWithin is Eventually with another deadline, for waits a slower system bounds
// (a built binary starting, JetStream redelivering).
func EventuallyWithin(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	poll(t, limit, nil, 0, what, cond)
}

// EventuallyAdvancing is Eventually that advances clock by step between checks, so that
// polls, back-offs and the sandbox's timing move on while the test waits. A nil clock or a
// zero step leaves time alone.
func EventuallyAdvancing(t testing.TB, clock *clockwork.FakeClock, step time.Duration, what string, cond func() bool) {
	t.Helper()
	poll(t, Timeout, clock, step, what, cond)
}

// EventuallyAdvancingWithin is EventuallyAdvancing with another deadline, for runs of many
// journeys.
func EventuallyAdvancingWithin(t testing.TB, limit time.Duration, clock *clockwork.FakeClock, step time.Duration, what string, cond func() bool) {
	t.Helper()
	poll(t, limit, clock, step, what, cond)
}

func poll(t testing.TB, limit time.Duration, clock *clockwork.FakeClock, step time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		<-tick.C
		if clock != nil && step > 0 {
			clock.Advance(step)
		}
	}
}

// Eventually checks cond until it holds, advancing the Env's clock by Step between checks.
func (e *Env) Eventually(what string, cond func() bool) {
	e.T.Helper()
	EventuallyAdvancing(e.T, e.Clock, Step, what, cond)
}

// EventuallyStep is Eventually with another step; 0 holds time still, for a test that must
// catch journeys before their next poll.
func (e *Env) EventuallyStep(what string, step time.Duration, cond func() bool) {
	e.T.Helper()
	EventuallyAdvancing(e.T, e.Clock, step, what, cond)
}
