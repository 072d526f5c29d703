package telemetry

import (
	"context"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/journey"
)

// gapMaxAge bounds how long a provisioning answer waits for its order in the gap tracker: no
// order follows after the order window (10 minutes by default), so older answers are dropped.
const gapMaxAge = time.Hour

// API decorates the journeys' Atlassian API to time the gap between the provisioning answer
// and the order that follows it (installer_provision_order_gap_seconds): the contract wants the
// order sent at once, and this is how close "at once" is.
func (t *Telemetry) API(api handlers.API) handlers.API {
	return GapAPI(api, t.clock, func(ctx context.Context, gap time.Duration) {
		t.m.gap.Record(ctx, gap.Seconds())
	})
}

// GapAPI decorates api to hand record the gap between each provisioning answer and the first
// order sent for it, read on clock. The order is matched to its provisioning request by
// metadata.provisionRequestId; a journey resumed in another process is not timed.
func GapAPI(api handlers.API, clock clockwork.Clock, record func(context.Context, time.Duration)) handlers.API {
	gaps := newGapTracker(clock)
	if api.Installations != nil {
		api.Installations = gapInstallations{Installations: api.Installations, gaps: gaps}
	}
	if api.Commerce != nil {
		api.Commerce = gapCommerce{Commerce: api.Commerce, gaps: gaps, record: record}
	}
	return api
}

type gapInstallations struct {
	journey.Installations
	gaps *gapTracker
}

func (g gapInstallations) ProvisionProducts(ctx context.Context, orgID string, req *client.ProvisionRequest) (*client.ProvisionResponse, *client.Response, error) {
	out, resp, err := g.Installations.ProvisionProducts(ctx, orgID, req)
	g.gaps.answered(out, err)
	return out, resp, err
}

func (g gapInstallations) ProvisionApp(ctx context.Context, orgID, productARI string, req *client.ProvisionRequest) (*client.ProvisionResponse, *client.Response, error) {
	out, resp, err := g.Installations.ProvisionApp(ctx, orgID, productARI, req)
	g.gaps.answered(out, err)
	return out, resp, err
}

type gapCommerce struct {
	journey.Commerce
	gaps   *gapTracker
	record func(context.Context, time.Duration)
}

func (g gapCommerce) CreateOrder(ctx context.Context, req *client.OrderRequest) (*client.OrderResponse, *client.Response, error) {
	if req != nil {
		if gap, ok := g.gaps.ordering(req.Metadata.ProvisionRequestID); ok {
			g.record(ctx, gap)
		}
	}
	return g.Commerce.CreateOrder(ctx, req)
}

// gapTracker remembers when each provisioning request was answered, until its order is sent.
type gapTracker struct {
	clock clockwork.Clock
	mu    sync.Mutex
	at    map[string]time.Time
	sweep int // sweep old answers once the map reaches this size
}

func newGapTracker(c clockwork.Clock) *gapTracker {
	return &gapTracker{clock: c, at: map[string]time.Time{}, sweep: 1024}
}

func (g *gapTracker) answered(out *client.ProvisionResponse, err error) {
	if err != nil || out == nil {
		return
	}
	id, err := client.ProvisionRequestID(out.Data.StatusURL)
	if err != nil || id == "" {
		return
	}
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.at[id] = now
	if len(g.at) >= g.sweep {
		for k, t := range g.at {
			if now.Sub(t) > gapMaxAge {
				delete(g.at, k)
			}
		}
		g.sweep = max(1024, 2*len(g.at))
	}
}

// ordering returns the time since the provisioning request id was answered, once: a re-sent
// order is not timed again.
func (g *gapTracker) ordering(id string) (time.Duration, bool) {
	if id == "" {
		return 0, false
	}
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.at[id]
	if ok {
		delete(g.at, id)
	}
	return now.Sub(t), ok
}
