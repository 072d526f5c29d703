package events_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/procurement/atlassian-installer/events"
)

// emptyProducts is a request of n empty products: three errors each.
func emptyProducts(n int) []byte {
	return []byte(`{"orgId":"o","adminEmail":"a@b.example","site":{"name":"acme"},"billing":{"transactionAccountId":"t","invoiceGroupId":"i"},"products":[` +
		strings.TrimSuffix(strings.Repeat(`{},`, n), ",") + `]}`)
}

// At most 100 field errors, in the order of the data, then one entry counting the rest.
func TestErrorsAreBounded(t *testing.T) {
	_, err := events.DecodeRequest(emptyProducts(4000), testNow)
	got := fieldErrors(t, err)
	if len(got) != 101 {
		t.Fatalf("%d errors, want 100 and one counting the rest", len(got))
	}
	if got[0].Field != "products[0].offeringId" || got[99].Field != "products[33].offeringId" {
		t.Errorf("errors not in the order of the data: first %q, 100th %q", got[0].Field, got[99].Field)
	}
	if last := got[100]; last.Field != "" || last.Message != "… and 11900 more" {
		t.Errorf("last entry = %+v, want the count of the rest", last)
	}
}

// A header value with a line break would make the order's X-transaction-account header
// unsendable: it is a wrong field, before any Atlassian call.
func TestControlCharactersAreFieldErrors(t *testing.T) {
	for _, tt := range []struct{ field, json string }{
		{"billing.transactionAccountId", `"billing":{"transactionAccountId":"ta-1\r\nX-Evil: 1","invoiceGroupId":"i"}`},
		{"billing.invoiceGroupId", `"billing":{"transactionAccountId":"t","invoiceGroupId":"i\n"}`},
	} {
		data := `{"orgId":"o","adminEmail":"a@b.example","site":{"name":"acme"},` + tt.json +
			`,"products":[{"offeringId":"o","chargeElement":"user","quantity":1}]}`
		_, err := events.DecodeRequest([]byte(data), testNow)
		if got := fields(t, err); len(got) != 1 || got[0] != tt.field {
			t.Errorf("%s: fields = %q, want [%s]", tt.field, got, tt.field)
		}
	}
}

// quantity is a whole number from 1 to 1,000,000.
func TestQuantityRange(t *testing.T) {
	for q, ok := range map[string]bool{"1": true, "1000000": true, "1000001": false, "9000000000000000000": false, "1e30": false} {
		data := `{"orgId":"o","adminEmail":"a@b.example","site":{"name":"acme"},"billing":{"transactionAccountId":"t","invoiceGroupId":"i"},` +
			`"products":[{"offeringId":"o","chargeElement":"user","quantity":` + q + `}]}`
		_, err := events.DecodeRequest([]byte(data), testNow)
		if got := fields(t, err); (len(got) == 0) != ok {
			t.Errorf("quantity %s: fields %q", q, got)
		}
	}
}

func fieldErrors(t *testing.T, err error) []events.FieldError {
	t.Helper()
	ve, ok := err.(*events.ValidationError)
	if !ok {
		t.Fatalf("error %v is not a *ValidationError", err)
	}
	return ve.Errors
}

// endsAt and nextBillingAnchorTimestamp are milliseconds, in the future, at most ten years
// ahead; a time in seconds is an error that says so.
func TestTimestamps(t *testing.T) {
	now := testNow
	tests := []struct {
		name string
		ms   int64
		want string // in the message; "" for valid
	}{
		{"a year ahead", now.AddDate(1, 0, 0).UnixMilli(), ""},
		{"in seconds", now.AddDate(1, 0, 0).Unix(), "seconds"},
		{"past", now.Add(-time.Millisecond).UnixMilli(), "in the future"},
		{"now", now.UnixMilli(), "in the future"},
		{"eleven years ahead", now.AddDate(11, 0, 0).UnixMilli(), "at most 10 years"},
		{"negative", -1, "in the future"},
		{"huge", math.MaxInt64, "at most 10 years"},
	}
	for _, tt := range tests {
		for _, field := range []string{"endsAt", "nextBillingAnchorTimestamp"} {
			r := validProducts()
			if field == "endsAt" {
				r.Products[0].EndsAt = tt.ms
			} else {
				r.Products[0].NextBillingAnchorTimestamp = tt.ms
			}
			err := r.Validate(now)
			if tt.want == "" {
				if err != nil {
					t.Errorf("%s %s: %v", tt.name, field, err)
				}
				continue
			}
			got := fieldErrors(t, err)
			if len(got) != 1 || got[0].Field != "products[0]."+field || !strings.Contains(got[0].Message, tt.want) {
				t.Errorf("%s %s: errors %+v, want products[0].%s saying %q", tt.name, field, got, field, tt.want)
			}
		}
		a := validApp()
		a.App.EndsAt = tt.ms
		if err := a.Validate(now); (err == nil) != (tt.want == "") {
			t.Errorf("%s app.endsAt: %v", tt.name, err)
		}
	}
}

// Every string of the data is free of control characters, each reported by its path; a
// message quotes at most a part of a long value and stays within MaxMessageLen characters.
func TestEveryStringIsChecked(t *testing.T) {
	r := validProducts()
	r.OrgID = "org\t1"
	r.Products[0].Location = "us\x00"
	r.Products[0].PricingPlanID = "plan\u0085"
	r.FamilyContainerOfferingID = "\x7f"
	r.Site.Timezone = strings.Repeat("Ω", 10000)
	got := fieldErrors(t, r.Validate(testNow))
	var names []string
	for _, e := range got {
		names = append(names, e.Field)
		if n := len([]rune(e.Message)); n > events.MaxMessageLen || n > 200 {
			t.Errorf("%s: message of %d characters", e.Field, n)
		}
	}
	want := []string{"orgId", "site.timezone", "products[0].location", "products[0].pricingPlanId", "familyContainerOfferingId"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("fields %q, want %q", names, want)
	}
}

// An app gives both chargeElement and quantity or neither.
func TestAppChargeBothOrNeither(t *testing.T) {
	for _, tt := range []struct {
		element  string
		quantity int64
		want     []string
	}{
		{"", 0, nil},
		{"agent", 10, nil},
		{"agent", 0, []string{"app.quantity"}},
		{"", 10, []string{"app.chargeElement"}},
		{"agent", MaxQuantityPlusOne, []string{"app.quantity"}},
	} {
		r := validApp()
		r.App.ChargeElement, r.App.Quantity = tt.element, tt.quantity
		if got := fields(t, r.Validate(testNow)); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("chargeElement %q quantity %d: fields %q, want %q", tt.element, tt.quantity, got, tt.want)
		}
	}
}

const MaxQuantityPlusOne = events.MaxQuantity + 1

// Only a W3C traceparent of version 00 is propagated, and a tracestate only with it.
func TestTraceContext(t *testing.T) {
	const good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for tp, ok := range map[string]bool{
		good:                  true,
		good + "\r\nX: 1":     false,
		strings.ToUpper(good): false,
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01": false,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01": false,
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01": false,
		"00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01": false,
		"": false,
	} {
		if got := events.ValidTraceparent(tp); got != ok {
			t.Errorf("ValidTraceparent(%q) = %v", tp, got)
		}
	}
	for ts, want := range map[string]string{
		"congo=t61rcWkgMzE,rojo=00f067aa0ba902b7": "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
		"tenant@vendor=x , ,b=2":                  "tenant@vendor=x , ,b=2",
		"Upper=1":                                 "",
		"a=b\r\nc":                                "",
		"a=b=c":                                   "",
		"a=" + strings.Repeat("v", 600):           "",
	} {
		e := event.New()
		e.SetExtension(events.ExtensionTraceparent, good)
		e.SetExtension(events.ExtensionTracestate, ts)
		if got := events.Tracestate(&e); got != want {
			t.Errorf("Tracestate(%q) = %q, want %q", ts, got, want)
		}
	}
	e := event.New()
	e.SetExtension(events.ExtensionTracestate, "a=b")
	if got := events.Tracestate(&e); got != "" {
		t.Errorf("tracestate without traceparent: %q", got)
	}
}

// A request id or source beyond the limits, or an id a NATS header would change, is refused
// with ErrUnanswerable.
func TestCheckRequestEvent(t *testing.T) {
	for _, tt := range []struct {
		id, source string
		ok         bool
	}{
		{"req-1", "urn:p", true},
		{strings.Repeat("é", events.MaxRequestIDLen), strings.Repeat("s", events.MaxSourceLen), true},
		{strings.Repeat("a", events.MaxRequestIDLen+1), "urn:p", false},
		{" a", "urn:p", false},
		{"a ", "urn:p", false},
		{"a\tb", "urn:p", false},
		{"a\u0085b", "urn:p", false},
		{"a\xffb", "urn:p", false},
		{"a", strings.Repeat("s", events.MaxSourceLen+1), false},
		{"a", "urn:\np", false},
	} {
		e := event.New()
		e.SetID("x")
		e.Context.(*event.EventContextV1).ID = tt.id // SetID trims
		e.Context.(*event.EventContextV1).Source.URL.Opaque = tt.source
		err := events.CheckRequestEvent(&e)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, events.ErrUnanswerable) {
			t.Errorf("id %q source %q: %v", tt.id, tt.source, err)
		}
	}
}
