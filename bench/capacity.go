package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
)

// capacityResult is scenario 3.
type capacityResult struct {
	Journeys       int
	AckWait, Hold  time.Duration
	Fill           time.Duration // first publish -> every journey ordered and waiting
	BaseRSS        int64
	PeakRSS        int64 // VmHWM since the scenario began (or the sampled peak)
	BaseGoroutines int
	PeakGoroutines int
	// WaitingGoroutines and LiveHeap are taken at the end of the hold, every journey waiting;
	// LiveHeap is the Go heap in use after a collection (the installer, NATS and the sandbox).
	WaitingGoroutines int
	LiveHeap          uint64
	AckPending        int
	Redelivered       int    // consumer info NumRedelivered
	Deliveries        int    // handler invocations counted by a middleware
	MaxDelivered      uint64 // highest NumDelivered any handler saw
	Finished          int    // terminal events meanwhile (expected 0)
	CallsDuringHold   int64  // Atlassian calls while all journeys waited (polling)
	Stop              time.Duration
}

// deliveries counts handler invocations and the highest delivery count seen, as a
// middleware around the installer's handler.
type deliveries struct {
	mu    sync.Mutex
	n     int
	maxND uint64
}

func (c *deliveries) middleware(next handlers.Handler) handlers.Handler {
	return func(ctx context.Context, d *handlers.Delivery) error {
		c.mu.Lock()
		c.n++
		c.maxND = max(c.maxND, d.Metadata().NumDelivered)
		c.mu.Unlock()
		return next(ctx, d)
	}
}

// runCapacity holds n journeys in flight at once, waiting on a provisioning that takes
// half an hour, for hold (longer than AckWait, so that only the in-progress heartbeats keep
// JetStream from redelivering), then stops the installer.
func runCapacity(ctx context.Context, n int, ackWait, hold time.Duration, tel bool) (*capacityResult, error) {
	e, err := newEnv(envOptions{telemetry: tel, sandbox: capacitySandbox()})
	if err != nil {
		return nil, err
	}
	defer e.close()
	c, err := e.newClient(nil)
	if err != nil {
		return nil, err
	}
	msgs, ids, err := requestMsgs("cap", n)
	if err != nil {
		return nil, err
	}
	count := &deliveries{}
	hwm := resetPeakRSS()
	res := &capacityResult{Journeys: n, AckWait: ackWait, Hold: hold,
		BaseRSS: procStatus("VmRSS"), BaseGoroutines: runtime.NumGoroutine()}
	s := startSampler(100 * time.Millisecond)
	r, err := e.startInstaller(handlers.ClientAPI(c), handlers.Config{
		AckWait:    ackWait,
		Middleware: []handlers.Middleware{count.middleware},
	})
	if err != nil {
		s.finish()
		return nil, err
	}
	t, err := newTracker(e.pnc, n)
	if err != nil {
		s.finish()
		return nil, err
	}
	defer t.close()

	start := time.Now()
	if err := publishAll(ctx, e.pjs, t, msgs, ids); err != nil {
		s.finish()
		return nil, err
	}
	ordered, calls, err := e.holdOrdered(ctx, t, n, hold)
	if err != nil {
		s.finish()
		return nil, err
	}
	res.Fill, res.CallsDuringHold = ordered.Sub(start), calls
	res.WaitingGoroutines = runtime.NumGoroutine()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.LiveHeap = ms.HeapAlloc

	if res.AckPending, res.Redelivered, err = e.consumerCounts(ctx); err != nil {
		s.finish()
		return nil, err
	}
	count.mu.Lock()
	res.Deliveries, res.MaxDelivered = count.n, count.maxND
	count.mu.Unlock()
	res.Finished = t.finished()
	s.finish()
	res.PeakGoroutines = s.peakGoros
	res.PeakRSS = s.peakRSS
	if hwm {
		res.PeakRSS = max(res.PeakRSS, procStatus("VmHWM"))
	}

	stopped := time.Now()
	if err := r.stop(); err != nil {
		return nil, err
	}
	res.Stop = time.Since(stopped)
	return res, nil
}

// capacitySandbox is the sandbox of the capacity scenarios: every provisioning takes half an
// hour, so that every journey, once ordered, waits.
func capacitySandbox() []atlassiantest.Option {
	return []atlassiantest.Option{
		atlassiantest.WithProvisionDelay(30 * time.Minute),
		atlassiantest.WithOrderWindow(time.Hour),
		atlassiantest.WithOrderProcessingDelay(0),
		atlassiantest.WithRequestLogLimit(0),
	}
}

// holdOrdered waits until all n journeys are ordered, then for hold; it returns when they
// were all ordered and the Atlassian calls made during the hold (polling).
func (e *env) holdOrdered(ctx context.Context, t *tracker, n int, hold time.Duration) (ordered time.Time, calls int64, err error) {
	for t.ordered.Load() < int64(n) {
		select {
		case <-ctx.Done():
			return ordered, 0, fmt.Errorf("%d of %d journeys ordered: %w", t.ordered.Load(), n, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	ordered = time.Now()
	before := e.requests.Load()
	select {
	case <-time.After(hold):
	case <-ctx.Done():
		return ordered, 0, ctx.Err()
	}
	return ordered, e.requests.Load() - before, nil
}

// consumerCounts is the request consumer's messages pending acknowledgement and its
// redeliveries so far.
func (e *env) consumerCounts(ctx context.Context) (ackPending, redelivered int, err error) {
	cons, err := e.js.Consumer(ctx, events.StreamRequests, handlers.DefaultConsumer)
	if err != nil {
		return 0, 0, err
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return 0, 0, err
	}
	return info.NumAckPending, info.NumRedelivered, nil
}
