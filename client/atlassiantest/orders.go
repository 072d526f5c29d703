package atlassiantest

import (
	"crypto/sha256"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/procurement/atlassian-installer/client"
)

// order is an accepted order. Item statuses are computed from the clock.
type order struct {
	req       client.OrderRequest
	org       string // of its provisioning request
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
		resp, mine := o.resp, orgMay(c.org, o.org)
		st.mu.Unlock()
		if !mine {
			writeError(w, http.StatusConflict, "CONFLICT", "order id "+req.OrderID+" is taken", fieldError{"orderId", "taken by another organization's order"})
			return
		}
		writeJSON(w, http.StatusOK, resp)
		return
	}
	v := orderCheck{st: st, req: &req, now: c.now, org: c.org, cfg: &s.cfg}
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
	o := &order{req: *req, org: p.orgID, createdAt: now, doneAt: now.Add(v.cfg.orderProcessing), itemsFail: c.action.orderItemsFail}
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
	at := c.readAt()
	o, ok := st.orders[id]
	if !ok || o.req.TransactionAccountID != txa || !orgMay(c.org, o.org) || o.createdAt.After(at) {
		st.mu.Unlock()
		writeError(w, http.StatusNotFound, "NOT_FOUND", "order not found in transaction account: "+id)
		return
	}
	out := o.read(at)
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
		info := &client.ProcessingInfo{Status: client.ItemProcessing}
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
