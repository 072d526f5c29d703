package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/calls"
	"github.com/procurement/atlassian-installer/internal/fakeclock"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// The ambiguity storm's conditions: a fifth of the order and provisioning answers lost after
// their effect, reads of orders and provisioning statuses lagging writes by two minutes, an
// order window of one minute, and a client that tries each call once, so that many orders
// stay ambiguous past the window.
const (
	stormLost   = 0.2
	stormLag    = 2 * time.Minute
	stormWindow = time.Minute
	// stormStall is how long the clock stands still while steps run without progress.
	stormStall = time.Second
)

// stormResult is scenario 5's.
type stormResult struct {
	installtest.StormTally
	Wall           time.Duration
	FakeTime       time.Duration // how far the shared fake clock moved
	Deliveries     int           // handler invocations: Journeys when JetStream redelivered nothing
	PeakRSS        int64         // VmHWM since the scenario began (or the sampled peak)
	PeakGoroutines int
	ForcedAdvances int // moves of the clock while steps ran, after stormStall without progress
}

// runStorm publishes n journeys at once against the faulty sandbox, on a fake clock shared by
// the sandbox, the client and the installer, and counts what the money rules forbid once
// every journey has ended. The clock moves a second whenever no journey step runs and no
// Atlassian call is in flight (driveStorm), so journeys wait their polls and back-offs in fake time
// while the work itself runs at full speed.
func runStorm(ctx context.Context, n int) (*stormResult, error) {
	clock := fakeclock.New(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC))
	lost, lag := atlassiantest.Fault{Ambiguous: stormLost}, atlassiantest.Fault{ReadLag: stormLag}
	e, err := newEnv(envOptions{sandbox: []atlassiantest.Option{
		atlassiantest.WithClock(clock),
		atlassiantest.WithSeed(5),
		atlassiantest.WithRequestLogLimit(0),
		atlassiantest.WithFault(atlassiantest.EndpointCreateOrder, lost),
		atlassiantest.WithFault(atlassiantest.EndpointProvisionProducts, lost),
		atlassiantest.WithFault(atlassiantest.EndpointGetOrder, lag),
		atlassiantest.WithFault(atlassiantest.EndpointProvisionStatus, lag),
	}})
	if err != nil {
		return nil, err
	}
	defer e.close()
	c, err := e.newClient(clock, client.WithRetry(1, time.Second))
	if err != nil {
		return nil, err
	}
	var steps, stepMoves atomic.Int64 // journey steps running; steps started or ended
	observe := func(ctx context.Context, _ handlers.StepInfo) (context.Context, func(error)) {
		steps.Add(1)
		stepMoves.Add(1)
		return ctx, func(error) { steps.Add(-1); stepMoves.Add(1) }
	}
	count := &deliveries{}
	hwm := resetPeakRSS()
	s := startSampler(100 * time.Millisecond)
	defer s.finish()
	// The order's calls are tried once too, as the client's are.
	r, err := e.startInstaller(handlers.ClientAPI(c), handlers.Config{Clock: clock, ServerClock: clock, OrderWindow: stormWindow,
		OrderRetry: calls.OrderRetry{Attempts: 1, MaxBackoff: time.Second},
		Observe:    observe, Middleware: []handlers.Middleware{count.middleware, realTimeHeartbeat(handlers.DefaultAckWait / 3)}})
	if err != nil {
		return nil, err
	}
	defer r.stop()
	t, err := newTracker(e.pnc, n)
	if err != nil {
		return nil, err
	}
	defer t.close()
	msgs, ids, err := requestMsgs("storm", n)
	if err != nil {
		return nil, err
	}
	start, begin := time.Now(), clock.Now()
	if err := publishAll(ctx, e.pjs, t, msgs, ids); err != nil {
		return nil, err
	}
	work := func() (running, moves int64) {
		return steps.Load() + e.inflight.Load(), stepMoves.Load() + e.requests.Load()
	}
	forced, err := driveStorm(ctx, clock, work, func() bool { return t.finished() >= n })
	if err != nil {
		return nil, fmt.Errorf("%d of %d journeys finished: %w", t.finished(), n, err)
	}
	res := &stormResult{Wall: time.Since(start), FakeTime: clock.Since(begin), ForcedAdvances: forced}
	s.finish()
	res.PeakRSS, res.PeakGoroutines = s.peakRSS, s.peakGoros
	if hwm {
		res.PeakRSS = max(res.PeakRSS, procStatus("VmHWM"))
	}
	count.mu.Lock()
	res.Deliveries = count.n
	count.mu.Unlock()
	evs, err := readEvents(ctx, e.pjs)
	if err != nil {
		return nil, err
	}
	res.StormTally = installtest.TallyStorm(evs, ids, e.sandbox.Orders())

	return res, nil
}

// realTimeHeartbeat marks each held message in progress every period of real time until
// it is settled. JetStream counts AckWait in real time, while the installer marks held
// messages in progress on its own clock: on the storm's fake clock, which stands still
// while steps run, a burst of work longer than AckWait would get every held message
// redelivered, and each redelivery runs the journey again beside the first.
func realTimeHeartbeat(period time.Duration) handlers.Middleware {
	return func(next handlers.Handler) handlers.Handler {
		return func(ctx context.Context, d *handlers.Delivery) error {
			stop := make(chan struct{})
			d.OnSettled(func() { close(stop) })
			go func() {
				t := time.NewTicker(period)
				defer t.Stop()
				for {
					select {
					case <-t.C:
						if !d.Settled() {
							_ = d.Msg.InProgress() // settled meanwhile: refused, harmless
						}
					case <-stop:
						return
					}
				}
			}()
			return next(ctx, d)
		}
	}
}

// driveStorm moves clock until done. When nothing runs (work reports no step and no
// Atlassian call, twice a millisecond apart) it moves a second. When work runs but
// nothing has moved for stormStall (no step started or ended, no Atlassian call made), a
// step may be waiting on the clock itself (a back-off after a failed write to NATS, which
// would otherwise wait for ever) and the clock moves a second; those moves are counted.
func driveStorm(ctx context.Context, clock *fakeclock.Clock, work func() (running, moves int64), done func() bool) (forced int, err error) {
	idle := func() bool { running, _ := work(); return running == 0 }
	_, last := work()
	lastMove := time.Now()
	for !done() {
		if err := ctx.Err(); err != nil {
			return forced, err
		}
		time.Sleep(time.Millisecond)
		if idle() {
			time.Sleep(time.Millisecond)
			if idle() {
				clock.Advance(time.Second)
				continue
			}
		}
		if _, moves := work(); moves != last {
			last, lastMove = moves, time.Now()
		} else if time.Since(lastMove) >= stormStall {
			clock.Advance(time.Second)
			forced++
			lastMove = time.Now()
		}
	}
	return forced, nil
}

// readEvents reads every event of INSTALL_EVENTS.
func readEvents(ctx context.Context, js jetstream.JetStream) ([]installtest.Message, error) {
	s, err := js.Stream(ctx, events.StreamEvents)
	if err != nil {
		return nil, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, err
	}
	oc, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, err
	}
	out := make([]installtest.Message, 0, info.State.Msgs)
	for uint64(len(out)) < info.State.Msgs {
		batch, err := oc.Fetch(1000, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, err
		}
		got := 0
		for m := range batch.Messages() {
			out = append(out, installtest.Decode(m.Headers(), m.Data()))
			got++
		}
		if err := batch.Error(); err != nil {
			return nil, err
		}
		if got == 0 {
			return nil, fmt.Errorf("read %d of %d events", len(out), info.State.Msgs)
		}
	}
	return out, nil
}

func printStorm(w io.Writer, r *stormResult) {
	fmt.Fprintf(w, "5. Ambiguity storm: %d journeys published at once, fake clock; %.0f%% of order and provisioning answers lost after their effect, reads of orders and provisioning statuses lagging %s, order window %s, one attempt per call\n",
		r.Journeys, 100*stormLost, stormLag, stormWindow)
	tw := table(w)
	for _, row := range []struct {
		what string
		n    int
	}{
		{"provisioned", r.Provisioned},
		{"failed", r.Failed},
		{"  of which retryable", r.FailedRetryable},
		{"orders accepted by the sandbox", r.Orders},
		{"ordered events", r.Ordered},
		{"orders without ordered", r.OrdersWithoutOrdered},
		{"requests ordered twice", r.OrderedTwice},
		{"retryable failures after an order", r.RetryableAfterOrder},
		{"requests without exactly one terminal event", r.TerminalNotOne},
	} {
		fmt.Fprintf(tw, "  %s\t%d\t\n", row.what, row.n)
	}
	_ = tw.Flush()
	verdict := "every money rule held"
	if v := r.Violations(); len(v) > 0 {
		verdict = fmt.Sprintf("RULES BROKEN: %v", v)
	}
	fmt.Fprintf(w, "  => %s (%s of fake time in %s; %d deliveries, %d forced clock moves, peak %s RSS, %d goroutines)\n", verdict,
		r.FakeTime.Round(time.Second), r.Wall.Round(100*time.Millisecond), r.Deliveries, r.ForcedAdvances, mib(r.PeakRSS), r.PeakGoroutines)
}
