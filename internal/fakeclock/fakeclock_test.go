package fakeclock

import (
	"fmt"
	"testing"
	"time"
)

var epoch = time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)

// received returns what ch holds, without waiting.
func received(ch <-chan time.Time) (time.Time, bool) {
	select {
	case v := <-ch:
		return v, true
	default:
		return time.Time{}, false
	}
}

func TestTimersFireInOrderAtTheirInstant(t *testing.T) {
	c := New(epoch)
	late, early, same := c.NewTimer(3*time.Second), c.NewTimer(time.Second), c.NewTimer(time.Second)
	c.Advance(500 * time.Millisecond)
	for _, tm := range []interface{ Chan() <-chan time.Time }{late, early, same} {
		if _, ok := received(tm.Chan()); ok {
			t.Fatal("a timer fired before its instant")
		}
	}
	c.Advance(2 * time.Second)
	for name, tm := range map[string]interface{ Chan() <-chan time.Time }{"early": early, "same": same} {
		if v, ok := received(tm.Chan()); !ok || !v.Equal(epoch.Add(time.Second)) {
			t.Errorf("%s: got %v, %v; want %v", name, v, ok, epoch.Add(time.Second))
		}
	}
	if _, ok := received(late.Chan()); ok {
		t.Fatal("the late timer fired early")
	}
	if got := c.Now(); !got.Equal(epoch.Add(2500 * time.Millisecond)) {
		t.Errorf("Now = %v, want %v", got, epoch.Add(2500*time.Millisecond))
	}
	if c.timers.Len() != 1 || !c.timers.Peek().At().Equal(epoch.Add(3*time.Second)) {
		t.Errorf("waiting: %d timers, want the late one", c.timers.Len())
	}
	c.Advance(time.Second)
	if _, ok := received(late.Chan()); !ok {
		t.Fatal("the late timer did not fire")
	}
	if c.timers.Len() != 0 {
		t.Errorf("fired timers still waiting: %d", c.timers.Len())
	}
}

func TestStopAndReset(t *testing.T) {
	c := New(epoch)
	tm := c.NewTimer(time.Second)
	if !tm.Stop() {
		t.Error("Stop of a waiting timer reported false")
	}
	if tm.Stop() {
		t.Error("second Stop reported true")
	}
	if c.timers.Len() != 0 {
		t.Fatalf("a stopped timer still waits: %d", c.timers.Len())
	}
	c.Advance(2 * time.Second)
	if _, ok := received(tm.Chan()); ok {
		t.Fatal("a stopped timer fired")
	}
	if tm.Reset(time.Second) {
		t.Error("Reset of a stopped timer reported true")
	}
	if !tm.Reset(3 * time.Second) {
		t.Error("Reset of a waiting timer reported false")
	}
	c.Advance(2 * time.Second)
	if _, ok := received(tm.Chan()); ok {
		t.Fatal("a reset timer fired at its old instant")
	}
	c.Advance(time.Second)
	if v, ok := received(tm.Chan()); !ok || !v.Equal(epoch.Add(5*time.Second)) {
		t.Errorf("reset timer: got %v, %v; want %v", v, ok, epoch.Add(5*time.Second))
	}
}

func TestNonPositiveDurationFiresAtOnce(t *testing.T) {
	c := New(epoch)
	if v, ok := received(c.After(0)); !ok || !v.Equal(epoch) {
		t.Errorf("After(0): got %v, %v", v, ok)
	}
	ran := make(chan struct{})
	c.AfterFunc(-time.Second, func() { close(ran) })
	<-ran
	if c.timers.Len() != 0 {
		t.Errorf("%d waiters after timers that fired at once", c.timers.Len())
	}
}

func TestTickerTicksEveryPeriodUntilStopped(t *testing.T) {
	c := New(epoch)
	k := c.NewTicker(10 * time.Second)
	for i := 1; i <= 3; i++ {
		c.Advance(10 * time.Second)
		if v, ok := received(k.Chan()); !ok || !v.Equal(epoch.Add(time.Duration(i)*10*time.Second)) {
			t.Fatalf("tick %d: got %v, %v", i, v, ok)
		}
	}
	c.Advance(35 * time.Second) // three ticks, one buffered: the others are dropped
	if v, ok := received(k.Chan()); !ok || !v.Equal(epoch.Add(40*time.Second)) {
		t.Fatalf("after a long advance: got %v, %v; want the first missed tick", v, ok)
	}
	if _, ok := received(k.Chan()); ok {
		t.Fatal("a ticker buffered more than one tick")
	}
	k.Reset(time.Second)
	c.Advance(time.Second)
	if _, ok := received(k.Chan()); !ok {
		t.Fatal("a reset ticker did not tick at its new period")
	}
	if c.timers.Len() != 1 {
		t.Errorf("a reset ticker waits %d times", c.timers.Len())
	}
	k.Stop()
	c.Advance(time.Minute)
	if _, ok := received(k.Chan()); ok || c.timers.Len() != 0 {
		t.Fatal("a stopped ticker ticked or still waits")
	}
}

func TestAfterFuncRunsOnceAndCanBeStopped(t *testing.T) {
	c := New(epoch)
	ran := make(chan time.Time, 2)
	c.AfterFunc(time.Second, func() { ran <- c.Now() })
	stopped := c.AfterFunc(time.Second, func() { ran <- time.Time{} })
	stopped.Stop()
	c.Advance(time.Hour)
	if v := <-ran; !v.Equal(epoch.Add(time.Hour)) {
		t.Errorf("AfterFunc ran at %v", v)
	}
	select {
	case <-ran:
		t.Fatal("a stopped AfterFunc ran")
	default:
	}
}

// BenchmarkManyWaiters adds, fires and stops timers among n waiting journeys' timers and
// heartbeat tickers, as the ambiguity storm does.
func BenchmarkManyWaiters(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			c := New(epoch)
			for i := range n {
				c.NewTicker(10 * time.Second)
				c.NewTimer(time.Duration(i) * time.Millisecond)
			}
			b.ResetTimer()
			for i := range b.N {
				c.NewTimer(time.Duration(i%5000) * time.Millisecond).Stop()
				c.NewTimer(time.Duration(i%3000) * time.Millisecond)
				c.Advance(time.Millisecond)
			}
		})
	}
}
