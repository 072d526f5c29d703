package atlassiantest

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/procurement/atlassian-installer/client"
)

// ItemProcessing is the status of an order item the sandbox is still working on.
const ItemProcessing = "PROCESSING"

// order is an accepted order. Item statuses are computed from the clock.
type order struct {
	req       client.OrderRequest
	resp      client.OrderResponse
	createdAt time.Time
	doneAt    time.Time
	itemsFail bool
	items     []orderedItem
}

type orderedItem struct {
	orderItemID   string
	entitlementID string
	relations     []client.OrderItemRelation // ORDER_ITEM references by orderItemId
}

func (s *Server) handleCreateOrder(w http.ResponseWriter, r *http.Request, c *call) {
	var req client.OrderRequest
	if !decodeBody(w, c, &req) {
		return
	}
	st := s.st
	st.mu.Lock()
	if o, ok := st.orders[req.OrderID]; ok && req.OrderID != "" {
		resp := o.resp
		st.mu.Unlock()
		writeJSON(w, http.StatusOK, resp)
		return
	}
	v := orderCheck{st: st, req: &req, now: c.now, cfg: &s.cfg}
	v.run()
	if len(v.errs) > 0 {
		st.mu.Unlock()
		writeError(w, http.StatusBadRequest, "INVALID_ORDER", joinErrors(v.errs), v.errs...)
		return
	}
	resp := st.acceptOrder(&v, c)
	st.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

// acceptOrder records a valid order, ties it to its provisioning request and
// creates (for later) the entitlements and site products it produces. Call
// with st.mu held.
func (st *state) acceptOrder(v *orderCheck, c *call) client.OrderResponse {
	req, p, now := v.req, v.provision, c.now
	o := &order{req: *req, createdAt: now, doneAt: now.Add(v.cfg.orderProcessing), itemsFail: c.action.orderItemsFail}
	p.orderID, p.orderedAt = req.OrderID, now

	var site *Site
	if !p.app && !o.itemsFail && !p.fails {
		site = st.sites[p.siteName]
		if site == nil {
			site = &Site{Name: p.siteName, CloudID: p.cloudID, OrgID: p.orgID, Realm: p.realm, Timezone: p.timezone}
			st.sites[site.Name] = site
			st.cloudIDs[site.CloudID] = true
			st.siteOrder = append(st.siteOrder, site.Name)
		}
	}
	productVisible := o.doneAt
	if at := p.completedAt(v.cfg); at.After(productVisible) {
		productVisible = at
	}

	byItem := make(map[string]int, len(req.Items))
	for i, it := range req.Items {
		byItem[it.ItemID] = i
		o.items = append(o.items, orderedItem{
			orderItemID:   req.OrderID + "-" + strconv.Itoa(i+1),
			entitlementID: derivedID("entitlement", req.OrderID, it.ItemID),
		})
	}
	resp := client.OrderResponse{OrderID: req.OrderID, Slug: slug(req.OrderID),
		TransactionAccountID: req.TransactionAccountID, InvoiceGroupID: req.InvoiceGroupID,
		Metadata: &client.OrderMetadata{ProvisionRequestID: req.Metadata.ProvisionRequestID},
		Items:    make([]client.OrderResponseItem, 0, len(req.Items))}
	for i, it := range req.Items {
		oi := &o.items[i]
		resp.Items = append(resp.Items, client.OrderResponseItem{ItemID: it.ItemID, OrderItemID: oi.orderItemID})
		var rels []client.EntitlementRelation
		for j, rel := range it.RelatesFromEntitlements {
			target := rel.EntitlementID
			read := client.OrderItemRelation{RelationshipType: rel.RelationshipType, ReferenceType: rel.ReferenceType, EntitlementID: rel.EntitlementID}
			if rel.ReferenceType == client.ReferenceOrderItem {
				k := byItem[rel.ItemID]
				target = o.items[k].entitlementID
				read = client.OrderItemRelation{RelationshipType: rel.RelationshipType, ReferenceType: rel.ReferenceType, OrderItemID: o.items[k].orderItemID}
			}
			oi.relations = append(oi.relations, read)
			rels = append(rels, client.EntitlementRelation{EntitlementID: target, RelationshipType: rel.RelationshipType,
				RelationshipID: derivedID("relation", req.OrderID, it.ItemID, strconv.Itoa(j))})
		}
		if o.itemsFail {
			continue
		}
		off := st.offerings[it.OfferingID]
		anchor := it.NextBillingAnchorTimestamp
		if anchor == 0 {
			anchor = o.doneAt.UnixMilli()
		}
		e := Entitlement{ID: oi.entitlementID, OrgID: p.orgID, OfferingID: it.OfferingID, ProductKey: off.ProductKey,
			TransactionAccountID: req.TransactionAccountID, InvoiceGroupID: req.InvoiceGroupID, Version: 1, Status: "ACTIVE",
			BillingAnchorTimestamp: anchor, RelatesFromEntitlements: rels, VisibleAt: o.doneAt}
		if off.Kind == KindProduct && site != nil {
			e.ProductARI = ARI(off.TypeKey, site.CloudID)
			site.Products = append(site.Products, SiteProduct{TypeKey: off.TypeKey, Type: off.Name, EntitlementID: e.ID, VisibleAt: productVisible})
			st.indexWorkspace(site, len(site.Products)-1)
		}
		st.addEntitlement(e)
		for _, pr := range it.Promotions {
			st.usePromotionCode(pr.PromotionDefinition.PromotionCode, req.OrderID, e.ID, now)
		}
	}
	o.resp = resp
	st.orders[req.OrderID] = o
	st.accepted = append(st.accepted, *req)
	return resp
}

func (s *Server) handleGetOrder(w http.ResponseWriter, r *http.Request, c *call) {
	id := r.PathValue("orderId")
	txa := r.Header.Get("X-transaction-account")
	if txa == "" {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "the X-transaction-account header is required",
			fieldError{"X-transaction-account", "required"})
		return
	}
	st := s.st
	st.mu.Lock()
	o, ok := st.orders[id]
	if !ok || o.req.TransactionAccountID != txa {
		st.mu.Unlock()
		writeError(w, http.StatusNotFound, "NOT_FOUND", "order not found in transaction account: "+id)
		return
	}
	out := o.read(c.now)
	st.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// read renders the order as GET /commerce/api/v2/orders/{id} answers at now.
func (o *order) read(now time.Time) client.Order {
	out := client.Order{OrderID: o.req.OrderID, Slug: o.resp.Slug, TransactionAccountID: o.req.TransactionAccountID,
		InvoiceGroupID: o.req.InvoiceGroupID, Metadata: o.resp.Metadata, CreatedDate: o.createdAt.UnixMilli(),
		Items: make([]client.OrderDetail, 0, len(o.items))}
	done := !now.Before(o.doneAt)
	updated := o.createdAt
	if done {
		updated = o.doneAt
	}
	for i, it := range o.req.Items {
		oi := o.items[i]
		info := &client.ProcessingInfo{Status: ItemProcessing}
		switch {
		case done && o.itemsFail:
			info = &client.ProcessingInfo{Status: client.ItemFailed, ReasonCode: "PROVISIONING_FAILURE"}
		case done:
			info = &client.ProcessingInfo{Status: client.ItemSuccess, Entitlement: &client.OrderEntitlement{ID: oi.entitlementID, Version: "1"}}
		}
		rels := slices.Clone(oi.relations)
		if rels == nil {
			rels = []client.OrderItemRelation{}
		}
		out.Items = append(out.Items, client.OrderDetail{OrderItemID: oi.orderItemID, OfferingID: it.OfferingID,
			Type: it.Type, OptedUsageOptions: it.OptedUsageOptions, ProcessingInfo: info, Promotions: it.Promotions,
			UpdatedDate: updated.UnixMilli(), RelatesFromEntitlements: rels})
	}
	return out
}

// slug is an order's human reference, R-XXX-XXX-XXX-XXX, derived from its id.
func slug(orderID string) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	h := sha256.Sum256([]byte(orderID))
	b := []byte("R-")
	for i := range 12 {
		if i > 0 && i%3 == 0 {
			b = append(b, '-')
		}
		b = append(b, alphabet[h[i]%32])
	}
	return string(b)
}

// orderCheck validates an order as the cookbook describes, collecting every problem.
type orderCheck struct {
	st        *state
	req       *client.OrderRequest
	now       time.Time
	cfg       *config
	errs      []fieldError
	provision *provision
}

func (v *orderCheck) fail(field, format string, args ...any) {
	v.errs = append(v.errs, fieldError{field, fmt.Sprintf(format, args...)})
}

func (v *orderCheck) run() {
	req, st := v.req, v.st
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
	_ = st
}

func (v *orderCheck) checkProvision() *provision {
	id := v.req.Metadata.ProvisionRequestID
	if id == "" {
		v.fail("metadata.provisionRequestId", "the provisioning request id is required")
		return nil
	}
	p, ok := v.st.provisions[id]
	switch {
	case !ok:
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
			e, ok := st.entitlement(rel.EntitlementID, v.now)
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
