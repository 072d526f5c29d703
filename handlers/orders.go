package handlers

import (
	"fmt"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// provisionRequest is the provisioning body: the instance offerings of the products
// (the family container is ordered, not provisioned), or the app's offering.
func provisionRequest(r *events.Request) *client.ProvisionRequest {
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

// orderRequest builds the order of a journey from its request and recorded look-ups, so
// that every (re-)send carries the same body and the same orderId.
func orderRequest(st *record.State) *client.OrderRequest {
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

// orderAnswer records the order POST's answer with each item's offering.
func orderAnswer(req *client.OrderRequest, resp *client.OrderResponse) *record.OrderAnswer {
	offering := map[string]string{}
	for _, it := range req.Items {
		offering[it.ItemID] = it.OfferingID
	}
	a := &record.OrderAnswer{Slug: resp.Slug}
	for _, it := range resp.Items {
		a.Items = append(a.Items, events.OrderedItem{ItemID: it.ItemID, OrderItemID: it.OrderItemID, OfferingID: offering[it.ItemID]})
	}
	return a
}

// orderAnswerFromRead rebuilds the answer from a read of the order, after a crash lost
// the POST's answer: the read names items by offering, matched to the request's items in
// their order.
func orderAnswerFromRead(req *client.OrderRequest, o *client.Order) *record.OrderAnswer {
	a := &record.OrderAnswer{Slug: o.Slug}
	used := make([]bool, len(o.Items))
	for _, it := range req.Items {
		for i, d := range o.Items {
			if !used[i] && d.OfferingID == it.OfferingID {
				used[i] = true
				a.Items = append(a.Items, events.OrderedItem{ItemID: it.ItemID, OrderItemID: d.OrderItemID, OfferingID: d.OfferingID})
				break
			}
		}
	}
	return a
}
