package events_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/events"
)

// testNow is when the tests' requests are received: their endsAt lie ahead of it.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// productsJSON is the contract's products request, complete and valid.
const productsJSON = `{
  "orgId": "2e3b-org",
  "adminEmail": "admin@acme.example",
  "site": { "name": "acme", "create": true, "timezone": "Australia/Sydney" },
  "products": [
    {
      "offeringId": "799958b5-36bb-4a3d-9289-9fd2986352a7",
      "family": "jira",
      "location": "us",
      "chargeElement": "user",
      "quantity": 100,
      "parentEntitlementId": "58146793-4749-4db3-8c36-0cd59aa10b50",
      "pricingPlanId": "8c1ffdde-plan",
      "endsAt": 1765520321000,
      "nextBillingAnchorTimestamp": 1765520321001
    }
  ],
  "billing": { "transactionAccountId": "ta-1", "invoiceGroupId": "ig-1" },
  "familyContainerOfferingId": "009f8789-c10c-4366-9420-f712d02a6499"
}`

// appJSON is the contract's app request, complete and valid.
const appJSON = `{
  "orgId": "2e3b-org",
  "adminEmail": "admin@acme.example",
  "site": { "name": "acme", "create": false },
  "app": {
    "appKey": "com.vendor.app",
    "offeringId": "3198373c-offering",
    "hostProduct": "jira-software",
    "productAri": "ari:cloud:jira-software::site/123",
    "chargeElement": "agent",
    "quantity": 100,
    "pricingPlanId": "99eb1387-plan",
    "promotionCode": "PROMO_CODE",
    "skipTrial": true,
    "endsAt": 1752745039000
  }
}`

func validProducts() *events.Request {
	return &events.Request{
		OrgID:      "org-1",
		AdminEmail: "admin@acme.example",
		Site:       &events.Site{Name: "acme", Create: true, Timezone: "Australia/Sydney"},
		Products: []events.Product{{
			OfferingID: "off-1", Family: "jira", ChargeElement: "user", Quantity: 10,
			ParentEntitlementID: "parent-1",
		}},
	}
}

func validApp() *events.Request {
	return &events.Request{
		OrgID:      "org-1",
		AdminEmail: "admin@acme.example",
		Site:       &events.Site{Name: "acme"},
		App:        &events.App{AppKey: "com.vendor.app", OfferingID: "off-app", HostProduct: "confluence"},
	}
}

func fields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *events.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	if !errors.Is(err, events.ErrInvalidRequest) {
		t.Errorf("errors.Is(%v, ErrInvalidRequest) = false", err)
	}
	out := make([]string, 0, len(ve.Errors))
	for _, fe := range ve.Errors {
		if fe.Message == "" {
			t.Errorf("field %s has no message", fe.Field)
		}
		out = append(out, fe.Field)
	}
	return out
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		base   func() *events.Request
		change func(r *events.Request)
		want   []string
	}{
		{"products valid", validProducts, func(*events.Request) {}, nil},
		{"app valid", validApp, func(*events.Request) {}, nil},
		{"app by product ARI needs no host product", validApp, func(r *events.Request) {
			r.App.HostProduct = ""
			r.App.ProductARI = "ari:cloud:confluence::site/1"
		}, nil},
		{"app by product ARI still needs its site", validApp, func(r *events.Request) {
			r.Site = nil
			r.App.HostProduct = ""
			r.App.ProductARI = "ari:cloud:confluence::site/1"
		}, []string{"site.name"}},
		{"app by product ARI still needs the site's name", validApp, func(r *events.Request) {
			r.Site.Name = ""
			r.App.ProductARI = "ari:cloud:confluence::site/1"
		}, []string{"site.name"}},
		{"billing given instead of parent entitlement", validProducts, func(r *events.Request) {
			r.Products[0].ParentEntitlementID = ""
			r.Billing = &events.Billing{TransactionAccountID: "ta", InvoiceGroupID: "ig"}
		}, nil},
		{"parent entitlement on a later product is enough", validProducts, func(r *events.Request) {
			r.Products[0].ParentEntitlementID = ""
			r.Products = append(r.Products, events.Product{OfferingID: "o2", ChargeElement: "agent", Quantity: 1, ParentEntitlementID: "p2"})
		}, nil},
		{"existing site needs no timezone", validProducts, func(r *events.Request) {
			r.Site.Create, r.Site.Timezone = false, ""
		}, nil},
		{"UTC is a zone", validProducts, func(r *events.Request) { r.Site.Timezone = "UTC" }, nil},
		{"orgId required", validProducts, func(r *events.Request) { r.OrgID = "" }, []string{"orgId"}},
		{"blank orgId", validProducts, func(r *events.Request) { r.OrgID = "  " }, []string{"orgId"}},
		{"adminEmail required", validProducts, func(r *events.Request) { r.AdminEmail = "" }, []string{"adminEmail"}},
		{"adminEmail without at", validProducts, func(r *events.Request) { r.AdminEmail = "admin.acme.example" }, []string{"adminEmail"}},
		{"adminEmail with display name", validProducts, func(r *events.Request) { r.AdminEmail = "Admin <admin@acme.example>" }, []string{"adminEmail"}},
		{"adminEmail without domain", validProducts, func(r *events.Request) { r.AdminEmail = "admin@" }, []string{"adminEmail"}},
		{"neither products nor app", validProducts, func(r *events.Request) { r.Products = nil }, []string{"products"}},
		{"both products and app", validProducts, func(r *events.Request) { r.App = validApp().App }, []string{"app"}},
		{"empty products", validProducts, func(r *events.Request) { r.Products = []events.Product{} }, []string{"products"}},
		{"site required for products", validProducts, func(r *events.Request) { r.Site = nil }, []string{"site.name"}},
		{"site required for app by host product", validApp, func(r *events.Request) { r.Site = nil }, []string{"site.name"}},
		{"site.name required", validProducts, func(r *events.Request) { r.Site.Name = "" }, []string{"site.name"}},
		{"site.name uppercase", validProducts, func(r *events.Request) { r.Site.Name = "Acme" }, []string{"site.name"}},
		{"site.name underscore", validProducts, func(r *events.Request) { r.Site.Name = "ac_me" }, []string{"site.name"}},
		{"site.name dot", validProducts, func(r *events.Request) { r.Site.Name = "acme.evil" }, []string{"site.name"}},
		{"site.name leading hyphen", validProducts, func(r *events.Request) { r.Site.Name = "-acme" }, []string{"site.name"}},
		{"site.name too long", validProducts, func(r *events.Request) { r.Site.Name = strings.Repeat("a", 64) }, []string{"site.name"}},
		{"site.name digits and hyphens", validProducts, func(r *events.Request) { r.Site.Name = "acme-2-dev" }, nil},
		{"timezone required on create", validProducts, func(r *events.Request) { r.Site.Timezone = "" }, []string{"site.timezone"}},
		{"timezone unknown", validProducts, func(r *events.Request) { r.Site.Timezone = "Mars/Olympus" }, []string{"site.timezone"}},
		{"timezone Local", validProducts, func(r *events.Request) { r.Site.Timezone = "Local" }, []string{"site.timezone"}},
		{"timezone checked on existing site too", validProducts, func(r *events.Request) {
			r.Site.Create, r.Site.Timezone = false, "Nowhere/Else"
		}, []string{"site.timezone"}},
		{"product offeringId", validProducts, func(r *events.Request) { r.Products[0].OfferingID = "" }, []string{"products[0].offeringId"}},
		{"product chargeElement", validProducts, func(r *events.Request) { r.Products[0].ChargeElement = "" }, []string{"products[0].chargeElement"}},
		{"product quantity zero", validProducts, func(r *events.Request) { r.Products[0].Quantity = 0 }, []string{"products[0].quantity"}},
		{"product quantity negative", validProducts, func(r *events.Request) { r.Products[0].Quantity = -3 }, []string{"products[0].quantity"}},
		{"product family unknown", validProducts, func(r *events.Request) { r.Products[0].Family = "confluence" }, []string{"products[0].family"}},
		{"product endsAt negative", validProducts, func(r *events.Request) { r.Products[0].EndsAt = -1 }, []string{"products[0].endsAt"}},
		{"second product indexed", validProducts, func(r *events.Request) {
			r.Products = append(r.Products, events.Product{OfferingID: "o2", ChargeElement: "agent"})
		}, []string{"products[1].quantity"}},
		{"billing needs a parent entitlement", validProducts, func(r *events.Request) { r.Products[0].ParentEntitlementID = "" }, []string{"billing"}},
		{"billing fields required", validProducts, func(r *events.Request) { r.Billing = &events.Billing{} }, []string{"billing.transactionAccountId", "billing.invoiceGroupId"}},
		{"app appKey", validApp, func(r *events.Request) { r.App.AppKey = "" }, []string{"app.appKey"}},
		{"app offeringId", validApp, func(r *events.Request) { r.App.OfferingID = "" }, []string{"app.offeringId"}},
		{"app hostProduct", validApp, func(r *events.Request) { r.App.HostProduct = "" }, []string{"app.hostProduct"}},
		{"app productAri shape", validApp, func(r *events.Request) { r.App.ProductARI = "site/1" }, []string{"app.productAri"}},
		{"app quantity without charge element", validApp, func(r *events.Request) { r.App.Quantity = 5 }, []string{"app.chargeElement"}},
		{"app charge element without quantity", validApp, func(r *events.Request) { r.App.ChargeElement = "agent" }, []string{"app.quantity"}},
		{"app negative quantity", validApp, func(r *events.Request) { r.App.Quantity = -1 }, []string{"app.chargeElement", "app.quantity"}},
		{"app on a new site", validApp, func(r *events.Request) { r.Site.Create, r.Site.Timezone = true, "UTC" }, []string{"site.create"}},
		{"app needs no billing", validApp, func(r *events.Request) { r.Billing = nil }, nil},
		{"every error at once", validProducts, func(r *events.Request) {
			r.OrgID, r.AdminEmail = "", "nope"
			r.Site.Name, r.Site.Timezone = "ACME", "Atlantis/Capital"
			r.Products[0] = events.Product{Quantity: -1}
			r.Products = append(r.Products, events.Product{OfferingID: "o", ChargeElement: "user"})
		}, []string{
			"orgId", "adminEmail", "site.name", "site.timezone",
			"products[0].offeringId", "products[0].chargeElement", "products[0].quantity",
			"products[1].quantity", "billing",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.base()
			tt.change(r)
			got := fields(t, r.Validate(testNow))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("fields = %q, want %q (error: %v)", got, tt.want, r.Validate(testNow))
			}
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	r := validProducts()
	r.Site.Timezone = "Mars/Olympus"
	r.Products[0].Quantity = 0
	err := r.Validate(testNow)
	msg := err.Error()
	for _, want := range []string{"invalid request", "site.timezone", "Mars/Olympus", "products[0].quantity", "from 1 to 1000000"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

func TestFieldErrorJSON(t *testing.T) {
	b, err := json.Marshal(events.FieldError{Field: "site.timezone", Message: "required"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"field":"site.timezone","message":"required"}`; got != want {
		t.Errorf("json = %s, want %s", got, want)
	}
}
