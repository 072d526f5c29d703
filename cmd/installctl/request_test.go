package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/events"
)

// validRequest is a new Jira site on the sandbox's default organization.
const validRequest = `{
  "orgId": "2e3b7c1a-5f0d-4a8e-9b6c-1d2e3f4a5b6c",
  "adminEmail": "admin@acme.example",
  "site": { "name": "acme-jira", "create": true, "timezone": "Australia/Sydney" },
  "products": [
    { "offeringId": "799958b5-36bb-4a3d-9289-9fd2986352a7", "family": "jira", "location": "us",
      "chargeElement": "user", "quantity": 100, "parentEntitlementId": "58146793-4749-4db3-8c36-0cd59aa10b50" }
  ]
}`

// invalidRequest is wrong in three places at once.
const invalidRequest = `{
  "orgId": "2e3b7c1a-5f0d-4a8e-9b6c-1d2e3f4a5b6c",
  "adminEmail": "admin@acme.example",
  "site": { "name": "Acme Site", "create": true },
  "products": [ { "offeringId": "799958b5-36bb-4a3d-9289-9fd2986352a7", "chargeElement": "user", "quantity": 0 } ]
}`

func TestRequestInvalidListsEveryFieldAndPublishesNothing(t *testing.T) {
	e := setup(t)
	file := writeFile(t, "bad.json", invalidRequest)

	res := e.run("", "request", file)
	if res.code != exitInvalid {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitInvalid, res.stderr)
	}
	for _, field := range []string{"site.name", "site.timezone", "products[0].quantity"} {
		if !strings.Contains(res.stderr, "  "+field+": ") {
			t.Errorf("stderr does not name %s:\n%s", field, res.stderr)
		}
	}
	if res.stdout != "" {
		t.Errorf("stdout = %q, want nothing", res.stdout)
	}

	res = e.run(invalidRequest, "request", "-", "--json")
	if res.code != exitInvalid {
		t.Fatalf("--json: exit code %d, want %d", res.code, exitInvalid)
	}
	var out struct {
		Kind   string              `json:"kind"`
		Code   string              `json:"code"`
		Errors []events.FieldError `json:"errors"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("--json output %q: %v", res.stdout, err)
	}
	if out.Code != events.CodeInvalidRequest || len(out.Errors) < 3 {
		t.Errorf("--json output = %+v, want invalid_request with 3 or more errors", out)
	}
	if n := e.streamMsgs(events.StreamRequests); n != 0 {
		t.Errorf("%d messages on %s, want none", n, events.StreamRequests)
	}
}

func TestRequestNotJSONIsInvalid(t *testing.T) {
	e := setup(t)
	res := e.run("this is not json", "request", "-")
	if res.code != exitInvalid {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitInvalid, res.stderr)
	}
	if res := e.run("", "request", "/does/not/exist.json"); res.code != exitInvalid || !strings.Contains(res.stderr, "exist.json") {
		t.Errorf("missing file: code %d, stderr %q", res.code, res.stderr)
	}
}

func TestRequestPublishesCloudEvent(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		structured bool
	}{
		{name: "binary"},
		{name: "binary with id and source", args: []string{"--id", "7b0d2c1e-8f5e-4c1a-9d55-2f1c8f0e6a11", "--source", "urn:procurement:test"}},
		{name: "structured", args: []string{"--structured"}, structured: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			res := e.run(validRequest, append([]string{"request", "-"}, tc.args...)...)
			if res.code != exitOK {
				t.Fatalf("exit code %d; stderr:\n%s", res.code, res.stderr)
			}
			id := strings.TrimSpace(res.stdout)
			if _, err := uuid.Parse(id); err != nil && !slices.Contains(tc.args, id) {
				t.Fatalf("printed id %q is neither a UUID nor --id", id)
			}
			if slices.Contains(tc.args, "--id") && id != tc.args[1] {
				t.Fatalf("printed id %q, want --id %q", id, tc.args[1])
			}

			s, err := e.js.Stream(e.ctx, events.StreamRequests)
			if err != nil {
				t.Fatal(err)
			}
			m, err := s.GetMsg(e.ctx, 1)
			if err != nil {
				t.Fatalf("no request on %s: %v", events.StreamRequests, err)
			}
			if m.Subject != e.subj.Requested() {
				t.Errorf("subject %q, want %q", m.Subject, e.subj.Requested())
			}
			if got := m.Header.Get(jetstream.MsgIDHeader); got != id {
				t.Errorf("Nats-Msg-Id %q, want %q", got, id)
			}
			if tc.structured {
				if ct := m.Header.Get("Content-Type"); ct != events.ContentTypeStructured {
					t.Errorf("Content-Type %q, want %q", ct, events.ContentTypeStructured)
				}
			} else if m.Header.Get("ce-specversion") != "1.0" || m.Header.Get("ce-id") != id {
				t.Errorf("binary headers %v, want ce-specversion 1.0 and ce-id %s", m.Header, id)
			}
			ev, err := events.FromNATS(m.Header, m.Data)
			if err != nil {
				t.Fatalf("not a CloudEvent: %v", err)
			}
			wantSource := defaultSource
			if slices.Contains(tc.args, "--source") {
				wantSource = "urn:procurement:test"
			}
			if ev.ID() != id || ev.Type() != e.subj.Requested() || ev.Source() != wantSource || ev.DataContentType() != "application/json" {
				t.Errorf("event id %q type %q source %q datacontenttype %q", ev.ID(), ev.Type(), ev.Source(), ev.DataContentType())
			}
			req, err := events.DecodeRequest(ev.Data(), time.Now())
			if err != nil {
				t.Fatalf("published data does not decode: %v", err)
			}
			if req.Site == nil || req.Site.Name != "acme-jira" || len(req.Products) != 1 {
				t.Errorf("published request %+v", req)
			}
		})
	}
}

func TestRequestDuplicateIDIsReported(t *testing.T) {
	e := setup(t)
	id := "dup-5b0d2c1e"
	for i := range 2 {
		res := e.run(validRequest, "request", "-", "--id", id)
		if res.code != exitOK {
			t.Fatalf("run %d: exit code %d: %s", i, res.code, res.stderr)
		}
		if i == 1 && !strings.Contains(res.stderr, "already published") {
			t.Errorf("second publish: stderr %q does not say it was a duplicate", res.stderr)
		}
	}
	if n := e.streamMsgs(events.StreamRequests); n != 1 {
		t.Errorf("%d messages on %s, want 1", n, events.StreamRequests)
	}
}

func TestRequestWithoutStreamsExplains(t *testing.T) {
	e := setup(t)
	if err := e.js.DeleteStream(e.ctx, events.StreamRequests); err != nil {
		t.Fatal(err)
	}
	res := e.run(validRequest, "request", "-")
	if res.code != exitFailed || !strings.Contains(res.stderr, "installer running") {
		t.Errorf("exit code %d, stderr %q; want 1 and a hint to start the installer", res.code, res.stderr)
	}
}

// TestRequestRefusesWhatTheInstallerWouldNot: a request that passes validation but that the
// installer would refuse — an outcome too large to publish (invalid_request), a dry run whose
// plan is too large, an id the installer would dead-letter — exits 2 naming the field, and
// nothing is published.
func TestRequestRefusesWhatTheInstallerWouldNot(t *testing.T) {
	var req map[string]any
	if err := json.Unmarshal([]byte(validRequest), &req); err != nil {
		t.Fatal(err)
	}
	with := func(change func(map[string]any)) string {
		var r map[string]any
		b, _ := json.Marshal(req)
		_ = json.Unmarshal(b, &r)
		change(r)
		b, _ = json.Marshal(r)
		return string(b)
	}
	longBilling := with(func(r map[string]any) {
		r["billing"] = map[string]any{"transactionAccountId": strings.Repeat("t", 70_000), "invoiceGroupId": "ig-1"}
	})
	manyPlans := with(func(r map[string]any) {
		p := r["products"].([]any)[0].(map[string]any)
		p["pricingPlanId"] = strings.Repeat("p", 200)
		var many []any
		for range 120 {
			many = append(many, p)
		}
		r["products"] = many
	})
	longPromotion := `{"orgId": "o-1", "adminEmail": "admin@acme.example", "site": {"name": "acme", "create": false},
		"app": {"appKey": "com.vendor.app", "offeringId": "off-1", "hostProduct": "jira-software", "promotionCode": "` + strings.Repeat("P", 70_000) + `"}}`
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string // in stderr
	}{
		{"outcome too large", longBilling, []string{"request", "-"}, "billing.transactionAccountId: the ordered event would carry"},
		{"plan too large", manyPlans, []string{"plan", "-", "--timeout", "10s"}, "products: the planned event would carry"},
		{"the same request, not a dry run", manyPlans, []string{"request", "-"}, ""},
		{"plan too large by one value", longPromotion, []string{"plan", "-", "--timeout", "10s"}, "app.promotionCode: the planned event would carry"},
		{"id too long", validRequest, []string{"request", "-", "--id", strings.Repeat("i", 257)}, "request id is 257 characters long"},
		{"id with a line break", validRequest, []string{"request", "-", "--id", "a\r\nb"}, "request id \"a\\r\\nb\" holds a control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			res := e.run(tc.stdin, tc.args...)
			if tc.want == "" { // the same request, not a dry run: the installer would take it
				if res.code != exitOK {
					t.Fatalf("exit code %d, want 0; stderr:\n%s", res.code, res.stderr)
				}
				return
			}
			if res.code != exitInvalid || !strings.Contains(res.stderr, tc.want) {
				t.Fatalf("exit code %d, want %d; stderr (want %q):\n%s", res.code, exitInvalid, tc.want, res.stderr)
			}
			if n := e.streamMsgs(events.StreamRequests); n != 0 {
				t.Errorf("%d messages on %s, want none", n, events.StreamRequests)
			}
		})
	}
}
