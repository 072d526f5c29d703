package client

// Types of the Commerce API's quotes
// (https://developer.atlassian.com/platform/commerce/rest/api-group-quotes/).

// Quote is the answer of GET /commerce/api/v2/quotes/{id} (GetQuoteResponseV2).
type Quote struct {
	ID                       string              `json:"id"`
	Name                     string              `json:"name,omitempty"`
	Version                  int64               `json:"version,omitempty"`
	ContractType             string              `json:"contractType,omitempty"`
	ClonedFrom               string              `json:"clonedFrom,omitempty"`
	Number                   string              `json:"number,omitempty"`
	ExpiresAt                int64               `json:"expiresAt,omitempty"`
	ExpiresAfterDays         int64               `json:"expiresAfterDays,omitempty"`
	FromQuote                string              `json:"fromQuote,omitempty"`
	Revision                 int64               `json:"revision,omitempty"`
	Locale                   string              `json:"locale,omitempty"`
	TransactionAccountID     string              `json:"transactionAccountId,omitempty"`
	ReasonCode               string              `json:"reasonCode,omitempty"`
	InvoiceGroupID           string              `json:"invoiceGroupId,omitempty"`
	Status                   string              `json:"status,omitempty"`
	ExternalNotes            []QuoteNote         `json:"externalNotes,omitempty"`
	CreatedBy                *QuoteActor         `json:"createdBy,omitempty"`
	CreatedAt                int64               `json:"createdAt,omitempty"`
	UpdatedBy                *QuoteActor         `json:"updatedBy,omitempty"`
	UpdatedAt                int64               `json:"updatedAt,omitempty"`
	LineItems                []QuoteLineItem     `json:"lineItems,omitempty"`
	Metadata                 map[string]any      `json:"metadata,omitempty"`
	FinalizedAt              int64               `json:"finalizedAt,omitempty"`
	StaleReason              *QuoteReason        `json:"staleReason,omitempty"`
	CancelledReason          *QuoteReason        `json:"cancelledReason,omitempty"`
	UpcomingBillsRequestedAt int64               `json:"upcomingBillsRequestedAt,omitempty"`
	UpcomingBillsComputedAt  int64               `json:"upcomingBillsComputedAt,omitempty"`
	UpcomingBills            *QuoteUpcomingBills `json:"upcomingBills,omitempty"`
	AutoRefresh              *QuoteAutoRefresh   `json:"autoRefresh,omitempty"`
}

// QuoteNote is an external note on a quote.
type QuoteNote struct {
	Note      string `json:"note"`
	CreatedAt int64  `json:"createdAt,omitempty"`
}

// QuoteActor is who created or updated a quote.
type QuoteActor struct {
	Subject              string `json:"subject,omitempty"`
	SubjectType          string `json:"subjectType,omitempty"`
	IsCustomerAdvocate   bool   `json:"isCustomerAdvocate,omitempty"`
	IsSystemDrivenAction bool   `json:"isSystemDrivenAction,omitempty"`
}

// QuoteLineItem is one line of a quote.
type QuoteLineItem struct {
	LineItemID              string                 `json:"lineItemId,omitempty"`
	EntitlementID           string                 `json:"entitlementId,omitempty"`
	EntitlementVersion      string                 `json:"entitlementVersion,omitempty"`
	LineItemType            string                 `json:"lineItemType,omitempty"`
	OfferingKey             string                 `json:"offeringKey,omitempty"`
	PricingPlanID           string                 `json:"pricingPlanId,omitempty"`
	ChargeQuantities        []ChargeQuantity       `json:"chargeQuantities,omitempty"`
	Promotions              []QuotePromotion       `json:"promotions,omitempty"`
	RelatesFromEntitlements []QuoteRelation        `json:"relatesFromEntitlements,omitempty"`
	LockContext             *QuoteLockContext      `json:"lockContext,omitempty"`
	SkipTrial               bool                   `json:"skipTrial,omitempty"`
	OrderItemID             string                 `json:"orderItemId,omitempty"`
	SubscriptionID          string                 `json:"subscriptionId,omitempty"`
	StartsAt                *QuoteTime             `json:"startsAt,omitempty"`
	BillingAnchor           *QuoteTime             `json:"billingAnchor,omitempty"`
	EndsAt                  *QuoteTime             `json:"endsAt,omitempty"`
	Status                  string                 `json:"status,omitempty"`
	StaleReason             *QuoteReason           `json:"staleReason,omitempty"`
	CancelledReason         *QuoteReason           `json:"cancelledReason,omitempty"`
	PreBillingConfiguration *QuotePreBillingConfig `json:"preBillingConfiguration,omitempty"`
	Metadata                map[string]any         `json:"metadata,omitempty"`
}

// QuotePromotion is a promotion applied to a quote line.
type QuotePromotion struct {
	PromotionInstanceID string         `json:"promotionInstanceId,omitempty"`
	PromotionDefinition map[string]any `json:"promotionDefinition,omitempty"`
}

// QuoteRelation relates a quote line to an entitlement or another line.
type QuoteRelation struct {
	ReferenceType    string `json:"referenceType,omitempty"`
	EntitlementID    string `json:"entitlementId,omitempty"`
	LineItemID       string `json:"lineItemId,omitempty"`
	RelationshipType string `json:"relationshipType,omitempty"`
}

// QuoteLockContext says whether price and promotion of a line are locked.
type QuoteLockContext struct {
	IsPriceLocked     bool `json:"isPriceLocked"`
	IsPromotionLocked bool `json:"isPromotionLocked"`
}

// QuoteTime is a start, anchor or end of a quote line: a type such as
// QUOTE_ACCEPTANCE_DATE or DURATION, with a timestamp or duration.
type QuoteTime struct {
	Type      string         `json:"type"`
	Timestamp int64          `json:"timestamp,omitempty"`
	Duration  *QuoteDuration `json:"duration,omitempty"`
}

// QuoteDuration is a number of intervals (e.g. 1 YEAR).
type QuoteDuration struct {
	Interval      string `json:"interval"`
	IntervalCount int64  `json:"intervalCount"`
}

// QuoteReason explains why a quote or line went stale or was cancelled.
type QuoteReason struct {
	Code          string `json:"code,omitempty"`
	Name          string `json:"name,omitempty"`
	LastUpdatedAt int64  `json:"lastUpdatedAt,omitempty"`
	ExpiresAt     int64  `json:"expiresAt,omitempty"`
	OrderID       string `json:"orderId,omitempty"`
	OrderItemID   string `json:"orderItemId,omitempty"`
}

// QuotePreBillingConfig bounds what is billed before the quote is accepted.
type QuotePreBillingConfig struct {
	BillFrom *QuoteTime `json:"billFrom,omitempty"`
	BillTo   *QuoteTime `json:"billTo,omitempty"`
}

// QuoteUpcomingBills are the bills a quote would produce.
type QuoteUpcomingBills struct {
	Tax      float64         `json:"tax"`
	Total    float64         `json:"total"`
	SubTotal float64         `json:"subTotal"`
	Lines    []QuoteBillLine `json:"lines,omitempty"`
}

// QuoteBillLine is one line of an upcoming bill.
type QuoteBillLine struct {
	ID             string           `json:"id,omitempty"`
	QuoteLineID    string           `json:"quoteLineId,omitempty"`
	Description    string           `json:"description,omitempty"`
	Currency       string           `json:"currency,omitempty"`
	Total          float64          `json:"total"`
	SubTotal       float64          `json:"subTotal"`
	Tax            float64          `json:"tax"`
	Period         map[string]any   `json:"period,omitempty"`
	OfferingID     string           `json:"offeringId,omitempty"`
	PricingPlanID  string           `json:"pricingPlanId,omitempty"`
	Quantity       float64          `json:"quantity,omitempty"`
	Adjustments    []map[string]any `json:"adjustments,omitempty"`
	Margins        []map[string]any `json:"margins,omitempty"`
	TaxItems       []map[string]any `json:"taxItems,omitempty"`
	TaxPercent     float64          `json:"taxPercent,omitempty"`
	AccruedCharges bool             `json:"accruedCharges,omitempty"`
	Metadata       map[string]any   `json:"metadata,omitempty"`
}

// QuoteAutoRefresh records an automatic refresh of a quote.
type QuoteAutoRefresh struct {
	InitiatedAt int64  `json:"initiatedAt,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// QuoteListOptions filter and page GET /commerce/api/v1/quotes; zero fields
// are left out of the query. The reference lists an integer page size and
// string filters without naming them; the client sends pageSize, startId (the
// previous page's NextID), status and sortBy.
type QuoteListOptions struct {
	PageSize int
	StartID  string
	Status   string
	SortBy   string
}

// QuoteList is one page of GET /commerce/api/v1/quotes; NextID is empty on the
// last page.
type QuoteList struct {
	Data   []Quote `json:"data"`
	NextID string  `json:"nextId,omitempty"`
}
