package handlers

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
)

// outcomeFailed completes a failure with what is known of the journey: the orderId once
// the order may have been sent, the provisionRequestId once recorded.
func (in *Installer) outcomeFailed(st *State, f *failure) *Outcome {
	ev := f.ev
	ev.RequestID = st.RequestID
	ev.OrgID = st.Request.OrgID
	if !st.OrderSentAt.IsZero() {
		ev.OrderID = st.OrderID
	}
	ev.ProvisionRequestID = st.ProvisionRequestID
	return &Outcome{Type: in.subjects.Failed(), Failed: &ev}
}

func (in *Installer) outcomeProvisioned(st *State, now time.Time) *Outcome {
	r := st.Request
	p := &events.Provisioned{
		RequestID:          st.RequestID,
		OrgID:              r.OrgID,
		OrderID:            st.OrderID,
		Slug:               st.Order.Slug,
		ProvisionRequestID: st.ProvisionRequestID,
		Entitlements:       st.Entitlements,
		RequestedAt:        st.RequestedAt,
		CompletedAt:        now.UTC(),
	}
	if r.Site != nil {
		p.Site = events.NewSiteRef(r.Site.Name)
	}
	return &Outcome{Type: in.subjects.Provisioned(), Provisioned: p}
}

// checkStatusURL refuses, before anything is ordered, a statusUrl that does not point at
// the configured API; the client refuses to call one too, but by then the order exists.
func (in *Installer) checkStatusURL(statusURL string) error {
	if in.apiBase == nil {
		return nil
	}
	u, err := url.Parse(statusURL)
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("%w: statusUrl is not an absolute URL", client.ErrUntrustedStatusURL)
	}
	if !strings.EqualFold(u.Scheme, in.apiBase.Scheme) || !strings.EqualFold(u.Hostname(), in.apiBase.Hostname()) ||
		port(u) != port(in.apiBase) || u.User != nil {
		return fmt.Errorf("%w: %s://%s is not the API's %s://%s", client.ErrUntrustedStatusURL,
			u.Scheme, u.Host, in.apiBase.Scheme, in.apiBase.Host)
	}
	return nil
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "http") {
		return "80"
	}
	return "443"
}
