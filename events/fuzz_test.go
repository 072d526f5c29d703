package events_test

import (
	"encoding/json"
	"net/textproto"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"

	"github.com/procurement/atlassian-installer/events"
)

// maxPayload is the NATS server's default max_payload: headers and data of one message.
const maxPayload = 1 << 20

var fuzzPub = events.NewPublisher(nil, events.NewSubjects(""), "")

// FuzzDecodeRequest: whatever the data, validation answers in time linear in its size (a
// generous bound on the thread's CPU time, 200 ms and 100 µs a byte, leaving room for the race
// detector and coverage instrumentation), lists at most MaxFieldErrors errors and one counting
// the rest, each message at most MaxMessageLen characters, and either accepts the request, so
// that every outcome can carry it, or refuses it with a failed event that fits.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{productsJSON, appJSON, `{}`, `null`, `[1]`, `{"products":[{},{},{}]}`,
		`{"orgId":"o","adminEmail":"a@b.example","site":{"name":"acme"},"billing":{"transactionAccountId":"t\r\n","invoiceGroupId":"i"},"products":[{"offeringId":"o","chargeElement":"u","quantity":9e18}]}`,
		`{"orgId":"o","adminEmail":"a@b.example","site":{"name":"acme"},"app":{"appKey":"k","offeringId":"o","productAri":"ari:cloud:x","endsAt":1767225600}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r *events.Request
		var err error
		cpu := work(func() {
			r, err = events.DecodeRequest(data, testNow)
			if err == nil {
				err = fuzzPub.CheckOutcomes("req-1", r, nil)
			}
		})
		if limit := 200*time.Millisecond + time.Duration(len(data))*100*time.Microsecond; cpu > limit {
			t.Errorf("%d bytes took %s of CPU, more than %s", len(data), cpu, limit)
		}
		checkAnswer(t, "req-1", r, err, "")
	})
}

// FuzzRequestMessage: a request message in either content mode is dead-lettered, refused with a
// failed event that fits, or accepted; accepted, every outcome event it may publish builds,
// keeps the request id as its subject through NATS's header encoding, and fits NATS's limits.
func FuzzRequestMessage(f *testing.F) {
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	f.Add("req-1", "urn:p", tp, "a=b", []byte(productsJSON), false)
	f.Add("req-1", "urn:p", tp+"\r\n", "", []byte(appJSON), true)
	f.Add(" req ", "urn:p", "", "", []byte(appJSON), true)
	f.Add(strings.Repeat("i", 300), "urn:p", "", "", []byte(`{}`), true)
	f.Add("r\x00", "urn:\n", "00-0-0-0", "A=b", []byte(`{`), false)
	f.Fuzz(func(t *testing.T, id, source, traceparent, tracestate string, data []byte, structured bool) {
		h := nats.Header{}
		var body []byte
		if structured {
			ev := map[string]any{"specversion": "1.0", "id": id, "source": source, "type": events.NewSubjects("").Requested(),
				"traceparent": traceparent, "tracestate": tracestate, "datacontenttype": "application/json"}
			if json.Valid(data) {
				ev["data"] = json.RawMessage(data)
			} else {
				ev["data_base64"] = data
			}
			body, _ = json.Marshal(ev)
			h.Set("Content-Type", events.ContentTypeStructured)
		} else {
			for k, v := range map[string]string{"specversion": "1.0", "id": id, "source": source, "type": events.NewSubjects("").Requested(),
				"traceparent": traceparent, "tracestate": tracestate} {
				h.Set("ce-"+k, v)
			}
			h.Set("Content-Type", "application/json")
			body = data
		}
		ev, err := events.FromNATS(h, body)
		if err != nil || events.CheckRequestEvent(ev) != nil {
			return // dead-lettered
		}
		r, err := events.RequestFromEvent(ev, testNow)
		if err == nil {
			err = fuzzPub.CheckOutcomes(ev.ID(), r, nil)
		}
		checkAnswer(t, ev.ID(), r, err, events.Traceparent(ev))
	})
}

// checkAnswer checks the invariants of a request's answer: a refused request's errors are
// bounded and its failed event fits; an accepted request's largest outcomes fit.
func checkAnswer(t *testing.T, id string, r *events.Request, err error, traceparent string) {
	t.Helper()
	if err != nil {
		ve, ok := err.(*events.ValidationError)
		if !ok {
			t.Fatalf("not a *ValidationError: %T %v", err, err)
		}
		if len(ve.Errors) == 0 || len(ve.Errors) > events.MaxFieldErrors+1 {
			t.Fatalf("%d errors", len(ve.Errors))
		}
		for i, fe := range ve.Errors {
			if utf8.RuneCountInString(fe.Message) > events.MaxMessageLen || fe.Message == "" ||
				(fe.Field == "") != (i == events.MaxFieldErrors && len(ve.Errors) == events.MaxFieldErrors+1) {
				t.Fatalf("error %d: %+v", i, fe)
			}
		}
		orgID := ""
		if r != nil {
			orgID = r.OrgID
		}
		publishable(t, id, fuzzPub, "failed", events.FailedValidation(id, orgID, err), traceparent)
		return
	}
	if r == nil {
		t.Fatal("accepted without a request")
	}
	api := strings.Repeat("A", 256)
	var items []events.OrderedItem
	var ents []events.Entitlement
	offerings := []string{r.FamilyContainerOffering()}
	for _, p := range r.Products {
		offerings = append(offerings, p.OfferingID)
	}
	if r.App != nil {
		offerings = []string{r.App.OfferingID}
	}
	for _, o := range offerings {
		items = append(items, events.OrderedItem{ItemID: "O99", OrderItemID: api, OfferingID: o})
		ents = append(ents, events.Entitlement{OfferingID: o, EntitlementID: api, Version: "1"})
	}
	billing := events.Billing{TransactionAccountID: api, InvoiceGroupID: api}
	if r.Billing != nil {
		billing = *r.Billing
	}
	site := ""
	if r.Site != nil {
		site = r.Site.Name
	}
	publishable(t, id, fuzzPub, "ordered", events.Ordered{RequestID: id, OrgID: r.OrgID, OrderID: api[:36], Slug: api,
		ProvisionRequestID: api, TransactionAccountID: billing.TransactionAccountID, InvoiceGroupID: billing.InvoiceGroupID, Items: items}, traceparent)
	publishable(t, id, fuzzPub, "provisioned", events.Provisioned{RequestID: id, OrgID: r.OrgID, OrderID: api[:36], Slug: api,
		ProvisionRequestID: api, Site: events.NewSiteRef(site), Entitlements: ents, RequestedAt: testNow, CompletedAt: testNow}, traceparent)
	publishable(t, id, fuzzPub, "failed", events.Failed{RequestID: id, OrgID: r.OrgID, Stage: events.StageCompletion,
		Code: events.CodeDeadlineExceeded, Message: strings.Repeat("m", 5000), OrderID: api[:36], ProvisionRequestID: api}, traceparent)
}

// publishable builds the outcome as the installer publishes it and checks that NATS can carry
// it: data within MaxOutcomeData, headers and data within max_payload, and ce-subject as
// nats.go will write it (trimmed, line breaks turned into spaces) still the request id.
func publishable(t *testing.T, id string, p *events.Publisher, kind string, data any, traceparent string) {
	t.Helper()
	s := events.NewSubjects("")
	typ := map[string]string{"ordered": s.Ordered(), "provisioned": s.Provisioned(), "failed": s.Failed()}[kind]
	e, err := p.NewOutcome(id, typ, data, traceparent)
	if err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
	m, err := events.ToNATS(typ, e)
	if err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
	if len(m.Data) > events.MaxOutcomeData {
		t.Fatalf("%s: %d bytes of data", kind, len(m.Data))
	}
	size := len(m.Data) + len("NATS/1.0\r\n\r\n")
	for k, vs := range m.Header {
		for _, v := range vs {
			size += len(k) + len(v) + 4
			if textproto.TrimString(v) != v || strings.ContainsAny(v, "\r\n") {
				t.Fatalf("%s: header %s %q would be changed by nats.go", kind, k, v)
			}
		}
	}
	if size > maxPayload {
		t.Fatalf("%s: %d bytes, more than max_payload", kind, size)
	}
	if got := m.Header.Get("ce-subject"); got != id {
		t.Fatalf("%s: ce-subject %q, want %q", kind, got, id)
	}
}
