package main

import (
	"context"
	"fmt"
	"time"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/handlers"
)

// latencyResult is scenario 2 at one level of requests in flight.
type latencyResult struct {
	InFlight int
	N        int
	P50, P99 time.Duration // request published -> terminal event received
	GapP50   time.Duration // provisioning answer -> order call
	GapP99   time.Duration
	GapMax   time.Duration
}

// runLatency keeps inFlight requests outstanding (the next is published when one ends)
// until n journeys have ended.
func runLatency(ctx context.Context, n, inFlight, concurrency int, tel bool) (*latencyResult, error) {
	e, err := newEnv(envOptions{telemetry: tel, concurrency: concurrency, sandbox: []atlassiantest.Option{
		atlassiantest.WithProvisionDelay(0),
		atlassiantest.WithOrderProcessingDelay(0),
		atlassiantest.WithRequestLogLimit(0),
	}})
	if err != nil {
		return nil, err
	}
	defer e.close()
	c, err := e.newClient(nil)
	if err != nil {
		return nil, err
	}
	p := &probe{}
	r, err := e.startInstaller(p.wrap(handlers.ClientAPI(c)), handlers.Config{
		Concurrency:     concurrency,
		PollInterval:    10 * time.Millisecond,
		MaxPollInterval: 100 * time.Millisecond,
	})
	if err != nil {
		return nil, err
	}
	defer r.stop()
	t, err := newTracker(e.pnc, n)
	if err != nil {
		return nil, err
	}
	defer t.close()
	msgs, ids, err := requestMsgs(fmt.Sprintf("lat%d", inFlight), n)
	if err != nil {
		return nil, err
	}
	if err := closedLoop(ctx, e.pjs, t, msgs, ids, inFlight); err != nil {
		return nil, err
	}
	if err := t.failure(); err != nil {
		return nil, err
	}
	lat, gaps := t.latencies(), p.samples()
	return &latencyResult{
		InFlight: inFlight, N: n,
		P50: percentile(lat, 50), P99: percentile(lat, 99),
		GapP50: percentile(gaps, 50), GapP99: percentile(gaps, 99), GapMax: percentile(gaps, 100),
	}, nil
}
