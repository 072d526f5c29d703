// Package record is the durable record of a journey, shared by the installer, which writes
// it, and installctl, which reads it: the JSON value of State under Key(requestID) in the
// DefaultBucket KV bucket, and its compact form (State.Compact) in DefaultFinishedBucket once
// the journey's outcome is published. Its encoding is a contract between the two binaries and
// with every record already stored: testdata holds today's records, which must still load.
package record

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/procurement/atlassian-installer/events"
)

// The installer's default KV buckets: journey states, and the compact records of finished
// journeys.
const (
	DefaultBucket         = "INSTALL_JOURNEYS"
	DefaultFinishedBucket = "INSTALL_FINISHED"
)

// Step is the last step a journey completed; a restarted or redelivered journey resumes
// after it.
type Step string

// The steps of a journey, in order.
const (
	// StepReceived: the request is valid and recorded; nothing has been called yet.
	StepReceived Step = "received"
	// StepLookedUp: every look-up is done and its answer recorded in State.Plan.
	StepLookedUp Step = "looked_up"
	// StepProvisioning: the provisioning request is about to be sent, or was sent and
	// its answer not recorded (a crash: the one case where it may be sent once more).
	StepProvisioning Step = "provisioning"
	// StepProvisionAccepted: the statusUrl and provisionRequestId are recorded, the order
	// not yet about to be sent. A journey normally passes straight from StepProvisioning to
	// StepOrdering, recording the provisioning answer with it.
	StepProvisionAccepted Step = "provision_accepted"
	// StepOrdering: the order is about to be sent, or was sent and its answer not
	// recorded; it is only ever re-sent with the same orderId.
	StepOrdering Step = "ordering"
	// StepOrdered: the order's answer is recorded; the journey polls until both the
	// provisioning and the order finish.
	StepOrdered Step = "ordered"
	// StepDone: the outcome is recorded; it is published unless Published says so.
	StepDone Step = "done"
)

// Status summarises a journey for operators.
type Status string

// Journey statuses.
const (
	StatusRunning     Status = "running"
	StatusProvisioned Status = "provisioned"
	StatusFailed      Status = "failed"
	// StatusPlanned: a dry run whose look-ups succeeded; nothing was provisioned or ordered.
	StatusPlanned Status = "planned"
)

// State is the durable state of one journey: the JSON value under Key(requestID) in the
// INSTALL_JOURNEYS bucket. Every write is a compare-and-set on the entry's revision. Its
// times, but RequestedAt, are on the NATS server's clock (the installer's
// Config.ServerClock).
type State struct {
	RequestID string `json:"requestId"`
	// Source is the request's CloudEvents source: with RequestID, the request's identity.
	// The same id from another source is a collision, dead-lettered.
	Source  string          `json:"source,omitempty"`
	Request *events.Request `json:"request,omitempty"`
	// Traceparent is the request's distributed-tracing context, carried to every outcome.
	Traceparent string `json:"traceparent,omitempty"`
	Step        Step   `json:"step"`
	Status      Status `json:"status"`
	// OwnerSeq is the stream sequence of the request message that drives the journey; a
	// second message with the same request id is acknowledged while that one exists, and
	// takes the journey over once it is gone.
	OwnerSeq uint64 `json:"ownerSeq,omitempty"`
	// Lease keeps two deliveries from running a step of the journey at once.
	Lease Lease `json:"lease,omitzero"`
	// Faults counts the deliveries that failed at FaultStep other than by an outage
	// (see the installer's MaxFaults); a fault at another step starts the count again.
	Faults    int  `json:"faults,omitempty"`
	FaultStep Step `json:"faultStep,omitempty"`

	Plan *Plan `json:"plan,omitempty"`

	ProvisionSentAt    time.Time `json:"provisionSentAt,omitzero"`
	ProvisionAttempts  int       `json:"provisionAttempts,omitempty"`
	StatusURL          string    `json:"statusUrl,omitempty"`
	ProvisionRequestID string    `json:"provisionRequestId,omitempty"`
	// OrderID is derived from the request id and recorded before the order is first sent.
	OrderID     string       `json:"orderId,omitempty"`
	OrderSentAt time.Time    `json:"orderSentAt,omitzero"`
	Order       *OrderAnswer `json:"order,omitempty"`

	// ProvisionStatus and ItemStatuses (by orderItemId) are the last statuses polled;
	// Entitlements are recorded once every order item has succeeded.
	ProvisionStatus string               `json:"provisionStatus,omitempty"`
	ItemStatuses    map[string]string    `json:"itemStatuses,omitempty"`
	Entitlements    []events.Entitlement `json:"entitlements,omitempty"`

	Outcome *Outcome `json:"outcome,omitempty"`
	// Published lists the event types published for this journey.
	Published []string `json:"published,omitempty"`

	// RequestedAt is the request event's time, or its first sight when it had none.
	RequestedAt time.Time `json:"requestedAt"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	CompletedAt time.Time `json:"completedAt,omitzero"`
}

// Lease is held by the delivery running a step; it lapses at Until, on the NATS server's
// clock.
type Lease struct {
	Owner string    `json:"owner,omitempty"`
	Until time.Time `json:"until,omitzero"`
}

// Plan holds the answers of the look-ups, so that a resumed journey sends exactly the
// provisioning and order it would have sent before.
type Plan struct {
	TransactionAccountID string `json:"transactionAccountId"`
	InvoiceGroupID       string `json:"invoiceGroupId"`
	// FamilyContainerEntitlementID is the Jira family container found on an existing site
	// (products) or the FAMILY_CONTAINER relation of the host (apps).
	FamilyContainerEntitlementID string `json:"familyContainerEntitlementId,omitempty"`
	// ProductARI, DependsOnEntitlementID and NextBillingAnchorTimestamp are the app's host.
	ProductARI                 string `json:"productAri,omitempty"`
	DependsOnEntitlementID     string `json:"dependsOnEntitlementId,omitempty"`
	NextBillingAnchorTimestamp int64  `json:"nextBillingAnchorTimestamp,omitempty"`
	// Lookups are the look-ups made, in order, and what each found.
	Lookups []events.Lookup `json:"lookups,omitempty"`
}

// OrderAnswer is what the order POST (or, after a crash, the order GET) answered.
type OrderAnswer struct {
	Slug  string               `json:"slug"`
	Items []events.OrderedItem `json:"items"`
}

// Outcome is the terminal event of a journey, recorded before it is published.
type Outcome struct {
	// Type is the event type (the provisioned, failed or planned subject).
	Type        string              `json:"type"`
	Provisioned *events.Provisioned `json:"provisioned,omitempty"`
	Failed      *events.Failed      `json:"failed,omitempty"`
	Planned     *events.Planned     `json:"planned,omitempty"`
}

// Data is the outcome event's data: the failed, the planned or the provisioned event.
func (o *Outcome) Data() any {
	switch {
	case o.Failed != nil:
		return o.Failed
	case o.Planned != nil:
		return o.Planned
	}
	return o.Provisioned
}

// Terminal reports whether the journey has its outcome.
func (s *State) Terminal() bool { return s.Outcome != nil }

// IsPublished reports whether the event type was published for this journey.
func (s *State) IsPublished(eventType string) bool { return slices.Contains(s.Published, eventType) }

// Compact is what a finished journey's record keeps: its identity, its outcome and what
// Atlassian knows it by; not the request, the look-ups or the polled statuses.
func (s *State) Compact() *State {
	return &State{
		RequestID: s.RequestID, Source: s.Source, Traceparent: s.Traceparent,
		Step: s.Step, Status: s.Status,
		ProvisionRequestID: s.ProvisionRequestID, OrderID: s.OrderID,
		Outcome: &Outcome{Type: s.Outcome.Type}, Published: s.Published,
		RequestedAt: s.RequestedAt, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, CompletedAt: s.CompletedAt,
	}
}

// orderNamespace derives orderIds from request ids (UUID v5), so that the orderId is
// the same however often a journey is resumed.
var orderNamespace = uuid.MustParse("0b4a4d4e-3f1c-5b8e-9a57-6f1de4c2a9b1")

// OrderID is the orderId of the order placed for a request.
func OrderID(requestID string) string {
	return uuid.NewSHA1(orderNamespace, []byte(requestID)).String()
}

// Key is the INSTALL_JOURNEYS key of a request: the request id itself when it is made of
// letters, digits and hyphens, otherwise "_" and the SHA-256 of the id in hex (a valid
// KV key, and never equal to a plain id). The real id is kept in State.RequestID.
func Key(requestID string) string {
	if requestID != "" && len(requestID) <= 200 && plainKey(requestID) {
		return requestID
	}
	sum := sha256.Sum256([]byte(requestID))
	return "_" + hex.EncodeToString(sum[:])
}

func plainKey(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}
