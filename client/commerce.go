package client

import (
	"context"
	"net/http"
)

// CommerceService reads entitlement details and places and reads orders
// (install cookbook; Commerce REST API,
// https://developer.atlassian.com/platform/commerce/rest/).
type CommerceService service

// GetEntitlementDetails returns an entitlement's transaction account, invoice
// group, version, billing anchor and relations. Limited client-side to
// 3,000 requests a minute by default (FamilyEntitlementDetails).
//
// Install cookbook, "Get entitlement details":
// GET /commerce/api/v2/entitlements/{entitlementId}/details.
func (s *CommerceService) GetEntitlementDetails(ctx context.Context, entitlementID string) (*EntitlementDetails, *Response, error) {
	if err := required("entitlementID", entitlementID); err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequest(http.MethodGet, EntitlementDetailsPath(entitlementID),
		nil, nil, FamilyEntitlementDetails, retryIdempotent)
	return call[EntitlementDetails](ctx, s.client, r, err)
}

// CreateOrder places an order (v2). req.OrderID is required: it is the
// idempotency key that makes the order safe to retry after 5xx answers and
// network errors, since the API answers a repeated orderId with the first
// order. X-transaction-account is sent with req.TransactionAccountID.
// Limited client-side to 600 requests a minute by default (FamilyOrders).
//
// Install cookbook, "Place order for provisioned product(s) within 10
// minutes": POST /commerce/api/v2/orders.
func (s *CommerceService) CreateOrder(ctx context.Context, req *OrderRequest) (*OrderResponse, *Response, error) {
	return s.createOrder(ctx, CreateOrderPath, req)
}

// CreateOrderV1 places an order through the v1 endpoint, which the cookbook
// uses to add JSM to a site that already has Jira. Retried like CreateOrder.
//
// Install cookbook, "Existing Sites": POST /commerce/api/v1/orders.
func (s *CommerceService) CreateOrderV1(ctx context.Context, req *OrderRequest) (*OrderResponse, *Response, error) {
	return s.createOrder(ctx, "commerce/api/v1/orders", req)
}

func (s *CommerceService) createOrder(ctx context.Context, path string, req *OrderRequest) (*OrderResponse, *Response, error) {
	if err := requiredBody("req", req); err != nil {
		return nil, nil, err
	}
	if err := required("req.OrderID", req.OrderID); err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequest(http.MethodPost, path, nil, req, FamilyOrders, retryIdempotent)
	if err == nil {
		r.priority = PriorityCreate
	}
	r, err = withHeader(r, err, headerTransactionAccount, req.TransactionAccountID)
	return call[OrderResponse](ctx, s.client, r, err)
}

// GetOrder reads an order and the processing status of its items; each item
// must reach ItemSuccess for the order to succeed. transactionAccountID is sent
// as X-transaction-account.
//
// Install cookbook, "Get status of order": GET /commerce/api/v2/orders/{id}.
func (s *CommerceService) GetOrder(ctx context.Context, orderID, transactionAccountID string) (*Order, *Response, error) {
	if err := required("orderID", orderID); err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequest(http.MethodGet, "commerce/api/v2/orders/"+seg(orderID),
		nil, nil, FamilyOrders, retryIdempotent)
	r, err = withHeader(r, err, headerTransactionAccount, transactionAccountID)
	return call[Order](ctx, s.client, r, err)
}

// BillingAnchorTimestamp is the billing anchor (ms) that app orders reuse as
// nextBillingAnchorTimestamp, read from subscriptionv2 or, for entitlements
// that still carry it, the older subscription shape; 0 when neither has one.
//
// Install cookbook, "Place order for provisioned apps with promo code".
func (d *EntitlementDetails) BillingAnchorTimestamp() int64 {
	if d == nil {
		return 0
	}
	for _, s := range []*Subscription{d.SubscriptionV2, d.Subscription} {
		if s != nil && s.BillingPeriodDetails != nil && s.BillingPeriodDetails.BillingAnchorTimestamp != 0 {
			return s.BillingPeriodDetails.BillingAnchorTimestamp
		}
	}
	return 0
}

// FamilyContainerID is the entitlement id of the Jira family container this
// entitlement belongs to (relatesFromEntitlements of type FAMILY_CONTAINER),
// or "" when it has none.
//
// Install cookbook, "Existing Sites", step 2.
func (d *EntitlementDetails) FamilyContainerID() string {
	if d == nil {
		return ""
	}
	for _, r := range d.RelatesFromEntitlements {
		if r.RelationshipType == RelationFamilyContainer {
			return r.EntitlementID
		}
	}
	return ""
}
