package journeysim

import (
	"flag"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"
)

var (
	seeds     = flag.Int("sim.seeds", 3000, "how many seeds TestSimulation runs")
	firstSeed = flag.Uint64("sim.first", 1, "the first seed TestSimulation runs")
	oneSeed   = flag.Uint64("sim.seed", 0, "the one seed to replay, its trace printed (0: run -sim.seeds seeds)")
)

// regressions are seeds that once broke a rule, replayed at every run. A seed whose bug is
// not fixed yet is listed with the bug, and skipped.
var regressions = []struct {
	seed uint64
	bug  string // the bug it shows, not yet fixed: the case is skipped
}{
	// A delivery stalled past its lease rolled ordering back to provision_accepted after its
	// own order POST was refused unprocessed, while the delivery that resumed the journey had
	// re-sent the order without recording anything first: the accepted order was never
	// announced, and the journey failed order_window_expired, retryable.
	{seed: 580022},
	// The same race, the stalled delivery waking past the time to send the order.
	{seed: 461558},
	// An accepted order announced before its answer was written was announced again once the
	// journey, resumed after a crash between the two, saw the order again: past the events
	// stream's duplicate window (10 minutes of order reads failing), ordered was published
	// twice. The answer is now written first, and the publication recorded at once.
	{seed: 377890},
}

// TestSimulation runs the journey from thousands of seeds against the simulated Atlassian,
// store, outcome stream and clock, with crashes, stalls and a second delivery, and checks the
// journey's rules after each run. A failing seed prints its trace and the command that
// replays it.
func TestSimulation(t *testing.T) {
	if *oneSeed != 0 {
		r := Run(*oneSeed)
		t.Logf("seed %d: %d actions, crashes %q, outcome %s\n%s", r.Seed, r.Actions, r.Crashes, r.Outcome, r.Trace)
		for _, v := range r.Violations {
			t.Errorf("seed %d: %s", r.Seed, v)
		}
		return
	}
	n := *seeds
	if testing.Short() {
		n = min(n, 300)
	}
	start := time.Now()
	failed, outcomes, crashes, writes := 0, map[string]int{}, map[string]int{}, 0
	for seed := *firstSeed; seed < *firstSeed+uint64(n); seed++ {
		r := Run(seed)
		outcomes[r.Outcome]++
		writes += r.Writes
		for _, c := range r.Crashes {
			crashes[c]++
		}
		if len(r.Violations) == 0 {
			continue
		}
		failed++
		if failed <= 3 {
			t.Errorf("seed %d broke %d rule(s):\n%s\nreplay: go test ./handlers/journey/journeysim -run 'TestSimulation$' -sim.seed=%d -v\n%s",
				seed, len(r.Violations), violations(r), seed, r.Trace)
		}
	}
	elapsed := time.Since(start)
	t.Logf("%d seeds from %d in %s: %.0f runs/s; %d failed; outcomes %v; %.1f record writes a run", n, *firstSeed,
		elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), failed, outcomes, float64(writes)/float64(n))
	for _, c := range slices.Sorted(maps.Keys(crashes)) {
		t.Logf("crashed %6d× %s", crashes[c], c)
	}
	if failed > 3 {
		t.Errorf("%d seeds failed in all", failed)
	}
}

// TestRegressions replays the seeds that once broke a rule.
func TestRegressions(t *testing.T) {
	for _, c := range regressions {
		t.Run(fmt.Sprint(c.seed), func(t *testing.T) {
			if c.bug != "" {
				t.Skip(c.bug)
			}
			if r := Run(c.seed); len(r.Violations) > 0 {
				t.Errorf("seed %d:\n%s\n%s", c.seed, violations(r), r.Trace)
			}
		})
	}
}

// TestReplayIsExact runs seeds twice: the same seed must make the same run.
func TestReplayIsExact(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		a, b := Run(seed), Run(seed)
		if a.Trace.String() != b.Trace.String() {
			t.Fatalf("seed %d ran differently twice:\n%s\n---\n%s", seed, a.Trace, b.Trace)
		}
	}
}

func violations(r Result) string {
	s := ""
	for _, v := range r.Violations {
		s += "  " + v.String() + "\n"
	}
	return s
}

// BenchmarkRun measures a run of the simulation, one seed per iteration.
func BenchmarkRun(b *testing.B) {
	seed := uint64(0)
	for b.Loop() {
		seed++
		Run(seed)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
}
