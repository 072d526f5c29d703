package installtest

import (
	"time"

	"github.com/jonboulle/clockwork"
)

// Skewed is c read by a machine whose clock is off by skew: its times are skew later (or
// earlier, skew negative); durations, timers and tickers are c's. Instances on Skewed
// clocks are installers on machines whose clocks disagree.
func Skewed(c clockwork.Clock, skew time.Duration) clockwork.Clock {
	return skewed{Clock: c, skew: skew}
}

type skewed struct {
	clockwork.Clock
	skew time.Duration
}

func (s skewed) Now() time.Time                  { return s.Clock.Now().Add(s.skew) }
func (s skewed) Since(t time.Time) time.Duration { return s.Clock.Since(t.Add(-s.skew)) }
func (s skewed) Until(t time.Time) time.Duration { return s.Clock.Until(t.Add(-s.skew)) }
