package handlers

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// outcomeFailed completes a failure with what is known of the journey: the orderId once
// the order may have been sent, the provisionRequestId once recorded. Once an order
// may exist the failure is never retryable: a new request could buy a second time.
func (in *Installer) outcomeFailed(st *record.State, f *failure) *record.Outcome {
	ev := f.ev
	ev.RequestID = st.RequestID
	ev.OrgID = st.Request.OrgID
	if !st.OrderSentAt.IsZero() || st.Order != nil {
		ev.OrderID = st.OrderID
		ev.Retryable = false
	}
	ev.ProvisionRequestID = st.ProvisionRequestID
	return &record.Outcome{Type: in.subjects.Failed(), Failed: &ev}
}

func (in *Installer) outcomeProvisioned(st *record.State, now time.Time) *record.Outcome {
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
	return &record.Outcome{Type: in.subjects.Provisioned(), Provisioned: p}
}

// outcomePlanned is a dry run's outcome: its plan.
func (in *Installer) outcomePlanned(st *record.State) (*record.Outcome, error) {
	p, err := planned(st)
	if err != nil {
		return nil, err
	}
	return &record.Outcome{Type: in.subjects.Planned(), Planned: p}, nil
}

// planned is a dry run's plan: the provisioning request and the order the journey would send,
// built by the code that sends them, and what the look-ups found.
func planned(st *record.State) (*events.Planned, error) {
	r := st.Request
	provisioning := events.PlannedCall{Method: http.MethodPost, Path: client.ProvisionProductsPath(r.OrgID)}
	if r.App != nil {
		provisioning.Path = client.ProvisionAppPath(r.OrgID, st.Plan.ProductARI)
	}
	var err error
	if provisioning.Body, err = json.Marshal(provisionRequest(r)); err != nil {
		return nil, fmt.Errorf("plan the provisioning request: %w", err)
	}
	// The orderId and the provisionRequestId are left empty, and so out of the body: known
	// only once provisioning is answered, they are not part of the plan.
	order, err := json.Marshal(orderRequest(&record.State{Request: r, Plan: st.Plan}))
	if err != nil {
		return nil, fmt.Errorf("plan the order: %w", err)
	}
	p := &events.Planned{
		RequestID:    st.RequestID,
		OrgID:        r.OrgID,
		Provisioning: provisioning,
		Order:        events.PlannedCall{Method: http.MethodPost, Path: client.CreateOrderPath, Body: order},
		Lookups:      st.Plan.Lookups,
	}
	if r.Site != nil {
		site := events.NewSiteRef(r.Site.Name)
		p.Site = &site
	}
	return p, nil
}

// CheckOutcomes checks, before the first Atlassian call, that every outcome event the journey
// of request r (id requestID) may publish fits NATS's limits (events.Publisher.CheckOutcomes):
// ordered, provisioned, failed and, for a dry run, planned, with the largest plan its look-ups
// may make. The installer refuses a request that does not fit as invalid_request; installctl
// runs the same check before it publishes one. pub only builds the events.
func CheckOutcomes(pub *events.Publisher, requestID string, r *events.Request) error {
	var plan *events.Planned
	if r.DryRun {
		var err error
		if plan, err = largestPlan(requestID, r); err != nil {
			return err
		}
	}
	return pub.CheckOutcomes(requestID, r, plan)
}

// largestPlan is the largest plan the dry run of r may make: every value its look-ups add as
// long as an Atlassian answer may make it, and every look-up recorded. Requests that fit their
// other outcomes are far from this bound.
func largestPlan(requestID string, r *events.Request) (*events.Planned, error) {
	long := strings.Repeat("x", 256)
	plan := &record.Plan{TransactionAccountID: long, InvoiceGroupID: long, FamilyContainerEntitlementID: long,
		ProductARI: long, DependsOnEntitlementID: long, NextBillingAnchorTimestamp: math.MaxInt64}
	if r.App != nil && r.App.ProductARI != "" {
		plan.ProductARI = r.App.ProductARI
	}
	for range maxLookups {
		// A path is URL-escaped; what a look-up found may hold what JSON escapes ("<": 6 bytes).
		plan.Lookups = append(plan.Lookups, events.Lookup{Call: strings.Repeat("x", maxLookupText), Found: strings.Repeat("<", maxLookupText)})
	}
	return planned(&record.State{RequestID: requestID, Request: r, Plan: plan})
}
