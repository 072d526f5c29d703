package journey

import (
	"time"

	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/calls"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// outcomeFailed turns a failure into the failed event, with what is known of the journey:
// the orderId once the order may have been sent, the provisionRequestId once recorded.
// Once an order may exist the failure is never retryable: a new request could buy a
// second time. A request that did not validate has no journey yet: its event carries its
// field errors, as many as fit (events.FailedValidation). This is the only place a failure
// becomes a failed event.
func (j *Journey) outcomeFailed(st *record.State, f *Failure) *record.Outcome {
	if f.invalid != nil {
		ev := events.FailedValidation(st.RequestID, f.orgID, f.invalid)
		return &record.Outcome{Type: j.cfg.Subjects.Failed(), Failed: &ev}
	}
	ev := events.Failed{
		RequestID:          st.RequestID,
		OrgID:              st.Request.OrgID,
		Stage:              f.stage,
		Code:               f.code,
		Message:            f.message,
		Retryable:          f.retryable,
		HTTPStatus:         f.httpStatus,
		ProvisionRequestID: st.ProvisionRequestID,
	}
	if !st.OrderSentAt.IsZero() || st.Order != nil {
		ev.OrderID = st.OrderID
		ev.Retryable = false
	}
	return &record.Outcome{Type: j.cfg.Subjects.Failed(), Failed: &ev}
}

func (j *Journey) outcomeProvisioned(st *record.State, now time.Time) *record.Outcome {
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
	return &record.Outcome{Type: j.cfg.Subjects.Provisioned(), Provisioned: p}
}

// outcomePlanned is a dry run's outcome: its plan.
func (j *Journey) outcomePlanned(st *record.State) (*record.Outcome, error) {
	p, err := calls.Planned(st)
	if err != nil {
		return nil, err
	}
	return &record.Outcome{Type: j.cfg.Subjects.Planned(), Planned: p}, nil
}

// Ordered is the ordered event of a journey whose order Atlassian accepted (st.Order).
func Ordered(st *record.State) *events.Ordered {
	return &events.Ordered{
		RequestID:            st.RequestID,
		OrgID:                st.Request.OrgID,
		OrderID:              st.OrderID,
		Slug:                 st.Order.Slug,
		ProvisionRequestID:   st.ProvisionRequestID,
		TransactionAccountID: st.Plan.TransactionAccountID,
		InvoiceGroupID:       st.Plan.InvoiceGroupID,
		Items:                st.Order.Items,
	}
}
