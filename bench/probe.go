package main

import (
	"context"
	"sync"
	"time"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/handlers"
)

// probe decorates the installer's Atlassian API, as cmd/installer's metrics decorators do,
// to time the gap between the provisioning answer reaching the journey and the order
// leaving it: the window in which a crash or a slow step risks order_window_expired. The
// sandbox's request log has no timestamps, so the gap is taken here.
type probe struct {
	mu       sync.Mutex
	answered map[string]time.Time // provisionRequestId -> provisioning answer received
	gaps     []time.Duration
}

func newProbe() *probe { return &probe{answered: map[string]time.Time{}} }

func (p *probe) wrap(api handlers.API) handlers.API {
	api.Installations = probeInstallations{Installations: api.Installations, p: p}
	api.Commerce = probeCommerce{Commerce: api.Commerce, p: p}
	return api
}

func (p *probe) provisioned(resp *client.ProvisionResponse, err error) {
	if err != nil || resp == nil {
		return
	}
	id, err := client.ProvisionRequestID(resp.Data.StatusURL)
	if err != nil {
		return
	}
	now := time.Now()
	p.mu.Lock()
	p.answered[id] = now
	p.mu.Unlock()
}

func (p *probe) ordering(req *client.OrderRequest) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if at, ok := p.answered[req.Metadata.ProvisionRequestID]; ok {
		p.gaps = append(p.gaps, now.Sub(at))
		delete(p.answered, req.Metadata.ProvisionRequestID)
	}
}

func (p *probe) samples() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Duration(nil), p.gaps...)
}

type probeInstallations struct {
	handlers.Installations
	p *probe
}

func (pi probeInstallations) ProvisionProducts(ctx context.Context, orgID string, req *client.ProvisionRequest) (*client.ProvisionResponse, *client.Response, error) {
	resp, r, err := pi.Installations.ProvisionProducts(ctx, orgID, req)
	pi.p.provisioned(resp, err)
	return resp, r, err
}

func (pi probeInstallations) ProvisionApp(ctx context.Context, orgID, productARI string, req *client.ProvisionRequest) (*client.ProvisionResponse, *client.Response, error) {
	resp, r, err := pi.Installations.ProvisionApp(ctx, orgID, productARI, req)
	pi.p.provisioned(resp, err)
	return resp, r, err
}

type probeCommerce struct {
	handlers.Commerce
	p *probe
}

func (pc probeCommerce) CreateOrder(ctx context.Context, req *client.OrderRequest) (*client.OrderResponse, *client.Response, error) {
	pc.p.ordering(req)
	return pc.Commerce.CreateOrder(ctx, req)
}
