package events

import (
	"encoding/json"
	"errors"
	"time"
)

// Stages of a journey, the "stage" of a failed event: where the journey stopped.
const (
	StageValidation = "validation"
	StageLookup     = "lookup"
	StageProvision  = "provision"
	StageOrder      = "order"
	StageCompletion = "completion"
)

// Codes of a failed event: why the journey stopped.
const (
	CodeInvalidRequest     = "invalid_request"
	CodeUnauthorized       = "unauthorized"
	CodeForbidden          = "forbidden"
	CodeNotFound           = "not_found"
	CodeRateLimited        = "rate_limited"
	CodeAPIError           = "api_error"
	CodeProvisionFailed    = "provision_failed"
	CodeOrderRejected      = "order_rejected"
	CodeOrderFailed        = "order_failed"
	CodeOrderWindowExpired = "order_window_expired"
	CodeDeadlineExceeded   = "deadline_exceeded"
	// CodeInternalError: the installer failed on the request the same way, delivery after
	// delivery, and gave up (its log says why).
	CodeInternalError = "internal_error"
)

// Ordered is the data of the ordered event: the order was accepted.
type Ordered struct {
	RequestID            string        `json:"requestId"`
	OrgID                string        `json:"orgId"`
	OrderID              string        `json:"orderId"`
	Slug                 string        `json:"slug"`
	ProvisionRequestID   string        `json:"provisionRequestId"`
	TransactionAccountID string        `json:"transactionAccountId"`
	InvoiceGroupID       string        `json:"invoiceGroupId"`
	Items                []OrderedItem `json:"items"`
}

// OrderedItem is one item of the accepted order.
type OrderedItem struct {
	ItemID      string `json:"itemId"`
	OrderItemID string `json:"orderItemId"`
	OfferingID  string `json:"offeringId"`
}

// Provisioned is the data of the provisioned event: provisioning finished and every order item
// succeeded.
type Provisioned struct {
	RequestID          string        `json:"requestId"`
	OrgID              string        `json:"orgId"`
	OrderID            string        `json:"orderId"`
	Slug               string        `json:"slug"`
	ProvisionRequestID string        `json:"provisionRequestId"`
	Site               SiteRef       `json:"site"`
	Entitlements       []Entitlement `json:"entitlements"`
	RequestedAt        time.Time     `json:"requestedAt"`
	CompletedAt        time.Time     `json:"completedAt"`
}

// SiteRef names the site a journey provisioned or installed on; empty for an app installed by
// product ARI alone, whose site the installer never looked up.
type SiteRef struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url,omitempty"`
}

// NewSiteRef returns the reference to the site called name, with its address.
func NewSiteRef(name string) SiteRef {
	if name == "" {
		return SiteRef{}
	}
	return SiteRef{Name: name, URL: SiteURL(name)}
}

// Entitlement is one entitlement the order created.
type Entitlement struct {
	OfferingID    string `json:"offeringId"`
	EntitlementID string `json:"entitlementId"`
	// Version is a string, as orders report it (entitlement details report a number).
	Version string `json:"version"`
}

// Planned is the data of the planned event, a dry run's terminal event: what the journey would
// send, and what its look-ups found. Nothing was provisioned or ordered.
type Planned struct {
	RequestID string   `json:"requestId"`
	OrgID     string   `json:"orgId"`
	Site      *SiteRef `json:"site,omitempty"`
	// Provisioning is the provisioning request the journey would send.
	Provisioning PlannedCall `json:"provisioning"`
	// Order is the order the journey would send, without orderId and
	// metadata.provisionRequestId (known only once provisioning is answered).
	Order PlannedCall `json:"order"`
	// Lookups are the journey's look-ups, in the order it made them.
	Lookups []Lookup `json:"lookups"`
}

// PlannedCall is an Atlassian call as it would be sent: its body is the JSON sent, byte for
// byte.
type PlannedCall struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Body   json.RawMessage `json:"body"`
}

// Lookup is one look-up of a journey: the call made ("GET /commerce/api/v2/entitlements/…/
// details") and what the journey took from its answer.
type Lookup struct {
	Call  string `json:"call"`
	Found string `json:"found"`
}

// MarshalJSON writes an absent look-up list as [].
func (p Planned) MarshalJSON() ([]byte, error) {
	type plain Planned
	if p.Lookups == nil {
		p.Lookups = []Lookup{}
	}
	return json.Marshal(plain(p))
}

// Failed is the data of the failed event: the journey ended without success.
type Failed struct {
	RequestID string `json:"requestId"`
	OrgID     string `json:"orgId"`
	Stage     string `json:"stage"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	// Retryable tells whether publishing the same request again, under a new id, may succeed.
	Retryable bool `json:"retryable"`
	// HTTPStatus is the Atlassian API's status when one caused the failure, otherwise 0.
	HTTPStatus int `json:"httpStatus"`
	// OrderID and ProvisionRequestID are present once known, so the journey can be followed up.
	OrderID            string `json:"orderId,omitempty"`
	ProvisionRequestID string `json:"provisionRequestId,omitempty"`
	// Errors lists every wrong field with CodeInvalidRequest.
	Errors []FieldError `json:"errors,omitempty"`
}

// FailedValidation builds the failed event data for a request that did not validate. err is the
// error of DecodeRequest or Validate; its field errors are carried over, as many as fit in
// MaxOutcomeData, as does an orgId of at most MaxSourceLen characters.
func FailedValidation(requestID, orgID string, err error) Failed {
	f := Failed{
		RequestID: requestID,
		OrgID:     orgID,
		Stage:     StageValidation,
		Code:      CodeInvalidRequest,
		Message:   err.Error(),
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		f.Errors = ve.Errors
	}
	f.fit()
	return f
}

// MarshalJSON writes an absent item list as [] rather than null, so subscribers can range over
// it without a check.
func (o Ordered) MarshalJSON() ([]byte, error) {
	type plain Ordered
	if o.Items == nil {
		o.Items = []OrderedItem{}
	}
	return json.Marshal(plain(o))
}

// MarshalJSON writes times in UTC ("…Z") and an absent entitlement list as [].
func (p Provisioned) MarshalJSON() ([]byte, error) {
	type plain Provisioned
	if p.Entitlements == nil {
		p.Entitlements = []Entitlement{}
	}
	p.RequestedAt, p.CompletedAt = p.RequestedAt.UTC(), p.CompletedAt.UTC()
	return json.Marshal(plain(p))
}
