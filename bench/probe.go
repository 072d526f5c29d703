package main

import (
	"context"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/telemetry"
)

// probe times the gap between the provisioning answer reaching the journey and the order
// leaving it (the window in which a crash or a slow step risks order_window_expired) with the
// decorator behind installer_provision_order_gap_seconds, keeping every sample where the
// metric keeps a histogram, for exact percentiles.
type probe struct {
	mu   sync.Mutex
	gaps []time.Duration
}

func (p *probe) wrap(api handlers.API) handlers.API {
	return telemetry.GapAPI(api, clockwork.NewRealClock(), func(_ context.Context, gap time.Duration) {
		p.mu.Lock()
		p.gaps = append(p.gaps, gap)
		p.mu.Unlock()
	})
}

func (p *probe) samples() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Duration(nil), p.gaps...)
}
