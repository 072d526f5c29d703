package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// dataField names the request data as a whole in a FieldError.
const dataField = "data"

// DecodeRequest reads and validates request data (see Request.Validate; now is the time
// the request is received). encoding/json stops at the first type mismatch, so the data is
// walked field by field instead: the returned *ValidationError lists the wrong fields, JSON
// type errors (a quantity given as a string) and rule violations alike, in the order of the
// data.
//
// When data is a JSON object the request is returned even with an error, holding whatever fields
// could be read (an orgId for the failed event, say). Unknown fields are ignored, so producers
// can send newer fields to an older installer.
func DecodeRequest(data []byte, now time.Time) (*Request, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		var fe fieldErrors
		fe.add(dataField, "required: the request data is empty")
		return nil, fe.err()
	}
	d := &decoder{typed: map[string]string{}}
	v := &validator{typed: d.typed, now: now}
	obj, ok := d.object(dataField, trimmed)
	if !ok {
		return nil, v.finish().err()
	}
	if obj == nil {
		d.add(dataField, "must be a JSON object, got null")
		return nil, v.finish().err()
	}
	r := d.request(obj)
	v.request(r)
	return r, v.finish().err()
}

// RequestFromEvent decodes the data of a request event received at now. Data whose
// datacontenttype is set and is not JSON is an invalid request naming the field
// "datacontenttype".
func RequestFromEvent(e *event.Event, now time.Time) (*Request, error) {
	if ct := e.DataContentType(); ct != "" && !isJSONMediaType(ct) {
		var fe fieldErrors
		fe.add("datacontenttype", "must be application/json, got %s", quoted(ct))
		return nil, fe.err()
	}
	return DecodeRequest(e.Data(), now)
}

func isJSONMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

// decoder reads JSON values one field at a time, recording the error of each value of the
// wrong type, by field, and leaving the destination zero.
type decoder struct {
	typed map[string]string
}

func (d *decoder) add(field, format string, args ...any) {
	d.typed[field] = truncate(fmt.Sprintf(format, args...), MaxMessageLen)
}

func (d *decoder) request(obj map[string]json.RawMessage) *Request {
	r := &Request{}
	d.str(obj, "", "orgId", &r.OrgID)
	d.str(obj, "", "adminEmail", &r.AdminEmail)
	if raw, ok := obj["site"]; ok {
		if o, ok := d.object("site", raw); ok && o != nil {
			r.Site = &Site{}
			d.str(o, "site.", "name", &r.Site.Name)
			d.boolean(o, "site.", "create", &r.Site.Create)
			d.str(o, "site.", "timezone", &r.Site.Timezone)
		}
	}
	if raw, ok := obj["products"]; ok {
		r.Products = d.products(raw)
	}
	if raw, ok := obj["app"]; ok {
		if o, ok := d.object("app", raw); ok && o != nil {
			r.App = d.app(o)
		}
	}
	if raw, ok := obj["billing"]; ok {
		if o, ok := d.object("billing", raw); ok && o != nil {
			r.Billing = &Billing{}
			d.str(o, "billing.", "transactionAccountId", &r.Billing.TransactionAccountID)
			d.str(o, "billing.", "invoiceGroupId", &r.Billing.InvoiceGroupID)
		}
	}
	d.str(obj, "", "familyContainerOfferingId", &r.FamilyContainerOfferingID)
	d.boolean(obj, "", "dryRun", &r.DryRun)
	return r
}

func (d *decoder) products(raw json.RawMessage) []Product {
	if isNull(raw) {
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		d.add("products", "must be an array of products, got %s", jsonKind(raw))
		// Present but unreadable: an empty, non-nil list keeps "exactly one of" quiet.
		return []Product{}
	}
	out := make([]Product, len(items))
	for i, item := range items {
		path := fmt.Sprintf("products[%d]", i)
		o, ok := d.object(path, item)
		if !ok || o == nil {
			if ok {
				d.add(path, "must be an object, got null")
			}
			continue
		}
		p := &out[i]
		path += "."
		d.str(o, path, "offeringId", &p.OfferingID)
		d.str(o, path, "family", &p.Family)
		d.str(o, path, "location", &p.Location)
		d.str(o, path, "chargeElement", &p.ChargeElement)
		d.integer(o, path, "quantity", &p.Quantity)
		d.str(o, path, "parentEntitlementId", &p.ParentEntitlementID)
		d.str(o, path, "pricingPlanId", &p.PricingPlanID)
		d.integer(o, path, "endsAt", &p.EndsAt)
		d.integer(o, path, "nextBillingAnchorTimestamp", &p.NextBillingAnchorTimestamp)
	}
	return out
}

func (d *decoder) app(o map[string]json.RawMessage) *App {
	a := &App{}
	d.str(o, "app.", "appKey", &a.AppKey)
	d.str(o, "app.", "offeringId", &a.OfferingID)
	d.str(o, "app.", "hostProduct", &a.HostProduct)
	d.str(o, "app.", "productAri", &a.ProductARI)
	d.str(o, "app.", "chargeElement", &a.ChargeElement)
	d.integer(o, "app.", "quantity", &a.Quantity)
	d.str(o, "app.", "pricingPlanId", &a.PricingPlanID)
	d.str(o, "app.", "promotionCode", &a.PromotionCode)
	d.boolean(o, "app.", "skipTrial", &a.SkipTrial)
	d.integer(o, "app.", "endsAt", &a.EndsAt)
	return a
}

// object decodes raw as a JSON object; null yields (nil, true).
func (d *decoder) object(path string, raw json.RawMessage) (map[string]json.RawMessage, bool) {
	if isNull(raw) {
		return nil, true
	}
	var o map[string]json.RawMessage
	if err := json.Unmarshal(raw, &o); err != nil {
		if json.Valid(raw) {
			d.add(path, "must be a JSON object, got %s", jsonKind(raw))
		} else {
			d.add(path, "is not valid JSON: %v", err)
		}
		return nil, false
	}
	return o, true
}

func (d *decoder) str(o map[string]json.RawMessage, prefix, key string, dst *string) {
	raw, ok := o[key]
	if !ok || isNull(raw) {
		return
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		d.add(prefix+key, "must be a string, got %s", jsonKind(raw))
	}
}

func (d *decoder) boolean(o map[string]json.RawMessage, prefix, key string, dst *bool) {
	raw, ok := o[key]
	if !ok || isNull(raw) {
		return
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		d.add(prefix+key, "must be true or false, got %s", jsonKind(raw))
	}
}

// integer accepts JSON numbers that are whole (100 or 100.0), as JavaScript producers cannot
// tell the two apart.
func (d *decoder) integer(o map[string]json.RawMessage, prefix, key string, dst *int64) {
	raw, ok := o[key]
	if !ok || isNull(raw) {
		return
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil || jsonKind(raw) != "a number" {
		d.add(prefix+key, "must be a number, got %s", jsonKind(raw))
		return
	}
	if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
		*dst = i
		return
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	switch {
	case math.IsInf(f, 0) || f > math.MaxInt64 || f < math.MinInt64:
		d.add(prefix+key, "is out of range, got %s", quoted(n.String()))
		return
	case err != nil || f != math.Trunc(f):
		d.add(prefix+key, "must be a whole number, got %s", quoted(n.String()))
		return
	}
	*dst = int64(f)
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// jsonKind names the JSON type of raw for error messages.
func jsonKind(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}
