package events_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/procurement/atlassian-installer/events"
)

func TestDecodeRequestContractSamples(t *testing.T) {
	r, err := events.DecodeRequest([]byte(productsJSON), testNow)
	if err != nil {
		t.Fatalf("products sample: %v", err)
	}
	want := &events.Request{
		OrgID:      "2e3b-org",
		AdminEmail: "admin@acme.example",
		Site:       &events.Site{Name: "acme", Create: true, Timezone: "Australia/Sydney"},
		Products: []events.Product{{
			OfferingID: "799958b5-36bb-4a3d-9289-9fd2986352a7", Family: "jira", Location: "us",
			ChargeElement: "user", Quantity: 100, ParentEntitlementID: "58146793-4749-4db3-8c36-0cd59aa10b50",
			PricingPlanID: "8c1ffdde-plan", EndsAt: 1765520321000, NextBillingAnchorTimestamp: 1765520321001,
		}},
		Billing:                   &events.Billing{TransactionAccountID: "ta-1", InvoiceGroupID: "ig-1"},
		FamilyContainerOfferingID: "009f8789-c10c-4366-9420-f712d02a6499",
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("products sample decoded as\n%+v\nwant\n%+v", r, want)
	}
	// The field-by-field decoder must agree with encoding/json on valid data.
	var std events.Request
	if err := json.Unmarshal([]byte(productsJSON), &std); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, &std) {
		t.Errorf("decoder and encoding/json disagree:\n%+v\n%+v", r, &std)
	}

	a, err := events.DecodeRequest([]byte(appJSON), testNow)
	if err != nil {
		t.Fatalf("app sample: %v", err)
	}
	wantApp := &events.App{
		AppKey: "com.vendor.app", OfferingID: "3198373c-offering", HostProduct: "jira-software",
		ProductARI: "ari:cloud:jira-software::site/123", ChargeElement: "agent", Quantity: 100,
		PricingPlanID: "99eb1387-plan", PromotionCode: "PROMO_CODE", SkipTrial: true, EndsAt: 1752745039000,
	}
	if !reflect.DeepEqual(a.App, wantApp) || !a.IsApp() || a.Products != nil {
		t.Errorf("app sample decoded as %+v", a.App)
	}
}

func TestRequestJSONRoundTrip(t *testing.T) {
	r, err := events.DecodeRequest([]byte(productsJSON), testNow)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	again, err := events.DecodeRequest(b, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, again) {
		t.Errorf("round trip changed the request:\n%+v\n%+v", r, again)
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []string
	}{
		{"empty", ``, []string{"data"}},
		{"blank", "  \n", []string{"data"}},
		{"garbage", `not json`, []string{"data"}},
		{"truncated", `{"orgId": "x"`, []string{"data"}},
		{"array", `[1,2]`, []string{"data"}},
		{"string", `"hello"`, []string{"data"}},
		{"null", `null`, []string{"data"}},
		{"empty object lists every required field", `{}`, []string{"orgId", "adminEmail", "site.name", "products"}},
		{"unknown fields are tolerated", `{"orgId":"o","adminEmail":"a@b.example","newField":{"x":1},
			"site":{"name":"acme","create":false,"color":"red"},
			"products":[{"offeringId":"o","chargeElement":"user","quantity":1,"parentEntitlementId":"p","extra":true}]}`, nil},
		{"quantity as a string", `{"orgId":"o","adminEmail":"a@b.example","site":{"name":"acme"},
			"products":[{"offeringId":"o","chargeElement":"user","quantity":"100","parentEntitlementId":"p"}]}`,
			[]string{"products[0].quantity"}},
		{"quantity fractional", `{"orgId":"o","adminEmail":"a@b.example","site":{"name":"acme"},
			"products":[{"offeringId":"o","chargeElement":"user","quantity":1.5,"parentEntitlementId":"p"}]}`,
			[]string{"products[0].quantity"}},
		{"quantity whole float accepted", `{"orgId":"o","adminEmail":"a@b.example","site":{"name":"acme"},
			"products":[{"offeringId":"o","chargeElement":"user","quantity":100.0,"parentEntitlementId":"p"}]}`, nil},
		{"type errors everywhere, each once", `{"orgId":7,"adminEmail":true,"site":{"name":1,"create":"yes","timezone":[]},
			"products":[{"offeringId":{},"chargeElement":"user","quantity":"1","endsAt":"soon","parentEntitlementId":"p"}],
			"billing":"none","familyContainerOfferingId":9}`,
			[]string{"orgId", "adminEmail", "site.name", "site.create", "site.timezone",
				"products[0].offeringId", "products[0].quantity", "products[0].endsAt", "billing", "familyContainerOfferingId"}},
		{"site missing", `{"orgId":"o","adminEmail":"a@b.example",
			"products":[{"offeringId":"o","chargeElement":"user","quantity":1,"parentEntitlementId":"p"}]}`, []string{"site.name"}},
		{"site not an object", `{"orgId":"o","adminEmail":"a@b.example","site":"acme",
			"products":[{"offeringId":"o","chargeElement":"user","quantity":1,"parentEntitlementId":"p"}]}`, []string{"site"}},
		{"products not an array", `{"orgId":"o","adminEmail":"a@b.example","site":{"name":"acme"},"products":{"offeringId":"o"}}`,
			[]string{"products"}},
		{"product null", `{"orgId":"o","adminEmail":"a@b.example","site":{"name":"acme"},"products":[null]}`,
			[]string{"products[0]", "billing"}},
		{"app fields", `{"orgId":"o","adminEmail":"a@b.example","site":{"name":"acme"},"app":{"appKey":1,"skipTrial":"yes"}}`,
			[]string{"app.appKey", "app.offeringId", "app.hostProduct", "app.skipTrial"}},
		{"nulls are absent", `{"orgId":"o","adminEmail":"a@b.example","site":{"name":"acme","timezone":null},"billing":null,
			"products":[{"offeringId":"o","chargeElement":"user","quantity":1,"parentEntitlementId":"p","endsAt":null}]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := events.DecodeRequest([]byte(tt.data), testNow)
			got := fields(t, err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("fields = %q, want %q (error: %v)", got, tt.want, err)
			}
			if err == nil && r == nil {
				t.Error("no error and no request")
			}
		})
	}
}

func TestDecodeRequestKeepsReadableFields(t *testing.T) {
	r, err := events.DecodeRequest([]byte(`{"orgId":"org-9","products":[{"quantity":"x"}]}`), testNow)
	if err == nil {
		t.Fatal("want an error")
	}
	if r == nil || r.OrgID != "org-9" {
		t.Fatalf("request = %+v, want orgId org-9 kept for the failed event", r)
	}
	f := events.FailedValidation("req-1", r.OrgID, err)
	if f.Stage != events.StageValidation || f.Code != events.CodeInvalidRequest || len(f.Errors) == 0 || f.OrgID != "org-9" {
		t.Errorf("failed = %+v", f)
	}
}

func TestRequestFromEvent(t *testing.T) {
	e := event.New()
	e.SetID("r1")
	e.SetSource("test")
	e.SetType("atlassian.install.requested")
	if err := e.SetData("text/plain", []byte(productsJSON)); err != nil {
		t.Fatal(err)
	}
	if got := fields(t, func() error { _, err := events.RequestFromEvent(&e, testNow); return err }()); !reflect.DeepEqual(got, []string{"datacontenttype"}) {
		t.Errorf("text/plain data: fields %q", got)
	}
	for _, ct := range []string{"", "application/json", "application/json; charset=utf-8", "application/vnd.acme+json"} {
		e.SetDataContentType(ct)
		if _, err := events.RequestFromEvent(&e, testNow); err != nil {
			t.Errorf("content type %q: %v", ct, err)
		}
	}
}

func TestHelpers(t *testing.T) {
	r := validProducts()
	if got := r.FamilyContainerOffering(); got != events.DefaultFamilyContainerOfferingID {
		t.Errorf("default family container = %q", got)
	}
	r.FamilyContainerOfferingID = "custom"
	if got := r.FamilyContainerOffering(); got != "custom" {
		t.Errorf("family container = %q", got)
	}
	if got := events.NewSiteRef("acme"); got.URL != "https://acme.atlassian.net" || got.Name != "acme" {
		t.Errorf("site ref = %+v", got)
	}
	if got := events.NewSiteRef(""); got != (events.SiteRef{}) {
		t.Errorf("empty site ref = %+v", got)
	}
}
