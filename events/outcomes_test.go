package events_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/events"
)

func TestOutcomeJSON(t *testing.T) {
	sydney, err := time.LoadLocation("Australia/Sydney")
	if err != nil {
		t.Fatal(err)
	}
	p := events.Provisioned{
		RequestID: "r", OrgID: "o", OrderID: "ord", Slug: "R-1", ProvisionRequestID: "pr",
		Site:        events.NewSiteRef("acme"),
		RequestedAt: time.Date(2026, 1, 2, 13, 0, 0, 0, sydney),
		CompletedAt: time.Date(2026, 1, 2, 2, 30, 0, 0, time.UTC),
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"requestId":"r","orgId":"o","orderId":"ord","slug":"R-1","provisionRequestId":"pr",` +
		`"site":{"name":"acme","url":"https://acme.atlassian.net"},"entitlements":[],` +
		`"requestedAt":"2026-01-02T02:00:00Z","completedAt":"2026-01-02T02:30:00Z"}`
	if string(b) != want {
		t.Errorf("provisioned JSON\n%s\nwant\n%s", b, want)
	}
	var back events.Provisioned
	if err := json.Unmarshal(b, &back); err != nil || back.Site.URL != "https://acme.atlassian.net" || !back.RequestedAt.Equal(p.RequestedAt) {
		t.Errorf("provisioned back: %+v, %v", back, err)
	}

	b, err = json.Marshal(events.Ordered{RequestID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	want = `{"requestId":"r","orgId":"","orderId":"","slug":"","provisionRequestId":"","transactionAccountId":"","invoiceGroupId":"","items":[]}`
	if string(b) != want {
		t.Errorf("ordered JSON\n%s\nwant\n%s", b, want)
	}
	o := events.Ordered{RequestID: "r", Items: []events.OrderedItem{{ItemID: "O1", OrderItemID: "x", OfferingID: "y"}}}
	b, _ = json.Marshal(&o)
	var ob events.Ordered
	if err := json.Unmarshal(b, &ob); err != nil || !reflect.DeepEqual(ob, o) {
		t.Errorf("ordered round trip %+v, %v", ob, err)
	}
}
