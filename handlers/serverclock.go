package handlers

import (
	"context"
	"fmt"
	"sync"
)

// sampleServerClock takes the first sample of the NATS server's clock before anything is
// consumed, trying again as setup does while JetStream cannot answer, then samples it
// in the background until stop is called, and moves it up to the stamp of any journey
// record read that is ahead of it. With Config.ServerClock set, it does nothing.
func (in *Installer) sampleServerClock(ctx context.Context) (stop func(), err error) {
	if in.sampled == nil {
		return func() {}, nil
	}
	b := newSetupBackOff()
	for attempt := 1; ; attempt++ {
		err := in.sampled.Sync(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil || !in.transientJetStream(err) {
			return nil, fmt.Errorf("read the NATS server's clock: %w", err)
		}
		wait := min(b.NextBackOff(), setupRetryMax)
		in.log.Warn("the NATS server's clock cannot be read yet: trying again", "attempt", attempt, "after", wait, "error", err)
		if err := in.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("read the NATS server's clock: %w", err)
		}
	}
	// A journey record read was stamped by the same server: its clock has passed that.
	in.store.seen = in.sampled.Observe
	// Sampling outlives ctx: journeys run on through the drain.
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { in.sampled.Run(sctx) })
	return func() { cancel(); wg.Wait() }, nil
}
