package main

// Contract tests: CONTRACT.md checked from outside. Each test runs the installer binary (built
// once) configured by environment variables only, talks to it over NATS only, and uses the
// Atlassian sandbox as the API.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

const (
	ctPrefix      = "atlassian"
	ctRequested   = ctPrefix + ".install.requested"
	ctSource      = "urn:atlassian-installer"
	ctTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
)

// ctEndsAt is a time a year ahead in milliseconds: endsAt must lie in the future.
var ctEndsAt = time.Now().AddDate(1, 0, 0).UnixMilli()

// A bad value in a duration variable stops start-up with a message naming the variable; any
// good one starts.
func TestContractBadDurationStopsStartup(t *testing.T) {
	t.Parallel()
	bin := contractBinary(t)
	good := ctStart(t, ctSandbox(t), map[string]string{
		"INSTALLER_ORDER_WINDOW": "90s", "INSTALLER_POLL_INTERVAL": "2m", "INSTALLER_JOURNEY_TIMEOUT": "3h"})
	good.stop(t)
	for _, name := range []string{"INSTALLER_ORDER_WINDOW", "INSTALLER_POLL_INTERVAL", "INSTALLER_JOURNEY_TIMEOUT"} {
		for _, value := range []string{"soon", "10", "-1m", "0"} {
			cmd := exec.Command(bin)
			cmd.Env = []string{
				name + "=" + value,
				"INSTALLER_DATA_DIR=" + t.TempDir(),
				"INSTALLER_NATS_LISTEN=" + ctFreeAddr(t),
				"INSTALLER_HTTP_ADDR=" + ctFreeAddr(t),
				"ATLASSIAN_API_KEY=" + ctAPIKey,
			}
			var stderr installtest.LogBuffer
			cmd.Stderr, cmd.Stdout = &stderr, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(stderr.String(), name) {
					t.Errorf("%s=%q: exit %v, output:\n%s", name, value, err, stderr.String())
				}
				if strings.Contains(stderr.String(), ctAPIKey) {
					t.Errorf("%s=%q: the API key is in the output", name, value)
				}
			case <-time.After(waitTimeout):
				_ = cmd.Process.Kill()
				<-done
				t.Errorf("%s=%q: the installer started", name, value)
			}
		}
	}
}

// The default configuration end to end: streams, both content modes, outbound events, the
// request id as identity, dead letters, validation, and a restart.
func TestContractDefaultInstaller(t *testing.T) {
	t.Parallel()
	sandbox := ctSandbox(t)
	p := ctStart(t, sandbox, nil)
	o := ctFollow(t, p, ctPrefix, ctSource)
	calls := func() int { return len(sandbox.Requests()) }

	t.Run("streams", func(t *testing.T) { ctCheckStreams(t, p, ctPrefix) })
	t.Run("operator endpoints", func(t *testing.T) { ctCheckOperatorEndpoints(t, p) })

	// Four requests, one per inbound form, each on a new site.
	binaryCT, binaryCE, structCT, structPlain, structJSON, structB64 := uuid.NewString(), uuid.NewString(), uuid.NewString(),
		uuid.NewString(), uuid.NewString(), uuid.NewString()
	sites := map[string]string{}
	for _, id := range []string{binaryCT, binaryCE, structCT, structPlain, structJSON, structB64} {
		sites[id] = ctSiteName()
	}
	p.publishBinary(t, ctRequested, binaryCT, ctRequested, ctNewSiteJira(sites[binaryCT]),
		ctHeader("ce-traceparent", ctTraceparent), ctHeader("Nats-Msg-Id", binaryCT))
	p.publishBinary(t, ctRequested, binaryCE, ctRequested, ctNewSiteJira(sites[binaryCE]),
		ctNoHeader("Content-Type"), ctHeader("ce-datacontenttype", "application/json"))
	structured := func(id string) map[string]any {
		return map[string]any{"specversion": "1.0", "id": id, "source": "urn:contract-test", "type": ctRequested,
			"datacontenttype": "application/json", "traceparent": ctTraceparent, "data": ctNewSiteJira(sites[id])}
	}
	p.publishStructured(t, ctRequested, structured(structCT), ctHeader("Content-Type", "application/cloudevents+json"))
	p.publishStructured(t, ctRequested, structured(structPlain))
	p.publishStructured(t, ctRequested, structured(structJSON), ctHeader("Content-Type", "application/json"))
	b64 := structured(structB64)
	b64["data_base64"] = base64.StdEncoding.EncodeToString(ctJSON(t, b64["data"]))
	delete(b64, "data")
	p.publishStructured(t, ctRequested, b64, ctHeader("Content-Type", "application/cloudevents+json"))

	for name, id := range map[string]string{
		"binary, Content-Type":         binaryCT,
		"binary, ce-datacontenttype":   binaryCE,
		"structured, Content-Type":     structCT,
		"structured, no header":        structPlain,
		"structured, application/json": structJSON,
		"structured, data_base64":      structB64,
	} {
		t.Run("inbound "+name, func(t *testing.T) {
			term := o.stream.waitTerminal(t, ctPrefix, id)
			if term.Subject != ctPrefix+".install.provisioned" {
				t.Fatalf("ended with %s:\n%s", term.Subject, term.Data)
			}
			evs := o.stream.about(id)
			if len(evs) != 2 || evs[0].Subject != ctPrefix+".install.ordered" || evs[0].Seq > evs[1].Seq {
				t.Fatalf("events %v, want ordered then provisioned", evs)
			}
			if evs[0].ce("id") == evs[1].ce("id") {
				t.Errorf("ordered and provisioned share the id %s", evs[0].ce("id"))
			}
			if d := term.dataMap(t); d["site"].(map[string]any)["name"] != sites[id] || d["orgId"] != atlassiantest.OrgID {
				t.Errorf("provisioned: %s", term.Data)
			}
			if id != binaryCE { // every other form carried a traceparent
				for _, e := range evs {
					// The request's trace: the same trace id (the parent span may be the installer's).
					if got := e.ce("traceparent"); len(got) != len(ctTraceparent) || got[:35] != ctTraceparent[:35] {
						t.Errorf("%s: ce-traceparent = %q, want the request's trace %q", e.Subject, got, ctTraceparent)
					}
				}
			}
			if n := ctRequestsFor(sandbox, atlassiantest.EndpointProvisionProducts, sites[id]); n != 1 {
				t.Errorf("%d provisioning requests for the site, want 1", n)
			}
			order := ctCheckOrderFollowsProvisioning(t, sandbox, evs[0].dataMap(t))
			if id == binaryCT {
				ctCheckNewSiteJira(t, sandbox, sites[id], order)
			}
		})
	}

	t.Run("existing site, Jira family", func(t *testing.T) {
		id := uuid.NewString()
		first := calls() // every earlier journey has ended: what follows is this one's
		p.publishBinary(t, ctRequested, id, ctRequested, ctRequest{
			"orgId": atlassiantest.OrgID, "adminEmail": "admin@acme.example",
			"site": map[string]any{"name": atlassiantest.ExistingSiteName, "create": false},
			"products": []any{map[string]any{"offeringId": atlassiantest.JSMOfferingID, "family": "jira", "location": "us",
				"chargeElement": "agent", "quantity": 10, "parentEntitlementId": atlassiantest.JSMParentEntitlementID,
				"pricingPlanId": "8c1ffdde-plan", "endsAt": ctEndsAt, "nextBillingAnchorTimestamp": ctEndsAt}},
		})
		term := o.stream.waitTerminal(t, ctPrefix, id)
		if term.Subject != ctPrefix+".install.provisioned" {
			t.Fatalf("ended with %s:\n%s", term.Subject, term.Data)
		}
		order := ctCheckOrderFollowsProvisioning(t, sandbox, o.stream.about(id)[0].dataMap(t))
		if len(order.Items) != 1 {
			t.Fatalf("order items %+v, want the product alone (the site's family container is reused)", order.Items)
		}
		var family, enterprise bool
		for _, r := range order.Items[0].RelatesFromEntitlements {
			family = family || (r.RelationshipType == "FAMILY_CONTAINER" && r.ReferenceType == "ENTITLEMENT" &&
				r.EntitlementID == atlassiantest.ExistingFamilyContainerEntitlementID)
			enterprise = enterprise || (r.RelationshipType == "ENTERPRISE" && r.ReferenceType == "ENTITLEMENT" &&
				r.EntitlementID == atlassiantest.JSMParentEntitlementID)
		}
		if !family || !enterprise {
			t.Errorf("order relations %+v, want FAMILY_CONTAINER/ENTITLEMENT to the site's container and ENTERPRISE/ENTITLEMENT to the parent",
				order.Items[0].RelatesFromEntitlements)
		}
		it := order.Items[0]
		if u := it.OptedUsageOptions; u == nil || u.ChargingDetails == nil || u.ChargingDetails.PricingPlanID != "8c1ffdde-plan" ||
			u.EffectiveTime == nil || u.EffectiveTime.EndsAt == nil || u.EffectiveTime.EndsAt.Type != "TIMESTAMP" ||
			u.EffectiveTime.EndsAt.EndTimestamp != ctEndsAt || it.NextBillingAnchorTimestamp != ctEndsAt {
			t.Errorf("order item %+v: want pricingPlanId, effectiveTime.endsAt TIMESTAMP in ms and nextBillingAnchorTimestamp", it)
		}
		ctCheckStepOrder(t, sandbox.Requests()[first:], []atlassiantest.Endpoint{
			atlassiantest.EndpointEntitlementDetails, atlassiantest.EndpointWorkspaces,
		}, atlassiantest.EndpointProvisionProducts)
	})

	t.Run("app journey", func(t *testing.T) {
		id := uuid.NewString()
		first := calls() // every earlier journey has ended: what follows is this one's
		p.publishBinary(t, ctRequested, id, ctRequested, ctRequest{
			"orgId": atlassiantest.OrgID, "adminEmail": "admin@acme.example",
			"site": map[string]any{"name": atlassiantest.ExistingSiteName, "create": false},
			"app": map[string]any{"appKey": atlassiantest.AppKey, "offeringId": atlassiantest.AppOfferingID,
				"hostProduct": "jira-software", "chargeElement": "user", "quantity": 100,
				"promotionCode": atlassiantest.PromotionCode, "skipTrial": true},
		})
		if term := o.stream.waitTerminal(t, ctPrefix, id); term.Subject != ctPrefix+".install.provisioned" {
			t.Fatalf("ended with %s:\n%s", term.Subject, term.Data)
		}
		order := ctCheckOrderFollowsProvisioning(t, sandbox, o.stream.about(id)[0].dataMap(t))
		if len(order.Items) != 1 {
			t.Fatalf("order items %+v, want the app alone", order.Items)
		}
		ctCheckStepOrder(t, sandbox.Requests()[first:], []atlassiantest.Endpoint{
			atlassiantest.EndpointWorkspaces, atlassiantest.EndpointProductEntitlements, atlassiantest.EndpointEntitlementDetails,
		}, atlassiantest.EndpointProvisionApp)
		for _, r := range sandbox.RequestsTo(atlassiantest.EndpointProvisionApp) {
			var pr client.ProvisionRequest
			if err := json.Unmarshal([]byte(r.Body), &pr); err != nil || len(pr.Offerings) != 1 || pr.Offerings[0].ID != atlassiantest.AppOfferingID ||
				pr.Parameters.AdminEmail != "admin@acme.example" || pr.Parameters.AppKey != atlassiantest.AppKey ||
				!strings.Contains(r.Path, "/products/"+atlassiantest.ExistingJiraProductARI+"/apps") {
				t.Errorf("app provisioning %s %s, want offerings[{id}] and parameters adminEmail and appKey on the host's ARI", r.Path, r.Body)
			}
		}
		it := order.Items[0]
		dep := false
		for _, r := range it.RelatesFromEntitlements {
			dep = dep || (r.RelationshipType == "APP_DEPENDENCE" && r.ReferenceType == "ENTITLEMENT" &&
				r.EntitlementID == atlassiantest.ExistingFamilyContainerEntitlementID)
		}
		if !dep || len(it.Promotions) == 0 || it.OptedUsageOptions == nil || it.OptedUsageOptions.Trial == nil ||
			!it.OptedUsageOptions.Trial.SkipTrial || it.NextBillingAnchorTimestamp != atlassiantest.BillingAnchorTimestamp {
			t.Errorf("app order item %+v: want APP_DEPENDENCE/ENTITLEMENT to the family container, the promotion, trial.skipTrial and the billing anchor", it)
		}
	})

	t.Run("app by product ARI on a Confluence host", func(t *testing.T) {
		id := uuid.NewString()
		first := calls() // every earlier journey has ended: what follows is this one's
		p.publishBinary(t, ctRequested, id, ctRequested, ctRequest{
			"orgId": atlassiantest.OrgID, "adminEmail": "admin@acme.example",
			"site": map[string]any{"name": atlassiantest.ExistingSiteName, "create": false},
			"app": map[string]any{"appKey": atlassiantest.AppKey, "offeringId": atlassiantest.AppOfferingID,
				"productAri": atlassiantest.ExistingConfluenceProductARI, "chargeElement": "user", "quantity": 10},
		})
		if term := o.stream.waitTerminal(t, ctPrefix, id); term.Subject != ctPrefix+".install.provisioned" {
			t.Fatalf("ended with %s:\n%s", term.Subject, term.Data)
		}
		for _, r := range sandbox.Requests()[first:] {
			if r.Endpoint == atlassiantest.EndpointWorkspaces {
				t.Errorf("a workspaces query though app.productAri was given")
			}
		}
		order := ctCheckOrderFollowsProvisioning(t, sandbox, o.stream.about(id)[0].dataMap(t))
		dep := false
		for _, r := range order.Items[0].RelatesFromEntitlements {
			dep = dep || (r.RelationshipType == "APP_DEPENDENCE" && r.ReferenceType == "ENTITLEMENT" &&
				r.EntitlementID == atlassiantest.ExistingConfluenceEntitlementID)
		}
		if !dep {
			t.Errorf("app order item %+v, want APP_DEPENDENCE/ENTITLEMENT to the Confluence entitlement", order.Items[0])
		}
	})

	t.Run("existing site without Jira orders a family container", func(t *testing.T) {
		site := ctSiteName()
		conf := uuid.NewString()
		p.publishBinary(t, ctRequested, conf, ctRequested, ctRequest{
			"orgId": atlassiantest.OrgID, "adminEmail": "admin@acme.example",
			"site": map[string]any{"name": site, "create": true, "timezone": "Europe/Berlin"},
			"products": []any{map[string]any{"offeringId": atlassiantest.ConfluenceOfferingID, "location": "eu",
				"chargeElement": "user", "quantity": 5, "parentEntitlementId": atlassiantest.ConfluenceParentEntitlementID}},
		})
		if term := o.stream.waitTerminal(t, ctPrefix, conf); term.Subject != ctPrefix+".install.provisioned" {
			t.Fatalf("Confluence ended with %s:\n%s", term.Subject, term.Data)
		}
		id := uuid.NewString()
		r := ctNewSiteJira(site)
		r["site"] = map[string]any{"name": site, "create": false}
		p.publishBinary(t, ctRequested, id, ctRequested, r, ctHeader("ce-traceparent", ctTraceparent))
		if term := o.stream.waitTerminal(t, ctPrefix, id); term.Subject != ctPrefix+".install.provisioned" {
			t.Fatalf("Jira ended with %s:\n%s", term.Subject, term.Data)
		}
		order := ctCheckOrderFollowsProvisioning(t, sandbox, o.stream.about(id)[0].dataMap(t))
		var offerings []string
		for _, it := range order.Items {
			offerings = append(offerings, it.OfferingID)
		}
		slices.Sort(offerings)
		want := []string{atlassiantest.JiraFamilyContainerOfferingID, atlassiantest.JiraOfferingID}
		slices.Sort(want)
		if !slices.Equal(offerings, want) {
			t.Errorf("order offerings %v, want a new family container and Jira", offerings)
		}
	})

	t.Run("same id again after the outcome", func(t *testing.T) {
		before, sentBefore := calls(), len(o.published(binaryCT))
		// A different Nats-Msg-Id, so JetStream does not drop it, in both modes.
		seq := p.publishBinary(t, ctRequested, binaryCT, ctRequested, ctNewSiteJira(sites[binaryCT]),
			ctHeader("Nats-Msg-Id", "again-"+binaryCT))
		p.waitSettled(t, seq)
		st := structured(structCT)
		seq = p.publishStructured(t, ctRequested, st, ctHeader("Nats-Msg-Id", "again-"+structCT))
		p.waitSettled(t, seq)
		if n := calls(); n != before {
			t.Errorf("%d Atlassian calls for a repeated request id, want none: %v", n-before, sandbox.Requests()[before:])
		}
		if n := len(o.published(binaryCT)); n != sentBefore {
			t.Errorf("%d events published again for a repeated request id, want none", n-sentBefore)
		}
		if n := len(o.published(structCT)); n != 2 {
			t.Errorf("%d events for the structured request, want ordered and provisioned once", n)
		}
	})

	t.Run("dead letters", func(t *testing.T) {
		before := calls()
		otherType := uuid.NewString()
		cases := []struct {
			name   string
			data   []byte
			header nats.Header
		}{
			{"bytes", []byte("\x00\xffnot an event\r\n{"), nats.Header{"X-Producer": {"legacy"}}},
			{"json without specversion", []byte(`{"orgId":"` + atlassiantest.OrgID + `"}`), nats.Header{"Content-Type": {"application/json"}}},
			{"binary event of another type", []byte(`{"orgId":"x"}`), nats.Header{
				"ce-specversion": {"1.0"}, "ce-id": {otherType}, "ce-source": {"urn:contract-test"},
				"ce-type": {ctPrefix + ".install.cancelled"}, "Content-Type": {"application/json"}}},
			{"structured event of another type", ctJSON(t, map[string]any{"specversion": "1.0", "id": uuid.NewString(),
				"source": "urn:contract-test", "type": "com.example.other", "data": ctNewSiteJira(ctSiteName())}),
				nats.Header{"Content-Type": {"application/cloudevents+json"}}},
		}
		var last uint64
		for _, c := range cases {
			last = p.publishRaw(t, ctRequested, c.data, c.header)
		}
		installtest.EventuallyWithin(t, waitTimeout, "the dead letters", func() bool { return len(o.dead.all()) >= len(cases) })
		p.waitSettled(t, last)
		dead := o.dead.all()
		if len(dead) != len(cases) {
			t.Fatalf("%d dead letters, want %d", len(dead), len(cases))
		}
		for _, c := range cases {
			i := slices.IndexFunc(dead, func(m ctMsg) bool { return string(m.Data) == string(c.data) })
			if i < 0 {
				t.Errorf("%s: no dead letter with the original body %q", c.name, c.data)
				continue
			}
			m := dead[i]
			if m.Subject != ctPrefix+".install.deadletter" || string(m.Data) != string(c.data) {
				t.Errorf("%s: dead letter on %s with body %q, want the original %q", c.name, m.Subject, m.Data, c.data)
			}
			if m.Header.Get("Installer-Error") == "" {
				t.Errorf("%s: no Installer-Error header: %v", c.name, m.Header)
			}
			for k := range c.header {
				if m.Header.Get(k) != c.header.Get(k) {
					t.Errorf("%s: header %s = %q, want the original %q", c.name, k, m.Header.Get(k), c.header.Get(k))
				}
			}
		}
		if n := len(o.published(otherType)); n != 0 {
			t.Errorf("an event of another type got %d outcome events", n)
		}
		if n := calls(); n != before {
			t.Errorf("%d Atlassian calls for dead letters", n-before)
		}
	})

	t.Run("invalid data", func(t *testing.T) {
		before := calls()
		id := uuid.NewString()
		p.publishBinary(t, ctRequested, id, ctRequested, ctRequest{
			"orgId": atlassiantest.OrgID,
			"site":  map[string]any{"name": "Bad_Site", "create": true},
			"products": []any{
				map[string]any{"offeringId": atlassiantest.JiraOfferingID, "chargeElement": "user", "quantity": 0},
				map[string]any{"chargeElement": "user", "quantity": "ten"},
			},
			"billing": map[string]any{"transactionAccountId": atlassiantest.TransactionAccountID, "invoiceGroupId": atlassiantest.InvoiceGroupID},
		})
		// Any CloudEvent id is a request id.
		odd := "req #42: ünïcode/" + uuid.NewString()
		p.publishBinary(t, ctRequested, odd, ctRequested, ctRequest{"orgId": atlassiantest.OrgID}, ctHeader("ce-traceparent", ctTraceparent))
		if dd := o.stream.waitFailed(t, ctPrefix, odd, "validation", "invalid_request"); dd["requestId"] != odd {
			t.Errorf("requestId %v, want %q", dd["requestId"], odd)
		}
		if got := o.stream.about(odd)[0].ce("traceparent"); len(got) != len(ctTraceparent) || got[:35] != ctTraceparent[:35] {
			t.Errorf("failed event: ce-traceparent %q, want the request's trace", got)
		}
		d := o.stream.waitFailed(t, ctPrefix, id, "validation", "invalid_request")
		want := []string{"adminEmail", "products[0].quantity", "products[1].offeringId", "products[1].quantity", "site.name", "site.timezone"}
		if got := ctErrorFields(d); !slices.Equal(got, want) {
			t.Errorf("errors name %v, want every wrong field %v", got, want)
		}
		if d["orgId"] != atlassiantest.OrgID || d["retryable"] != false {
			t.Errorf("failed event: %v", d)
		}

		for name, data := range map[string]any{
			"not JSON": []byte("orgId=1"),
			"both products and app": func() ctRequest {
				r := ctNewSiteJira(ctSiteName())
				r["app"] = map[string]any{"appKey": atlassiantest.AppKey, "offeringId": atlassiantest.AppOfferingID, "hostProduct": "jira-software"}
				return r
			}(),
			"neither billing nor parent": func() ctRequest {
				r := ctNewSiteJira(ctSiteName())
				delete(r["products"].([]any)[0].(map[string]any), "parentEntitlementId")
				return r
			}(),
			"no site": func() ctRequest {
				r := ctNewSiteJira(ctSiteName())
				delete(r, "site")
				return r
			}(),
			"bad timezone": func() ctRequest {
				r := ctNewSiteJira(ctSiteName())
				r["site"].(map[string]any)["timezone"] = "Mars/Olympus_Mons"
				return r
			}(),
			"app by product ARI with no site": ctRequest{
				"orgId": atlassiantest.OrgID, "adminEmail": "admin@acme.example",
				"app": map[string]any{"appKey": atlassiantest.AppKey, "offeringId": atlassiantest.AppOfferingID,
					"productAri": atlassiantest.ExistingConfluenceProductARI, "chargeElement": "user", "quantity": 10},
			},
		} {
			id := uuid.NewString()
			p.publishBinary(t, ctRequested, id, ctRequested, data)
			d := o.stream.waitFailed(t, ctPrefix, id, "validation", "invalid_request")
			if len(ctErrorFields(d)) == 0 {
				t.Errorf("%s: no field named: %v", name, d)
			}
			if strings.HasSuffix(name, "no site") && !slices.Equal(ctErrorFields(d), []string{"site.name"}) {
				t.Errorf("a request without a site names %v, want the required site.name", ctErrorFields(d))
			}
		}
		if n := calls(); n != before {
			t.Errorf("%d Atlassian calls for invalid requests: %v", n-before, sandbox.Requests()[before:])
		}
	})

	// A restart, under this test so that the new process lives on: the journeys are kept, and
	// so is an operator's change to a stream.
	st, err := p.js.Stream(context.Background(), ctStreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	cfg.MaxAge = 48 * time.Hour
	if _, err := p.js.UpdateStream(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	o.check(t)
	prev := o.stream.about(binaryCT)
	p = p.restart(t)
	o = ctFollow(t, p, ctPrefix, ctSource)

	t.Run("after a restart", func(t *testing.T) {
		ctCheckStreams(t, p, ctPrefix)
		if st, err := p.js.Stream(context.Background(), ctStreamEvents); err != nil || st.CachedInfo().Config.MaxAge != 48*time.Hour {
			t.Errorf("the existing events stream was changed at start-up: %v", err)
		}
		before := calls()
		seq := p.publishBinary(t, ctRequested, binaryCT, ctRequested, ctNewSiteJira(sites[binaryCT]),
			ctHeader("Nats-Msg-Id", "after-restart-"+binaryCT))
		p.waitSettled(t, seq)
		if n := calls(); n != before {
			t.Errorf("%d Atlassian calls for a repeated request id after a restart", n-before)
		}
		if n := len(o.published(binaryCT)); n != 0 {
			t.Errorf("%d events published for a repeated request id after a restart", n)
		}
		// The stored outcomes are the same events, ids unchanged.
		installtest.EventuallyWithin(t, waitTimeout, "the stored events", func() bool { return len(o.stream.about(binaryCT)) == len(prev) })
		for i, m := range o.stream.about(binaryCT) {
			if m.ce("id") != prev[i].ce("id") {
				t.Errorf("event %d id %s, was %s", i, m.ce("id"), prev[i].ce("id"))
			}
		}
	})
	t.Run("same id twice at once", func(t *testing.T) {
		id, site := uuid.NewString(), ctSiteName()
		p.publishBinary(t, ctRequested, id, ctRequested, ctNewSiteJira(site), ctHeader("Nats-Msg-Id", "first-"+id))
		// The second message may wait for the journey of the first to end, and then for its
		// redelivery: only what happened by the outcome is checked here, and o.check counts
		// the outcomes published by the end of the test.
		p.publishBinary(t, ctRequested, id, ctRequested, ctNewSiteJira(site), ctHeader("Nats-Msg-Id", "second-"+id))
		o.stream.waitTerminal(t, ctPrefix, id)
		if n := ctRequestsFor(sandbox, atlassiantest.EndpointProvisionProducts, site); n != 1 {
			t.Errorf("%d provisioning requests, want 1", n)
		}
		prid := o.stream.about(id)[0].dataMap(t)["provisionRequestId"].(string)
		if n := ctRequestsFor(sandbox, atlassiantest.EndpointCreateOrder, prid); n != 1 {
			t.Errorf("%d orders, want 1", n)
		}
	})
	o.check(t)
}

// A custom subject prefix and source, with site-admin credentials instead of an API key.
func TestContractCustomPrefixAndSource(t *testing.T) {
	t.Parallel()
	const prefix, source, email, token = "acme.procure", "urn:acme:installer", "admin@acme.example", "ct-token-8d2f4a1b"
	sandbox := ctSandbox(t, atlassiantest.WithBasicAuth(email, token))
	// An external NATS server, with a password, where an operator has created the events
	// stream already.
	const natsPassword = "ct-nats-pass-61c2"
	natsURL := ctNATSWithPassword(t, "installer", natsPassword)
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: ctStreamEvents, Description: "operator's",
		Subjects: []string{prefix + ".install.ordered", prefix + ".install.provisioned", prefix + ".install.failed", prefix + ".install.planned"},
		MaxAge:   72 * time.Hour, Duplicates: time.Minute}); err != nil {
		t.Fatal(err)
	}
	p := ctStart(t, sandbox, map[string]string{
		"NATS_URL":                 "nats://" + ctFreeAddr(t) + "," + natsURL,
		"INSTALLER_SUBJECT_PREFIX": prefix, "INSTALLER_SOURCE": source,
		"ATLASSIAN_API_KEY": "", "ATLASSIAN_EMAIL": email, "ATLASSIAN_API_TOKEN": token,
	})
	o := ctFollow(t, p, prefix, source)
	ctCheckStreams(t, p, prefix)
	if st, err := p.js.Stream(context.Background(), ctStreamEvents); err != nil || st.CachedInfo().Config.MaxAge != 72*time.Hour ||
		st.CachedInfo().Config.Description != "operator's" {
		t.Errorf("the existing events stream was changed at start-up: %v", err)
	}
	requested := prefix + ".install.requested"

	ok, bad, defaultType := uuid.NewString(), uuid.NewString(), uuid.NewString()
	p.publishBinary(t, requested, ok, requested, ctNewSiteJira(ctSiteName()))
	p.publishBinary(t, requested, bad, requested, ctRequest{"orgId": atlassiantest.OrgID})
	// The default prefix's type is another type here.
	p.publishBinary(t, requested, defaultType, ctRequested, ctNewSiteJira(ctSiteName()))

	if term := o.stream.waitTerminal(t, prefix, ok); term.Subject != prefix+".install.provisioned" {
		t.Fatalf("ended with %s:\n%s", term.Subject, term.Data)
	}
	o.stream.waitFailed(t, prefix, bad, "validation", "invalid_request")
	installtest.EventuallyWithin(t, waitTimeout, "the dead letter", func() bool { return len(o.dead.all()) == 1 })
	if dl := o.dead.all()[0]; dl.Subject != prefix+".install.deadletter" || dl.ce("id") != defaultType {
		t.Errorf("dead letter on %s of %s", dl.Subject, dl.ce("id"))
	}
	for _, r := range sandbox.Requests() {
		if a := r.Header.Get("Authorization"); !strings.HasPrefix(a, "Basic ") {
			t.Errorf("%s %s with Authorization %q, want Basic", r.Method, r.Path, a)
		}
	}
	o.check(t, token, natsPassword)
	p.secrets = append(p.secrets, natsPassword)
}

// Failures the sandbox can cause, one journey after another on one installer.
func TestContractFailureCodes(t *testing.T) {
	t.Parallel()
	sandbox := ctSandbox(t)
	// Site-admin credentials too: the API key is used when set.
	const token = "ct-unused-token-3e7a"
	p := ctStart(t, sandbox, map[string]string{"ATLASSIAN_EMAIL": "admin@acme.example", "ATLASSIAN_API_TOKEN": token})
	o := ctFollow(t, p, ctPrefix, ctSource)

	run := func(t *testing.T, req ctRequest, stage, code string, status int, fault map[atlassiantest.Endpoint]atlassiantest.Fault) map[string]any {
		t.Helper()
		sandbox.ClearFaults()
		for e, f := range fault {
			sandbox.SetFault(e, f)
		}
		id := uuid.NewString()
		p.publishBinary(t, ctRequested, id, ctRequested, req)
		d := o.stream.waitFailed(t, ctPrefix, id, stage, code)
		if d["httpStatus"] != float64(status) {
			t.Errorf("httpStatus = %v, want %d", d["httpStatus"], status)
		}
		return d
	}
	known := func(t *testing.T, d map[string]any, keys ...string) {
		t.Helper()
		for _, k := range keys {
			if !ctString(d, k) {
				t.Errorf("%s is not given though known: %v", k, d)
			}
		}
	}

	t.Run("forbidden", func(t *testing.T) {
		run(t, ctNewSiteJira(ctSiteName()), "lookup", "forbidden", 403,
			map[atlassiantest.Endpoint]atlassiantest.Fault{atlassiantest.EndpointEntitlementDetails: {Error: 1, ErrorStatus: 403}})
	})
	t.Run("not_found", func(t *testing.T) {
		r := ctNewSiteJira(ctSiteName())
		r["products"].([]any)[0].(map[string]any)["parentEntitlementId"] = uuid.NewString()
		run(t, r, "lookup", "not_found", 404, nil)
	})
	t.Run("api_error", func(t *testing.T) {
		site := ctSiteName()
		run(t, ctNewSiteJira(site), "provision", "api_error", 500,
			map[atlassiantest.Endpoint]atlassiantest.Fault{atlassiantest.EndpointProvisionProducts: {Error: 1, ErrorStatus: 500}})
		if n := ctRequestsFor(sandbox, atlassiantest.EndpointProvisionProducts, site); n != 1 {
			t.Errorf("the provisioning request was sent %d times, want once", n)
		}
	})
	t.Run("provision_failed", func(t *testing.T) {
		d := run(t, ctNewSiteJira(ctSiteName()), "provision", "provision_failed", 0,
			map[atlassiantest.Endpoint]atlassiantest.Fault{atlassiantest.EndpointProvisionProducts: {ProvisionFails: true}})
		known(t, d, "provisionRequestId", "orderId")
	})
	t.Run("order_rejected", func(t *testing.T) {
		r := ctNewSiteJira(ctSiteName())
		r["billing"] = map[string]any{"transactionAccountId": uuid.NewString(), "invoiceGroupId": uuid.NewString()}
		d := run(t, r, "order", "order_rejected", 400, nil)
		known(t, d, "provisionRequestId")
	})
	t.Run("order_failed", func(t *testing.T) {
		d := run(t, ctNewSiteJira(ctSiteName()), "order", "order_failed", 0,
			map[atlassiantest.Endpoint]atlassiantest.Fault{atlassiantest.EndpointCreateOrder: {OrderItemsFail: true}})
		known(t, d, "provisionRequestId", "orderId")
	})
	t.Run("order answer lost: re-sent with the same orderId", func(t *testing.T) {
		sandbox.ClearFaults()
		sandbox.SetFault(atlassiantest.EndpointCreateOrder, atlassiantest.Fault{Ambiguous: 1, Times: 1})
		id := uuid.NewString()
		p.publishBinary(t, ctRequested, id, ctRequested, ctNewSiteJira(ctSiteName()))
		if term := o.stream.waitTerminal(t, ctPrefix, id); term.Subject != ctPrefix+".install.provisioned" {
			t.Fatalf("ended with %s:\n%s", term.Subject, term.Data)
		}
		ordered := o.stream.about(id)[0].dataMap(t)
		prid := ordered["provisionRequestId"].(string)
		var ids []string
		for _, r := range sandbox.RequestsTo(atlassiantest.EndpointCreateOrder) {
			var req client.OrderRequest
			if json.Unmarshal([]byte(r.Body), &req) == nil && req.Metadata.ProvisionRequestID == prid {
				ids = append(ids, req.OrderID)
			}
		}
		if distinct := slices.Compact(slices.Clone(ids)); len(ids) < 2 || len(distinct) != 1 || distinct[0] != ordered["orderId"] {
			t.Errorf("orders sent with orderIds %v, want the first re-sent with the same orderId %v", ids, ordered["orderId"])
		}
	})
	t.Run("provisioning answer lost: never sent twice", func(t *testing.T) {
		sandbox.ClearFaults()
		sandbox.SetFault(atlassiantest.EndpointProvisionProducts, atlassiantest.Fault{Ambiguous: 1, Times: 1})
		id, site := uuid.NewString(), ctSiteName()
		p.publishBinary(t, ctRequested, id, ctRequested, ctNewSiteJira(site))
		o.stream.waitTerminal(t, ctPrefix, id)
		if n := ctRequestsFor(sandbox, atlassiantest.EndpointProvisionProducts, site); n != 1 {
			t.Errorf("the provisioning request was sent %d times, want once", n)
		}
	})
	t.Run("503 with Retry-After and 429 pass", func(t *testing.T) {
		sandbox.ClearFaults()
		sandbox.SetFault(atlassiantest.EndpointEntitlementDetails, atlassiantest.Fault{Error: 1, ErrorStatus: 503, RetryAfter: time.Second, Times: 1})
		sandbox.SetFault(atlassiantest.EndpointCreateOrder, atlassiantest.Fault{RateLimit: 1, RetryAfter: time.Second, Times: 1})
		id := uuid.NewString()
		p.publishBinary(t, ctRequested, id, ctRequested, ctNewSiteJira(ctSiteName()))
		if term := o.stream.waitTerminal(t, ctPrefix, id); term.Subject != ctPrefix+".install.provisioned" {
			t.Fatalf("ended with %s:\n%s", term.Subject, term.Data)
		}
	})
	sandbox.ClearFaults()
	for _, r := range sandbox.Requests() {
		if a := r.Header.Get("Authorization"); a != "Bearer "+atlassiantest.Redacted {
			t.Errorf("%s %s with Authorization %q, want the API key as Bearer", r.Method, r.Path, a)
			break
		}
	}
	o.check(t, token)
}

// A 429 storm ends in rate_limited, after Retry-After was honoured.
func TestContractRateLimited(t *testing.T) {
	t.Parallel()
	sandbox := ctSandbox(t, atlassiantest.WithFault(atlassiantest.EndpointEntitlementDetails,
		atlassiantest.Fault{RateLimit: 1, RetryAfter: time.Second}))
	p := ctStart(t, sandbox, nil)
	o := ctFollow(t, p, ctPrefix, ctSource)
	id := uuid.NewString()
	p.publishBinary(t, ctRequested, id, ctRequested, ctNewSiteJira(ctSiteName()))
	d := o.stream.waitFailed(t, ctPrefix, id, "lookup", "rate_limited")
	if d["httpStatus"] != float64(429) || d["retryable"] != true {
		t.Errorf("failed event: %v", d)
	}
	if n := len(sandbox.RequestsTo(atlassiantest.EndpointProvisionProducts)); n != 0 {
		t.Errorf("%d provisioning requests after a failed look-up", n)
	}
	o.check(t)
}

// No order once INSTALLER_ORDER_WINDOW has passed; a journey not done by
// INSTALLER_JOURNEY_TIMEOUT fails with deadline_exceeded.
func TestContractOrderWindowAndDeadline(t *testing.T) {
	t.Parallel()
	// Provisioning never completes within the test.
	sandbox := ctSandbox(t, atlassiantest.WithProvisionDelay(time.Hour))
	p := ctStart(t, sandbox, map[string]string{"INSTALLER_ORDER_WINDOW": "1s", "INSTALLER_JOURNEY_TIMEOUT": "3s",
		"INSTALLER_CONCURRENCY": "1"})
	o := ctFollow(t, p, ctPrefix, ctSource)

	t.Run("order_window_expired", func(t *testing.T) {
		sandbox.SetFault(atlassiantest.EndpointProvisionProducts, atlassiantest.Fault{Latency: 2 * time.Second, Times: 1})
		id := uuid.NewString()
		p.publishBinary(t, ctRequested, id, ctRequested, ctNewSiteJira(ctSiteName()))
		o.stream.waitFailed(t, ctPrefix, id, "order", "order_window_expired")
		if n := len(sandbox.RequestsTo(atlassiantest.EndpointCreateOrder)); n != 0 {
			t.Errorf("%d orders sent after the window", n)
		}
	})
	t.Run("deadline_exceeded", func(t *testing.T) {
		id, other := uuid.NewString(), uuid.NewString()
		p.publishBinary(t, ctRequested, id, ctRequested, ctNewSiteJira(ctSiteName()))
		installtest.EventuallyWithin(t, waitTimeout, "the first ordered event", func() bool { return len(o.stream.about(id)) > 0 })
		// With one slot, a journey waiting between polls must leave it to the next journey:
		// that one is ordered while the first still waits.
		p.publishBinary(t, ctRequested, other, ctRequested, ctNewSiteJira(ctSiteName()))
		d := o.stream.waitFailed(t, ctPrefix, id, "completion", "deadline_exceeded")
		o.stream.waitFailed(t, ctPrefix, other, "completion", "deadline_exceeded")
		if first, second := o.stream.about(id), o.stream.about(other); second[0].Subject != ctPrefix+".install.ordered" || second[0].Seq > first[1].Seq {
			t.Errorf("with INSTALLER_CONCURRENCY=1 the second journey was ordered only after the first ended: %v %v", first, second)
		}
		for _, k := range []string{"orderId", "provisionRequestId"} {
			if !ctString(d, k) {
				t.Errorf("%s is not given though known: %v", k, d)
			}
		}
		if evs := o.stream.about(id); len(evs) != 2 || evs[0].Subject != ctPrefix+".install.ordered" {
			t.Errorf("events: %v", evs)
		}
	})
	o.check(t)
}

// A statusUrl on another host or port is never called; the journey fails.
func TestContractStatusURLGuard(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(elsewhere.Close)
	sandbox := ctSandbox(t, atlassiantest.WithPublicURL(elsewhere.URL))
	p := ctStart(t, sandbox, map[string]string{"INSTALLER_DATA_DIR": ""})
	if fi, err := os.Stat(filepath.Join(p.dir, "data")); err != nil || !fi.IsDir() {
		t.Errorf("no ./data store in the working directory: %v", err)
	}
	o := ctFollow(t, p, ctPrefix, ctSource)
	id := uuid.NewString()
	p.publishBinary(t, ctRequested, id, ctRequested, ctNewSiteJira(ctSiteName()))
	if term := o.stream.waitTerminal(t, ctPrefix, id); term.Subject != ctPrefix+".install.failed" {
		t.Fatalf("ended with %s", term.Subject)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the foreign statusUrl was called %d times", n)
	}
	o.check(t)
}

// No Atlassian call follows a redirect with the credentials.
func TestContractNoCredentialsOnRedirect(t *testing.T) {
	t.Parallel()
	sandbox := ctSandbox(t)
	var redirected atomic.Int64
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		redirected.Add(1)
		http.Redirect(w, r, sandbox.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	p := ctStart(t, sandbox, map[string]string{"ATLASSIAN_API_URL": redirector.URL})
	o := ctFollow(t, p, ctPrefix, ctSource)
	id := uuid.NewString()
	p.publishBinary(t, ctRequested, id, ctRequested, ctNewSiteJira(ctSiteName()))
	if term := o.stream.waitTerminal(t, ctPrefix, id); term.Subject != ctPrefix+".install.failed" {
		t.Fatalf("ended with %s", term.Subject)
	}
	if redirected.Load() == 0 {
		t.Fatal("the installer never called the API")
	}
	for _, r := range sandbox.Requests() {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("%s %s reached through a redirect carried Authorization", r.Method, r.Path)
		}
	}
	o.check(t)
}

// A wrong API key fails with unauthorized and never shows; outbound ids are deterministic: a
// fresh installer gives the same request's outcome the same id.
func TestContractUnauthorizedAndDeterministicIDs(t *testing.T) {
	t.Parallel()
	const wrong = "ct-wrong-key-0b9e6f"
	sandbox := ctSandbox(t)
	id := uuid.NewString()
	var first string
	for round := range 2 {
		p := ctStart(t, sandbox, map[string]string{"ATLASSIAN_API_KEY": wrong})
		o := ctFollow(t, p, ctPrefix, ctSource)
		p.publishBinary(t, ctRequested, id, ctRequested, ctNewSiteJira(ctSiteName()))
		d := o.stream.waitFailed(t, ctPrefix, id, "lookup", "unauthorized")
		if d["httpStatus"] != float64(401) {
			t.Errorf("httpStatus = %v, want 401", d["httpStatus"])
		}
		evID := o.stream.about(id)[0].ce("id")
		if round == 0 {
			first = evID
		} else if evID != first {
			t.Errorf("the failed event of the same request has id %s on a fresh installer, was %s", evID, first)
		}
		o.check(t, wrong)
		p.stop(t)
	}
}

// A crash (SIGKILL) while one journey's provisioning request is unanswered and another journey
// polls: after the restart each journey ends once, ordered at most once and before provisioned,
// with one order each and the same event ids whatever process publishes them.
func TestContractCrash(t *testing.T) {
	t.Parallel()
	sandbox := ctSandbox(t, atlassiantest.WithProvisionDelay(time.Second))
	target, _ := url.Parse(sandbox.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var hold atomic.Bool
	hold.Store(true)
	held := make(chan struct{}, 16)
	var provisions atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/products") {
			provisions.Add(1)
			if hold.Load() {
				// Never answered: the installer dies waiting. Reading the body lets the server
				// notice the connection closing.
				_, _ = io.Copy(io.Discard, r.Body)
				held <- struct{}{}
				<-r.Context().Done()
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	// A short ack wait (INSTALLER_ACK_WAIT) brings the crashed journeys back within seconds.
	p := ctStart(t, sandbox, map[string]string{"ATLASSIAN_API_URL": front.URL, "INSTALLER_ACK_WAIT": "2s"})
	o := ctFollow(t, p, ctPrefix, ctSource)

	// Journey B is ordered and polls; then journey A's provisioning request hangs.
	hold.Store(false)
	b, siteB := uuid.NewString(), ctSiteName()
	p.publishBinary(t, ctRequested, b, ctRequested, ctNewSiteJira(siteB))
	installtest.EventuallyWithin(t, waitTimeout, "B's ordered event", func() bool { return len(o.stream.about(b)) > 0 })
	hold.Store(true)
	a, siteA := uuid.NewString(), ctSiteName()
	p.publishBinary(t, ctRequested, a, ctRequested, ctNewSiteJira(siteA))
	select {
	case <-held:
	case <-time.After(waitTimeout):
		t.Fatal("A's provisioning request never came")
	}
	p.kill(t)
	hold.Store(false)

	p = ctRun(t, p.env, p.dir)
	o = ctFollow(t, p, ctPrefix, ctSource)
	for _, id := range []string{a, b} {
		// A journey resumes on the message's redelivery, after the consumer's ack wait, and a
		// step cut short by the crash waits for its lease (twice the ack wait) to run out too.
		installtest.EventuallyWithin(t, time.Minute, "the terminal event of "+id, func() bool {
			return len(o.stream.where(func(m ctMsg) bool { return m.ce("subject") == id && m.Subject != ctPrefix+".install.ordered" })) > 0
		})
		if term := o.stream.waitTerminal(t, ctPrefix, id); term.Subject != ctPrefix+".install.provisioned" {
			t.Fatalf("%s ended with %s:\n%s", id, term.Subject, term.Data)
		}
		var seq []string
		for _, m := range o.stream.about(id) {
			seq = append(seq, m.Subject)
		}
		if !slices.Equal(seq, []string{ctPrefix + ".install.ordered", ctPrefix + ".install.provisioned"}) {
			t.Errorf("%s: stored events %v, want ordered then provisioned once each", id, seq)
		}
	}
	for _, site := range []string{siteA, siteB} {
		if n := ctRequestsFor(sandbox, atlassiantest.EndpointProvisionProducts, site); n != 1 {
			t.Errorf("site %s: %d provisioning requests reached the API", site, n)
		}
	}
	if n := provisions.Load(); n > 3 {
		t.Errorf("%d provisioning requests sent for two journeys, want at most one re-sent after the crash", n)
	}
	for _, id := range []string{a, b} {
		ordered := o.stream.about(id)[0].dataMap(t)
		ctCheckOrderFollowsProvisioning(t, sandbox, ordered)
	}
}

// Every provisioning and order item status of the contract, produced by rewriting the sandbox's
// answers on their way to the installer.
func TestContractStatuses(t *testing.T) {
	t.Parallel()
	sandbox := ctSandbox(t)
	target, _ := url.Parse(sandbox.URL)
	var provMap, itemMap atomic.Pointer[map[string]string]
	// once: rewrite only the first answer, so that an unknown status is seen whatever the timing.
	var once, rewritten atomic.Bool
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		var m map[string]string
		var at func(body map[string]any) []map[string]any
		switch path := resp.Request.URL.Path; {
		case resp.Request.Method == http.MethodGet && strings.Contains(path, "/products/status/"):
			m = *provMap.Load()
			at = func(body map[string]any) []map[string]any {
				d, _ := body["data"].(map[string]any)
				return []map[string]any{d}
			}
		case resp.Request.Method == http.MethodGet && strings.Contains(path, "/commerce/api/v2/orders/"):
			m = *itemMap.Load()
			at = func(body map[string]any) []map[string]any {
				var out []map[string]any
				items, _ := body["items"].([]any)
				for _, it := range items {
					if im, ok := it.(map[string]any); ok {
						pi, _ := im["processingInfo"].(map[string]any)
						out = append(out, pi)
					}
				}
				return out
			}
		default:
			return nil
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return err
		}
		var body map[string]any
		if json.Unmarshal(b, &body) == nil && resp.StatusCode == http.StatusOK {
			var change []map[string]any
			for _, obj := range at(body) {
				if st, ok := obj["status"].(string); ok && m[st] != "" {
					change = append(change, obj)
				}
			}
			if len(change) > 0 && !(once.Load() && rewritten.Swap(true)) {
				for _, obj := range change {
					obj["status"] = m[obj["status"].(string)]
				}
				b, _ = json.Marshal(body)
			}
		}
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", fmt.Sprint(len(b)))
		return nil
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	p := ctStart(t, sandbox, map[string]string{"ATLASSIAN_API_URL": front.URL})
	o := ctFollow(t, p, ctPrefix, ctSource)

	for _, tt := range []struct {
		name        string
		prov, items map[string]string
		code        string // "" for provisioned
		once        bool
	}{
		{"provisioning SUCCESS", map[string]string{"COMPLETED": "SUCCESS"}, nil, "", false},
		{"provisioning TIMED_OUT", map[string]string{"IN_PROGRESS": "TIMED_OUT", "COMPLETED": "TIMED_OUT"}, nil, "provision_failed", false},
		{"provisioning CANCELLED", map[string]string{"IN_PROGRESS": "CANCELLED", "COMPLETED": "CANCELLED"}, nil, "provision_failed", false},
		{"provisioning FAILED", map[string]string{"IN_PROGRESS": "FAILED", "COMPLETED": "FAILED"}, nil, "provision_failed", false},
		{"unknown provisioning status runs on", map[string]string{"IN_PROGRESS": "QUEUED_FOR_CONTRACT", "COMPLETED": "QUEUED_FOR_CONTRACT"}, nil, "", true},
		{"item REJECTED", nil, map[string]string{"PROCESSING": "REJECTED", "SUCCESS": "REJECTED"}, "order_failed", false},
		{"item CANCELLED", nil, map[string]string{"PROCESSING": "CANCELLED", "SUCCESS": "CANCELLED"}, "order_failed", false},
		{"item FAILED", nil, map[string]string{"PROCESSING": "FAILED", "SUCCESS": "FAILED"}, "order_failed", false},
		{"unknown item status runs on", nil, map[string]string{"PROCESSING": "PENDING_FOR_CONTRACT", "SUCCESS": "PENDING_FOR_CONTRACT"}, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			provMap.Store(&tt.prov)
			itemMap.Store(&tt.items)
			once.Store(tt.once)
			rewritten.Store(false)
			id := uuid.NewString()
			p.publishBinary(t, ctRequested, id, ctRequested, ctNewSiteJira(ctSiteName()))
			term := o.stream.waitTerminal(t, ctPrefix, id)
			switch {
			case tt.code == "" && term.Subject != ctPrefix+".install.provisioned":
				t.Fatalf("ended with %s:\n%s", term.Subject, term.Data)
			case tt.code != "":
				if d := term.dataMap(t); term.Subject != ctPrefix+".install.failed" || d["code"] != tt.code {
					t.Fatalf("ended with %s %s, want failed %s", term.Subject, term.Data, tt.code)
				}
			}
		})
	}
	empty := map[string]string{}
	provMap.Store(&empty)
	itemMap.Store(&empty)
	for _, status := range []string{"QUEUED_FOR_CONTRACT", "PENDING_FOR_CONTRACT"} {
		if n := strings.Count(p.stderr.String(), status); n != 1 {
			t.Errorf("the unknown status %s is logged %d times, want once", status, n)
		}
	}
	o.check(t)
}

// No order is sent once INSTALLER_ORDER_WINDOW has passed, also while the order is being retried
// after 429s: three 429s with Retry-After 1s put a fourth attempt at least 3s after the
// provisioning request, past a 1s window, so an accepted order would break the rule.
func TestContractNoOrderAfterWindowDuringRetries(t *testing.T) {
	t.Parallel()
	sandbox := ctSandbox(t, atlassiantest.WithFault(atlassiantest.EndpointCreateOrder,
		atlassiantest.Fault{RateLimit: 1, RetryAfter: time.Second, Times: 3}))
	p := ctStart(t, sandbox, map[string]string{"INSTALLER_ORDER_WINDOW": "1s"})
	o := ctFollow(t, p, ctPrefix, ctSource)
	id := uuid.NewString()
	p.publishBinary(t, ctRequested, id, ctRequested, ctNewSiteJira(ctSiteName()))
	term := o.stream.waitTerminal(t, ctPrefix, id)
	var accepted int
	for _, r := range sandbox.RequestsTo(atlassiantest.EndpointCreateOrder) {
		if r.Status == http.StatusOK {
			accepted++
		}
	}
	if accepted != 0 || term.Subject != ctPrefix+".install.failed" || term.dataMap(t)["code"] != "order_window_expired" {
		t.Errorf("an order was accepted %d times, at least 3s after the provisioning request with a 1s window; the journey ended %s %s, want failed order_window_expired",
			accepted, term.Subject, term.Data)
	}
	o.check(t)
}

// A graceful restart (SIGTERM) while a journey polls, on an external NATS server that outlives
// the process: the next process finishes the journey, with no second provisioning request or
// order, and ordered is not published again. (With the embedded server the journey resumes too,
// after the consumer's ack wait, since the server restarts with the process.)
func TestContractGracefulRestartMidJourney(t *testing.T) {
	t.Parallel()
	sandbox := ctSandbox(t, atlassiantest.WithProvisionDelay(2*time.Second))
	p := ctStart(t, sandbox, map[string]string{"NATS_URL": ctNATSWithPassword(t, "installer", "ct-restart-pass-1f0b")})
	o := ctFollow(t, p, ctPrefix, ctSource)
	id, site := uuid.NewString(), ctSiteName()
	p.publishBinary(t, ctRequested, id, ctRequested, ctNewSiteJira(site))
	installtest.EventuallyWithin(t, waitTimeout, "the ordered event", func() bool { return len(o.stream.about(id)) > 0 })
	first := o.stream.about(id)[0]

	p = p.restart(t)
	o = ctFollow(t, p, ctPrefix, ctSource)
	if term := o.stream.waitTerminal(t, ctPrefix, id); term.Subject != ctPrefix+".install.provisioned" {
		t.Fatalf("ended with %s:\n%s", term.Subject, term.Data)
	}
	evs := o.stream.about(id)
	if len(evs) != 2 || evs[0].ce("id") != first.ce("id") || evs[0].Seq != first.Seq {
		t.Errorf("stored events %v, want the first process's ordered then provisioned", evs)
	}
	for _, m := range o.published(id) {
		if m.Subject != ctPrefix+".install.provisioned" {
			t.Errorf("%s published again after the restart", m.Subject)
		}
	}
	if n := ctRequestsFor(sandbox, atlassiantest.EndpointProvisionProducts, site); n != 1 {
		t.Errorf("%d provisioning requests, want 1", n)
	}
	ctCheckOrderFollowsProvisioning(t, sandbox, first.dataMap(t))
}

// A journey not finished by INSTALLER_JOURNEY_TIMEOUT fails with deadline_exceeded, also while a
// call is retried: two 429s with Retry-After 2s on the order put its acceptance at least 4s after
// the journey began, past a 2s timeout (and a 1s order window, which must fit in it). An order
// that was accepted is announced all the same: ordered means "the order was accepted".
func TestContractJourneyTimeoutDuringRetries(t *testing.T) {
	t.Parallel()
	sandbox := ctSandbox(t, atlassiantest.WithFault(atlassiantest.EndpointCreateOrder,
		atlassiantest.Fault{RateLimit: 1, RetryAfter: 2 * time.Second, Times: 2}))
	p := ctStart(t, sandbox, map[string]string{"INSTALLER_JOURNEY_TIMEOUT": "2s", "INSTALLER_ORDER_WINDOW": "1s"})
	o := ctFollow(t, p, ctPrefix, ctSource)
	id := uuid.NewString()
	p.publishBinary(t, ctRequested, id, ctRequested, ctNewSiteJira(ctSiteName()))
	term := o.stream.waitTerminal(t, ctPrefix, id)
	if term.Subject != ctPrefix+".install.failed" || term.dataMap(t)["code"] != "deadline_exceeded" {
		t.Errorf("the journey ended %s %s at least 4s after it began, want failed deadline_exceeded after 2s", term.Subject, term.Data)
	}
	accepted := 0
	for _, r := range sandbox.RequestsTo(atlassiantest.EndpointCreateOrder) {
		if r.Status == http.StatusOK {
			accepted++
		}
	}
	o.check(t)
	if evs := o.stream.about(id); accepted > 0 && evs[0].Subject != ctPrefix+".install.ordered" {
		t.Errorf("the order was accepted, but no ordered event came before %s", term.Data)
	}
}
