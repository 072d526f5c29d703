package atlassiantest

import (
	"net/http"
	"slices"

	"github.com/procurement/atlassian-installer/client"
)

func (s *Server) handleEntitlementDetails(w http.ResponseWriter, r *http.Request, c *call) {
	id := r.PathValue("entitlementId")
	st := s.st
	st.mu.Lock()
	e, ok := st.entitlement(id, c.org, c.now)
	if !ok {
		st.mu.Unlock()
		writeError(w, http.StatusNotFound, "NOT_FOUND", "entitlement not found: "+id)
		return
	}
	out := entitlementDetails(e)
	st.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func entitlementDetails(e *Entitlement) client.EntitlementDetails {
	status := e.Status
	if status == "" {
		status = "ACTIVE"
	}
	rel := slices.Clone(e.RelatesFromEntitlements)
	if rel == nil {
		rel = []client.EntitlementRelation{}
	}
	return client.EntitlementDetails{
		EntitlementID: e.ID, OfferingID: e.OfferingID, ProductKey: e.ProductKey, Status: status,
		Version: max(e.Version, 1), TransactionAccountID: e.TransactionAccountID, InvoiceGroupID: e.InvoiceGroupID,
		RelatesFromEntitlements: rel,
		SubscriptionV2: &client.Subscription{
			ID: derivedID("subscription", e.ID), Status: "ACTIVE",
			BillingPeriodDetails: &client.BillingPeriodDetails{BillingAnchorTimestamp: e.BillingAnchorTimestamp},
		},
	}
}
