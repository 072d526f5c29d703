package client

// Types of the Commerce API (install cookbook: "Get entitlement details", "Place order",
// "Get status of order"). The Commerce API speaks camelCase.

// Order item and relation vocabulary of the Commerce API.
const (
	OrderItemCreation = "CREATION_ORDER"

	RelationFamilyContainer = "FAMILY_CONTAINER"
	RelationEnterprise      = "ENTERPRISE"
	RelationAppDependence   = "APP_DEPENDENCE"

	ReferenceOrderItem   = "ORDER_ITEM"
	ReferenceEntitlement = "ENTITLEMENT"

	EndsAtTimestamp = "TIMESTAMP"
)

// Order item processing statuses (OrderItem.ProcessingInfo.Status).
const (
	ItemProcessing = "PROCESSING"
	ItemSuccess    = "SUCCESS"
	ItemFailed     = "FAILED"
	ItemRejected   = "REJECTED"
	ItemCancelled  = "CANCELLED"
)

// EntitlementDetails is the answer of GET /commerce/api/v2/entitlements/{id}/details.
// Version is a number here (it is a string in orders). Both the current
// "subscriptionv2" and the older "subscription" shape are accepted; use
// BillingAnchorTimestamp rather than reading either directly.
type EntitlementDetails struct {
	EntitlementID           string                `json:"entitlementId"`
	OfferingID              string                `json:"offeringId,omitempty"`
	ProductKey              string                `json:"productKey,omitempty"`
	Status                  string                `json:"status,omitempty"`
	Version                 int64                 `json:"version"`
	TransactionAccountID    string                `json:"transactionAccountId"`
	InvoiceGroupID          string                `json:"invoiceGroupId"`
	RelatesFromEntitlements []EntitlementRelation `json:"relatesFromEntitlements"`
	RelatesToEntitlements   []EntitlementRelation `json:"relatesToEntitlements,omitempty"`
	SubscriptionV2          *Subscription         `json:"subscriptionv2,omitempty"`
	Subscription            *Subscription         `json:"subscription,omitempty"`
}

// EntitlementRelation relates one entitlement to another.
type EntitlementRelation struct {
	EntitlementID    string `json:"entitlementId"`
	RelationshipType string `json:"relationshipType"`
	RelationshipID   string `json:"relationshipId,omitempty"`
}

// Subscription is the billing subscription of an entitlement.
type Subscription struct {
	ID                   string                `json:"id,omitempty"`
	Status               string                `json:"status,omitempty"`
	BillingPeriodDetails *BillingPeriodDetails `json:"billingPeriodDetails,omitempty"`
}

// BillingPeriodDetails carries the billing anchor that app orders reuse as their
// nextBillingAnchorTimestamp.
type BillingPeriodDetails struct {
	BillingAnchorTimestamp       int64 `json:"billingAnchorTimestamp,omitempty"`
	CurrentBillingStartTimestamp int64 `json:"currentBillingStartTimestamp,omitempty"`
	CurrentBillingEndTimestamp   int64 `json:"currentBillingEndTimestamp,omitempty"`
	NextBillingTimestamp         int64 `json:"nextBillingTimestamp,omitempty"`
}

// OrderRequest is the body of POST /commerce/api/v2/orders (and v1). OrderID is
// the caller's idempotency key; left empty, it is left out (an order not yet sent, as
// a dry run shows it).
type OrderRequest struct {
	OrderID              string        `json:"orderId,omitempty"`
	TransactionAccountID string        `json:"transactionAccountId"`
	InvoiceGroupID       string        `json:"invoiceGroupId"`
	Items                []OrderItem   `json:"items"`
	Metadata             OrderMetadata `json:"metadata"`
}

// OrderMetadata ties an order to its provisioning request.
type OrderMetadata struct {
	ProvisionRequestID string `json:"provisionRequestId,omitempty"`
}

// OrderItem is one item of an order request.
type OrderItem struct {
	Type                       string              `json:"type"`
	ItemID                     string              `json:"itemId"`
	OfferingID                 string              `json:"offeringId"`
	OptedUsageOptions          *OptedUsageOptions  `json:"optedUsageOptions,omitempty"`
	Promotions                 []OrderPromotion    `json:"promotions,omitempty"`
	RelatesFromEntitlements    []OrderItemRelation `json:"relatesFromEntitlements,omitempty"`
	NextBillingAnchorTimestamp int64               `json:"nextBillingAnchorTimestamp,omitempty"`
}

// OptedUsageOptions are the usage choices of an order item.
type OptedUsageOptions struct {
	ChargingDetails *ChargingDetails `json:"chargingDetails,omitempty"`
	Trial           *Trial           `json:"trial,omitempty"`
	EffectiveTime   *EffectiveTime   `json:"effectiveTime,omitempty"`
}

// ChargingDetails name the pricing plan and the quantities charged.
type ChargingDetails struct {
	PricingPlanID    string           `json:"pricingPlanId,omitempty"`
	ChargeQuantities []ChargeQuantity `json:"chargeQuantities,omitempty"`
}

// ChargeQuantity is a quantity of one charge element ("user", "agent").
type ChargeQuantity struct {
	ChargeElement string `json:"chargeElement"`
	Quantity      int64  `json:"quantity"`
}

// Trial says whether to skip an app's trial.
type Trial struct {
	SkipTrial bool `json:"skipTrial"`
}

// EffectiveTime says when an item ends.
type EffectiveTime struct {
	EndsAt *EndsAt `json:"endsAt,omitempty"`
}

// EndsAt is an end time; Type is EndsAtTimestamp and EndTimestamp is in ms.
type EndsAt struct {
	Type         string `json:"type"`
	EndTimestamp int64  `json:"endTimestamp"`
}

// OrderPromotion applies a promotion code to an item.
type OrderPromotion struct {
	PromotionDefinition PromotionDefinition `json:"promotionDefinition"`
}

// PromotionDefinition names a promotion code.
type PromotionDefinition struct {
	PromotionCode string `json:"promotionCode"`
}

// OrderItemRelation relates an order item to another item of the same order
// (ReferenceOrderItem with ItemID) or to an existing entitlement
// (ReferenceEntitlement with EntitlementID). In order reads, items of the same
// order are referenced by OrderItemID.
type OrderItemRelation struct {
	RelationshipType string `json:"relationshipType"`
	ReferenceType    string `json:"referenceType"`
	ItemID           string `json:"itemId,omitempty"`
	OrderItemID      string `json:"orderItemId,omitempty"`
	EntitlementID    string `json:"entitlementId,omitempty"`
}

// OrderResponse is the answer to an order creation.
type OrderResponse struct {
	OrderID              string              `json:"orderId"`
	Slug                 string              `json:"slug"`
	Items                []OrderResponseItem `json:"items"`
	TransactionAccountID string              `json:"transactionAccountId"`
	InvoiceGroupID       string              `json:"invoiceGroupId"`
	Metadata             *OrderMetadata      `json:"metadata"`
}

// OrderResponseItem maps the caller's itemId to the order item id.
type OrderResponseItem struct {
	ItemID         string          `json:"itemId"`
	OrderItemID    string          `json:"orderItemId"`
	ProcessingInfo *ProcessingInfo `json:"processingInfo"`
}

// Order is the answer of GET /commerce/api/v2/orders/{id}.
type Order struct {
	OrderID              string                 `json:"orderId"`
	Slug                 string                 `json:"slug"`
	TransactionAccountID string                 `json:"transactionAccountId"`
	TransactionAccount   *TransactionAccountRef `json:"transactionAccount,omitempty"`
	InvoiceGroupID       string                 `json:"invoiceGroupId"`
	Items                []OrderDetail          `json:"items"`
	Metadata             *OrderMetadata         `json:"metadata"`
	CreatedDate          int64                  `json:"createdDate,omitempty"`
}

// TransactionAccountRef names the transaction account an order was placed for.
type TransactionAccountRef struct {
	ID           string `json:"id"`
	PartitionKey string `json:"partitionKey,omitempty"`
}

// OrderDetail is an order item as the order read reports it.
type OrderDetail struct {
	OrderItemID             string              `json:"orderItemId"`
	ParentEntitlementID     string              `json:"parentEntitlementId,omitempty"`
	ReasonCode              string              `json:"reasonCode,omitempty"`
	OfferingID              string              `json:"offeringId"`
	Type                    string              `json:"type"`
	OptedUsageOptions       *OptedUsageOptions  `json:"optedUsageOptions"`
	ProcessingInfo          *ProcessingInfo     `json:"processingInfo"`
	Promotions              []OrderPromotion    `json:"promotions"`
	UpdatedDate             int64               `json:"updatedDate,omitempty"`
	RelatesFromEntitlements []OrderItemRelation `json:"relatesFromEntitlements"`
}

// ProcessingInfo is the processing state of an order item. Entitlement is set
// once Status is ItemSuccess.
type ProcessingInfo struct {
	Status         string            `json:"status"`
	Entitlement    *OrderEntitlement `json:"entitlement"`
	ReasonCode     string            `json:"reasonCode,omitempty"`
	TransitionTime string            `json:"transitionTime,omitempty"`
}

// OrderEntitlement is the entitlement an order item created; Version is a string here.
type OrderEntitlement struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}
