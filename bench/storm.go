package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
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
)

// stormResult is scenario 5's.
type stormResult struct {
	installtest.StormTally
	Wall     time.Duration
	FakeTime time.Duration // how far the shared fake clock moved
}

// runStorm publishes n journeys at once against the faulty sandbox, on a fake clock shared by
// the sandbox, the client and the installer, and counts what the money rules forbid once
// every journey has ended. The clock moves a second whenever no journey step runs and no
// Atlassian call is in flight, so journeys wait their polls and back-offs in fake time while
// the work itself runs at full speed.
func runStorm(ctx context.Context, n int) (*stormResult, error) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC))
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
	var steps atomic.Int64 // journey steps running
	observe := func(ctx context.Context, _ handlers.StepInfo) (context.Context, func(error)) {
		steps.Add(1)
		return ctx, func(error) { steps.Add(-1) }
	}
	r, err := e.startInstaller(handlers.ClientAPI(c), handlers.Config{Clock: clock, ServerClock: clock, OrderWindow: stormWindow, Observe: observe})
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
	idle := func() bool { return steps.Load() == 0 && e.inflight.Load() == 0 }
	for t.finished() < n {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%d of %d journeys finished: %w", t.finished(), n, err)
		}
		time.Sleep(time.Millisecond)
		if idle() {
			time.Sleep(time.Millisecond)
			if idle() {
				clock.Advance(time.Second)
			}
		}
	}
	res := &stormResult{Wall: time.Since(start), FakeTime: clock.Since(begin)}
	evs, err := readEvents(ctx, e.pjs)
	if err != nil {
		return nil, err
	}
	res.StormTally = installtest.TallyStorm(evs, ids, e.sandbox.Orders())

	return res, nil
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
	fmt.Fprintf(w, "  => %s (%s of fake time in %s)\n", verdict, r.FakeTime.Round(time.Second), r.Wall.Round(100*time.Millisecond))
}
