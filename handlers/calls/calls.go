// Package calls builds what a journey sends to Atlassian for a request: the provisioning
// request and the order, from the request and the look-ups' answers recorded in its
// record.Plan (Found records those); a dry run's plan of both; the check, shared by the
// installer and installctl, that every outcome a request may have fits NATS's limits; and
// the order's retry policy (OrderRetry), which decides when an order is sent or read again.
package calls

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// Provisioning is the provisioning request's body: the instance offerings of the products
// (the family container is ordered, not provisioned), or the app's offering.
func Provisioning(r *events.Request) *client.ProvisionRequest {
	if r.App != nil {
		return &client.ProvisionRequest{
			Offerings:  []client.ProvisionOffering{{ID: r.App.OfferingID}},
			Parameters: client.ProvisionParameters{AdminEmail: r.AdminEmail, AppKey: r.App.AppKey},
		}
	}
	req := &client.ProvisionRequest{Parameters: client.ProvisionParameters{AdminEmail: r.AdminEmail}}
	if r.Site != nil {
		req.Parameters.Name = r.Site.Name
		if r.Site.Create {
			req.Parameters.Timezone = r.Site.Timezone
		}
	}
	for _, p := range r.Products {
		req.Offerings = append(req.Offerings, client.ProvisionOffering{ID: p.OfferingID, Location: p.Location})
	}
	return req
}

// Order builds the order of a journey from its request and recorded look-ups, so
// that every (re-)send carries the same body and the same orderId.
func Order(st *record.State) *client.OrderRequest {
	o := &client.OrderRequest{
		OrderID:              st.OrderID,
		TransactionAccountID: st.Plan.TransactionAccountID,
		InvoiceGroupID:       st.Plan.InvoiceGroupID,
		Metadata:             client.OrderMetadata{ProvisionRequestID: st.ProvisionRequestID},
	}
	if st.Request.App != nil {
		o.Items = []client.OrderItem{appItem(st.Request.App, st.Plan)}
	} else {
		o.Items = productItems(st.Request, st.Plan)
	}
	return o
}

// productItems: one CREATION_ORDER item per product; one family container item, placed
// before the first Jira-family product and related from each of them, unless the site
// already has a container; an ENTERPRISE relation to each product's parent.
func productItems(r *events.Request, plan *record.Plan) []client.OrderItem {
	var items []client.OrderItem
	nextID := func() string { return fmt.Sprintf("O%d", len(items)+1) }
	container := ""
	for _, p := range r.Products {
		var rel []client.OrderItemRelation
		if p.Family == events.FamilyJira {
			if plan.FamilyContainerEntitlementID != "" {
				rel = append(rel, client.OrderItemRelation{
					RelationshipType: client.RelationFamilyContainer,
					ReferenceType:    client.ReferenceEntitlement,
					EntitlementID:    plan.FamilyContainerEntitlementID,
				})
			} else {
				if container == "" {
					container = nextID()
					items = append(items, client.OrderItem{
						Type: client.OrderItemCreation, ItemID: container, OfferingID: r.FamilyContainerOffering(),
					})
				}
				rel = append(rel, client.OrderItemRelation{
					RelationshipType: client.RelationFamilyContainer,
					ReferenceType:    client.ReferenceOrderItem,
					ItemID:           container,
				})
			}
		}
		if p.ParentEntitlementID != "" {
			rel = append(rel, client.OrderItemRelation{
				RelationshipType: client.RelationEnterprise,
				ReferenceType:    client.ReferenceEntitlement,
				EntitlementID:    p.ParentEntitlementID,
			})
		}
		items = append(items, client.OrderItem{
			Type:                       client.OrderItemCreation,
			ItemID:                     nextID(),
			OfferingID:                 p.OfferingID,
			OptedUsageOptions:          usage(p.ChargeElement, int64(p.Quantity), p.PricingPlanID, p.EndsAt),
			RelatesFromEntitlements:    rel,
			NextBillingAnchorTimestamp: p.NextBillingAnchorTimestamp,
		})
	}
	return items
}

// appItem: the app's item depends on the host (APP_DEPENDENCE) and carries the promotion
// code, the trial choice, the end time and the host's billing anchor.
func appItem(app *events.App, plan *record.Plan) client.OrderItem {
	it := client.OrderItem{
		Type:              client.OrderItemCreation,
		ItemID:            "O1",
		OfferingID:        app.OfferingID,
		OptedUsageOptions: usage(app.ChargeElement, int64(app.Quantity), app.PricingPlanID, app.EndsAt),
		RelatesFromEntitlements: []client.OrderItemRelation{{
			RelationshipType: client.RelationAppDependence,
			ReferenceType:    client.ReferenceEntitlement,
			EntitlementID:    plan.DependsOnEntitlementID,
		}},
		NextBillingAnchorTimestamp: plan.NextBillingAnchorTimestamp,
	}
	if app.SkipTrial {
		it.OptedUsageOptions.Trial = &client.Trial{SkipTrial: true}
	}
	if app.PromotionCode != "" {
		it.Promotions = []client.OrderPromotion{{PromotionDefinition: client.PromotionDefinition{PromotionCode: app.PromotionCode}}}
	}
	return it
}

// usage is an item's charging details: a charge quantity when the request gives one (an
// app may give none), the pricing plan and the end time.
func usage(chargeElement string, quantity int64, pricingPlanID string, endsAt int64) *client.OptedUsageOptions {
	u := &client.OptedUsageOptions{}
	if chargeElement != "" || pricingPlanID != "" {
		u.ChargingDetails = &client.ChargingDetails{PricingPlanID: pricingPlanID}
	}
	if chargeElement != "" {
		u.ChargingDetails.ChargeQuantities = []client.ChargeQuantity{{ChargeElement: chargeElement, Quantity: quantity}}
	}
	if endsAt > 0 {
		u.EffectiveTime = &client.EffectiveTime{EndsAt: &client.EndsAt{Type: client.EndsAtTimestamp, EndTimestamp: endsAt}}
	}
	return u
}

// Planned is a dry run's plan: the provisioning request and the order the journey would send,
// built by the code that sends them, and what the look-ups found.
func Planned(st *record.State) (*events.Planned, error) {
	r := st.Request
	provisioning := events.PlannedCall{Method: http.MethodPost, Path: client.ProvisionProductsPath(r.OrgID)}
	if r.App != nil {
		provisioning.Path = client.ProvisionAppPath(r.OrgID, st.Plan.ProductARI)
	}
	var err error
	if provisioning.Body, err = json.Marshal(Provisioning(r)); err != nil {
		return nil, fmt.Errorf("plan the provisioning request: %w", err)
	}
	// The orderId and the provisionRequestId are left empty, and so out of the body: known
	// only once provisioning is answered, they are not part of the plan.
	order, err := json.Marshal(Order(&record.State{Request: r, Plan: st.Plan}))
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
	return Planned(&record.State{RequestID: requestID, Request: r, Plan: plan})
}

// Bounds of the look-ups a plan records, so that a plan always fits its event (CheckOutcomes):
// a journey makes a handful; more (a site with many Jira workspaces) are left out.
const (
	maxLookups    = 12
	maxLookupText = 256
)

// Found records a look-up and what the journey took from its answer, for the plan of a dry
// run and for operators reading the journey.
func Found(p *record.Plan, method, path, format string, args ...any) {
	if len(p.Lookups) < maxLookups {
		p.Lookups = append(p.Lookups, events.Lookup{
			Call: truncate(method+" "+path, maxLookupText), Found: truncate(fmt.Sprintf(format, args...), maxLookupText)})
	}
}

// truncate cuts s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
