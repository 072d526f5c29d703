package journey

import (
	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/record"
)

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
