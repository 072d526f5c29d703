package atlassiantest

import (
	"fmt"
	"slices"
	"time"

	"github.com/procurement/atlassian-installer/client"
)

// orderCheck validates an order as the cookbook describes, collecting every problem.
type orderCheck struct {
	st        *state
	req       *client.OrderRequest
	now       time.Time
	org       string // the caller's organization, "" for any
	cfg       *config
	errs      []fieldError
	provision *provision
}

func (v *orderCheck) fail(field, format string, args ...any) {
	v.errs = append(v.errs, fieldError{field, fmt.Sprintf(format, args...)})
}

func (v *orderCheck) run() {
	req := v.req
	if req.OrderID == "" {
		v.fail("orderId", "the order id is required")
	}
	if req.TransactionAccountID == "" {
		v.fail("transactionAccountId", "the transaction account is required")
	}
	if req.InvoiceGroupID == "" {
		v.fail("invoiceGroupId", "the invoice group is required")
	}
	if len(req.Items) == 0 {
		v.fail("items", "at least one item is required")
	}
	p := v.checkProvision()
	items := make(map[string]int, len(req.Items))
	for i, it := range req.Items {
		f := fmt.Sprintf("items[%d].itemId", i)
		if it.ItemID == "" {
			v.fail(f, "the item id is required")
		} else if _, dup := items[it.ItemID]; dup {
			v.fail(f, "item id %q is used twice", it.ItemID)
		} else {
			items[it.ItemID] = i
		}
	}
	ordered := map[string]bool{}
	for i, it := range req.Items {
		v.checkItem(i, &it, items, p)
		ordered[it.OfferingID] = true
	}
	if p != nil {
		for _, id := range p.offerings {
			if !ordered[id] {
				v.fail("items", "offering %s was provisioned by request %s but is not ordered", id, p.id)
			}
		}
	}
}

func (v *orderCheck) checkProvision() *provision {
	id := v.req.Metadata.ProvisionRequestID
	if id == "" {
		v.fail("metadata.provisionRequestId", "the provisioning request id is required")
		return nil
	}
	p, ok := v.st.provisions[id]
	switch {
	case !ok || !orgMay(v.org, p.orgID):
		v.fail("metadata.provisionRequestId", "unknown provisioning request %s", id)
		return nil
	case p.orderID != "":
		v.fail("metadata.provisionRequestId", "provisioning request %s was already ordered by order %s", id, p.orderID)
		return nil
	case v.now.Sub(p.createdAt) >= v.cfg.orderWindow:
		v.fail("metadata.provisionRequestId", "provisioning request %s timed out: no order within %s", id, v.cfg.orderWindow)
		return nil
	}
	v.provision = p
	return p
}

func (v *orderCheck) checkItem(i int, it *client.OrderItem, items map[string]int, p *provision) {
	st, req := v.st, v.req
	at := func(f string) string { return fmt.Sprintf("items[%d].%s", i, f) }
	if it.Type != client.OrderItemCreation {
		v.fail(at("type"), "type %q is not %s", it.Type, client.OrderItemCreation)
	}
	off, ok := st.offerings[it.OfferingID]
	if !ok {
		v.fail(at("offeringId"), "unknown offering %s", it.OfferingID)
		return
	}
	if p != nil {
		switch {
		case off.Kind == KindApp && !p.app:
			v.fail(at("offeringId"), "app offering %s in an order for a product provisioning request", it.OfferingID)
		case off.Kind != KindApp && p.app:
			v.fail(at("offeringId"), "offering %s in an order for an app provisioning request", it.OfferingID)
		case off.Kind != KindFamilyContainer && !slices.Contains(p.offerings, it.OfferingID):
			v.fail(at("offeringId"), "offering %s is not part of provisioning request %s", it.OfferingID, p.id)
		case off.Kind == KindProduct && v.siteHas(p.siteName, off.TypeKey):
			// Another order for the same site got there first.
			v.fail(at("offeringId"), "site %s already has %s", p.siteName, off.TypeKey)
		}
	}
	var containers, dependences int
	for j, rel := range it.RelatesFromEntitlements {
		rf := at(fmt.Sprintf("relatesFromEntitlements[%d]", j))
		var target Offering
		var targetEnt *Entitlement
		switch rel.ReferenceType {
		case client.ReferenceOrderItem:
			k, ok := items[rel.ItemID]
			if !ok || rel.ItemID == it.ItemID {
				v.fail(rf+".itemId", "no other item of this order has item id %q", rel.ItemID)
				continue
			}
			target = st.offerings[req.Items[k].OfferingID]
		case client.ReferenceEntitlement:
			e, ok := st.entitlement(rel.EntitlementID, v.org, v.now)
			if !ok {
				v.fail(rf+".entitlementId", "entitlement %s does not exist", rel.EntitlementID)
				continue
			}
			targetEnt, target = e, st.offerings[e.OfferingID]
		default:
			v.fail(rf+".referenceType", "reference type %q is not ORDER_ITEM or ENTITLEMENT", rel.ReferenceType)
			continue
		}
		switch rel.RelationshipType {
		case client.RelationFamilyContainer:
			containers++
			if target.Kind != KindFamilyContainer {
				v.fail(rf, "a FAMILY_CONTAINER relation must point at a Jira family container")
				continue
			}
			v.checkContainer(rf, rel, p)
		case client.RelationEnterprise, client.RelationAppDependence:
			if rel.RelationshipType == client.RelationAppDependence {
				dependences++
			}
			if targetEnt == nil {
				v.fail(rf+".referenceType", "a %s relation must reference an ENTITLEMENT", rel.RelationshipType)
				continue
			}
			if targetEnt.TransactionAccountID != req.TransactionAccountID {
				v.fail("transactionAccountId", "transaction account %s does not match %s of entitlement %s", req.TransactionAccountID, targetEnt.TransactionAccountID, targetEnt.ID)
			}
			if targetEnt.InvoiceGroupID != req.InvoiceGroupID {
				v.fail("invoiceGroupId", "invoice group %s does not match %s of entitlement %s", req.InvoiceGroupID, targetEnt.InvoiceGroupID, targetEnt.ID)
			}
			if rel.RelationshipType == client.RelationAppDependence && p != nil && p.app {
				v.checkAppHost(rf, targetEnt, p)
			}
		default:
			v.fail(rf+".relationshipType", "relationship type %q is not FAMILY_CONTAINER, ENTERPRISE or APP_DEPENDENCE", rel.RelationshipType)
		}
	}
	if off.Kind == KindProduct && off.Family == "jira" && containers != 1 {
		v.fail(at("relatesFromEntitlements"), "a Jira-family product needs exactly one FAMILY_CONTAINER relation, found %d", containers)
	}
	if off.Kind == KindApp && dependences != 1 {
		v.fail(at("relatesFromEntitlements"), "an app needs exactly one APP_DEPENDENCE relation, found %d", dependences)
	}
	for j, pr := range it.Promotions {
		if !st.promotionCodeUsable(pr.PromotionDefinition.PromotionCode, off.AppKey, v.now) {
			v.fail(at(fmt.Sprintf("promotions[%d].promotionDefinition.promotionCode", j)), "promotion code %q is not valid for %s", pr.PromotionDefinition.PromotionCode, it.OfferingID)
		}
	}
}

func (v *orderCheck) siteHas(name, typeKey string) bool {
	site, ok := v.st.sites[name]
	return ok && slices.ContainsFunc(site.Products, func(p SiteProduct) bool { return p.TypeKey == typeKey })
}

// checkContainer: an existing site that has a Jira family container must
// reuse it; a new site must order its own.
func (v *orderCheck) checkContainer(field string, rel client.OrderItemRelation, p *provision) {
	if p == nil || p.app {
		return
	}
	var existing string
	if site, ok := v.st.sites[p.siteName]; ok {
		existing = v.st.siteFamilyContainer(site)
	}
	switch {
	case existing != "" && rel.ReferenceType == client.ReferenceOrderItem:
		v.fail(field, "site %s already has Jira family container %s: relate to it by ENTITLEMENT instead of ordering another", p.siteName, existing)
	case existing != "" && rel.EntitlementID != existing:
		v.fail(field+".entitlementId", "entitlement %s is not the Jira family container %s of site %s", rel.EntitlementID, existing, p.siteName)
	case existing == "" && rel.ReferenceType == client.ReferenceEntitlement:
		v.fail(field, "site %s has no Jira family container yet: order one as an item", p.siteName)
	}
}

// checkAppHost: an app depends on its host's family container (Jira family)
// or on the host's own entitlement (Confluence).
func (v *orderCheck) checkAppHost(field string, target *Entitlement, p *provision) {
	ref, ok := v.st.workspaces[p.productARI]
	if !ok {
		return
	}
	host, ok := v.st.entitlements[ref.product().EntitlementID]
	if !ok {
		return
	}
	want := familyContainerOf(host)
	if want == "" {
		want = host.ID
	}
	if target.ID != want {
		v.fail(field+".entitlementId", "an app on %s depends on entitlement %s, not %s", p.productARI, want, target.ID)
	}
}
