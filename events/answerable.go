package events

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of outcome events (README, "Limits on input").
const (
	// MaxOutcomeData bounds an outcome event's data, in bytes.
	MaxOutcomeData = 64 << 10
	// MaxFailedMessage bounds the message of a failed event, in characters.
	MaxFailedMessage = 1024
	// maxAPIValue is the length assumed, in CheckOutcomes, of each value an Atlassian answer
	// adds to an outcome (slug, provisioning request id, order item and entitlement ids; a
	// provisioning request id is refused beyond it). They are UUIDs and ARIs, far shorter.
	maxAPIValue = 256
)

// CheckOutcomes builds, without publishing, the largest outcome events the journey of request
// r (id requestID) may publish — ordered, provisioned, failed with the longest message and, for a
// dry run, planned — with values of maxAPIValue characters wherever Atlassian's answers add one,
// and checks that each one's data is at most MaxOutcomeData. The largest plan of a dry run is
// the caller's to build (handlers.CheckOutcomes: the journey's own code builds plans); nil
// leaves planned out. Data no outcome could carry returns a *ValidationError naming the field
// to blame: the longest value the request adds to that event, when leaving it out would make
// the event fit, otherwise "products" (too many of them). The event's attributes need no check
// here: CheckRequestEvent bounds the id, the installer sets the source, an invalid traceparent
// is dropped.
func (p *Publisher) CheckOutcomes(requestID string, r *Request, largestPlan *Planned) error {
	outcomes := largestOutcomes(requestID, r)
	if largestPlan != nil {
		outcomes = append(outcomes, outcome{"planned", Subjects.Planned, largestPlan})
	}
	for _, o := range outcomes {
		e, err := p.NewOutcome(requestID, o.typ(p.subj), o.data, "")
		if err != nil {
			return err
		}
		if n := len(e.Data()); n > MaxOutcomeData {
			var fe fieldErrors
			fe.add(blame(r, n-MaxOutcomeData, o.name == "planned"), "the %s event would carry %d bytes of data, more than the %d an outcome may carry",
				o.name, n, MaxOutcomeData)
			return fe.err()
		}
	}
	return nil
}

type outcome struct {
	name string
	typ  func(Subjects) string
	data any
}

// longestTime has the longest RFC 3339 form a time of the events takes.
var longestTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)

func largestOutcomes(requestID string, r *Request) []outcome {
	api := strings.Repeat("x", maxAPIValue)
	billing := Billing{TransactionAccountID: api, InvoiceGroupID: api}
	if r.Billing != nil {
		billing = *r.Billing
	}
	var offerings []string
	if r.App != nil {
		offerings = append(offerings, r.App.OfferingID)
	} else {
		offerings = append(offerings, r.FamilyContainerOffering())
		for _, p := range r.Products {
			offerings = append(offerings, p.OfferingID)
		}
	}
	ordered := Ordered{RequestID: requestID, OrgID: r.OrgID, OrderID: api[:36], Slug: api, ProvisionRequestID: api,
		TransactionAccountID: billing.TransactionAccountID, InvoiceGroupID: billing.InvoiceGroupID}
	provisioned := Provisioned{RequestID: requestID, OrgID: r.OrgID, OrderID: api[:36], Slug: api, ProvisionRequestID: api,
		RequestedAt: longestTime, CompletedAt: longestTime}
	if r.Site != nil {
		provisioned.Site = NewSiteRef(r.Site.Name)
	}
	for i, o := range offerings {
		ordered.Items = append(ordered.Items, OrderedItem{ItemID: fmt.Sprintf("O%d", i+1), OrderItemID: api, OfferingID: o})
		provisioned.Entitlements = append(provisioned.Entitlements, Entitlement{OfferingID: o, EntitlementID: api, Version: api[:32]})
	}
	failed := Failed{RequestID: requestID, OrgID: r.OrgID, Stage: StageCompletion, Code: CodeOrderWindowExpired,
		Message: strings.Repeat("x", MaxFailedMessage), OrderID: api[:36], ProvisionRequestID: api}
	return []outcome{
		{"ordered", Subjects.Ordered, ordered},
		{"provisioned", Subjects.Provisioned, provisioned},
		{"failed", Subjects.Failed, failed},
	}
}

// blame names the field of r whose value, left out, would save more than over bytes: the
// longest value the request adds to its outcomes (with planned, also those only a plan's
// provisioning and order bodies carry); "products" when none would.
func blame(r *Request, over int, planned bool) string {
	field, longest := "products", 0
	consider := func(name, v string) {
		if n := jsonLen(v); n > longest {
			field, longest = name, n
		}
	}
	consider("orgId", r.OrgID)
	if r.Billing != nil {
		consider("billing.transactionAccountId", r.Billing.TransactionAccountID)
		consider("billing.invoiceGroupId", r.Billing.InvoiceGroupID)
	}
	consider("familyContainerOfferingId", r.FamilyContainerOfferingID)
	for i, p := range r.Products {
		consider(fmt.Sprintf("products[%d].offeringId", i), p.OfferingID)
		if planned {
			consider(fmt.Sprintf("products[%d].location", i), p.Location)
			consider(fmt.Sprintf("products[%d].chargeElement", i), p.ChargeElement)
			consider(fmt.Sprintf("products[%d].parentEntitlementId", i), p.ParentEntitlementID)
			consider(fmt.Sprintf("products[%d].pricingPlanId", i), p.PricingPlanID)
		}
	}
	if r.App != nil {
		consider("app.offeringId", r.App.OfferingID)
		if planned {
			consider("app.appKey", r.App.AppKey)
			consider("app.productAri", r.App.ProductARI)
			consider("app.chargeElement", r.App.ChargeElement)
			consider("app.pricingPlanId", r.App.PricingPlanID)
			consider("app.promotionCode", r.App.PromotionCode)
		}
	}
	if planned {
		consider("adminEmail", r.AdminEmail)
	}
	if longest <= over {
		return "products"
	}
	return field
}

func jsonLen(s string) int {
	b, _ := json.Marshal(s)
	return len(b)
}

// MarshalJSON bounds the message to MaxFailedMessage characters, whatever built it, so that
// CheckOutcomes's bound holds for every failed event.
func (f Failed) MarshalJSON() ([]byte, error) {
	type plain Failed
	f.Message = truncate(f.Message, MaxFailedMessage)
	return json.Marshal(plain(f))
}

// fit makes a validation failure's data fit MaxOutcomeData: an orgId too long to echo is left
// out (it has its own field error), then field errors are dropped from the end, the count of
// the others kept in the last entry.
func (f *Failed) fit() {
	size := func() int { b, _ := json.Marshal(f); return len(b) }
	if utf8.RuneCountInString(f.OrgID) > MaxSourceLen {
		f.OrgID = ""
	}
	if size() <= MaxOutcomeData {
		return
	}
	errs := f.Errors
	more := 0
	if n := len(errs); n > 0 && errs[n-1].Field == "" {
		fmt.Sscanf(errs[n-1].Message, "… and %d more", &more)
		errs = errs[:n-1]
	}
	f.Errors = nil
	budget := MaxOutcomeData - size() - 100 // the count entry and separators
	kept := 0
	for _, e := range errs {
		b, _ := json.Marshal(e)
		if budget -= len(b) + 1; budget < 0 {
			break
		}
		kept++
	}
	more += len(errs) - kept
	f.Errors = errs[:kept:kept]
	if more > 0 {
		f.Errors = append(f.Errors, FieldError{Message: fmt.Sprintf("… and %d more", more)})
	}
}
