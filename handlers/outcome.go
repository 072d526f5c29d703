package handlers

import (
	"time"

	"github.com/procurement/atlassian-installer/events"
)

// outcomeFailed completes a failure with what is known of the journey: the orderId once
// the order may have been sent, the provisionRequestId once recorded. Once an order
// may exist the failure is never retryable: a new request could buy a second time.
func (in *Installer) outcomeFailed(st *State, f *failure) *Outcome {
	ev := f.ev
	ev.RequestID = st.RequestID
	ev.OrgID = st.Request.OrgID
	if !st.OrderSentAt.IsZero() || st.Order != nil {
		ev.OrderID = st.OrderID
		ev.Retryable = false
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
