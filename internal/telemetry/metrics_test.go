package telemetry_test

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/deploy"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
)

// failOnce fails the first delivery of one request, so that JetStream delivers it again.
type failOnce struct {
	id   string
	once sync.Once
}

func (f *failOnce) middleware(next handlers.Handler) handlers.Handler {
	return func(ctx context.Context, d *handlers.Delivery) error {
		failed := false
		if ev, err := events.FromNATS(d.Msg.Headers(), d.Msg.Data()); err == nil && ev.ID() == f.id {
			f.once.Do(func() { failed = true })
		}
		if failed {
			return errors.New("the first delivery fails")
		}
		return next(ctx, d)
	}
}

// TestMetricsAfterJourneys runs a provisioned journey (whose first status poll is answered
// 429 and whose message is delivered twice), an invalid request, and a message that is no
// CloudEvent, then scrapes /metrics.
func TestMetricsAfterJourneys(t *testing.T) {
	redeliver := &failOnce{id: "req-ok"}
	e := newEnv(t, auth{apiKey: "obs-key-3"}, setup{
		sandbox:    []atlassiantest.Option{atlassiantest.WithFault(atlassiantest.EndpointProvisionStatus, atlassiantest.Fault{RateLimit: 1, Times: 1})},
		middleware: []handlers.Middleware{redeliver.middleware},
	})
	e.publish("req-ok", jiraRequest("acme-metrics"), "")
	e.publish("req-bad", obj{"orgId": atlassiantest.OrgID}, "")
	junk := nats.NewMsg(subjects.Requested())
	junk.Data = []byte("not an event")
	e.PublishMsg(junk)

	if got := e.Terminal("req-ok"); got.Event.Type() != subjects.Provisioned() {
		t.Fatalf("req-ok ended %s: %s", got.Event.Type(), got.Raw)
	}
	if got := e.Terminal("req-bad"); got.Event.Type() != subjects.Failed() {
		t.Fatalf("req-bad ended %s", got.Event.Type())
	}
	e.Eventually("the dead letter", func() bool { return len(e.Stream(events.StreamDeadLetter)) == 1 })
	e.quiet()

	text := e.scrape()
	want := []struct {
		series string
		min    float64
		exact  bool
	}{
		{`installer_journeys_started_total`, 2, true},
		{`installer_journeys_succeeded_total`, 1, true},
		{`installer_journeys_failed_total{code="invalid_request",stage="validation"}`, 1, true},
		{`installer_journeys_ordered_total`, 1, true},
		{`installer_journeys_in_flight`, 0, true},
		{`installer_redeliveries_total`, 1, true},
		{`installer_dead_letters_total`, 1, true},
		{`installer_delivery_faults_total{result="retried"}`, 1, true},
		{`installer_provision_order_gap_seconds_count`, 1, true},
		{`installer_step_duration_seconds_count{result="ok",step="lookup"}`, 1, false},
		{`installer_step_duration_seconds_count{result="ok",step="provision"}`, 1, true},
		{`installer_step_duration_seconds_count{result="ok",step="poll"}`, 1, false},
		{`installer_consumer_pending_messages{consumer="installer"}`, 0, true},
		{`installer_consumer_ack_pending_messages{consumer="installer"}`, 0, true},
		{`atlassian_client_requests_total{endpoint="/admin/installations/v2/orgs/{orgId}/products",method="POST",status="200"}`, 1, true},
		{`atlassian_client_requests_total{endpoint="/commerce/api/v2/orders",method="POST",status="200"}`, 1, true},
		{`atlassian_client_requests_total{endpoint="/admin/installations/v2/orgs/{orgId}/products/status/{requestId}",method="GET",status="429"}`, 1, true},
		{`atlassian_client_rate_limited_total{endpoint="/admin/installations/v2/orgs/{orgId}/products/status/{requestId}"}`, 1, true},
		{`atlassian_client_retries_total{endpoint="/admin/installations/v2/orgs/{orgId}/products/status/{requestId}",reason="rate_limited"}`, 1, true},
		{`atlassian_client_request_duration_seconds_count{endpoint="/commerce/api/v2/orders/{orderId}",method="GET"}`, 1, false},
	}
	for _, w := range want {
		v, ok := sample(text, w.series)
		switch {
		case !ok:
			t.Errorf("no sample %s", w.series)
		case w.exact && v != w.min, !w.exact && v < w.min:
			t.Errorf("%s = %v, want %v (exact %v)", w.series, v, w.min, w.exact)
		}
	}
	// Every metric the alert rules and the Grafana dashboards select is in this scrape, which has
	// every metric the installer makes (Prometheus's own "up" aside).
	queries, err := deploy.Queries()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		names, err := q.Metrics()
		if err != nil {
			t.Error(err)
		}
		for _, n := range names {
			if n != "up" && !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(n)+`[{ ]`).MatchString(text) {
				t.Errorf("%s selects %s, which /metrics does not have", q.Where, n)
			}
		}
	}
	// No label carries a raw id: every endpoint label is a template.
	for _, id := range []string{atlassiantest.OrgID, atlassiantest.JiraParentEntitlementID, "req-ok"} {
		if strings.Contains(text, id) {
			t.Errorf("/metrics contains the id %s", id)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", grepLines(text, "installer_|atlassian_"))
	}
}

// sample finds one series' value in a Prometheus text scrape; labels are matched as written
// (the exporter sorts them), the series' own otel scope labels aside.
func sample(text, series string) (float64, bool) {
	name, labels, _ := strings.Cut(series, "{")
	labels = strings.TrimSuffix(labels, "}")
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		key := fields[0]
		n, l, _ := strings.Cut(key, "{")
		if n != name {
			continue
		}
		if !containsLabels(strings.TrimSuffix(l, "}"), labels) {
			continue
		}
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		return v, err == nil
	}
	return 0, false
}

var labelRE = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

func containsLabels(have, want string) bool {
	got := map[string]string{}
	for _, m := range labelRE.FindAllStringSubmatch(have, -1) {
		got[m[1]] = m[2]
	}
	for _, m := range labelRE.FindAllStringSubmatch(want, -1) {
		if got[m[1]] != m[2] {
			return false
		}
	}
	return true
}

func grepLines(text, pattern string) string {
	re := regexp.MustCompile(pattern)
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if re.MatchString(l) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
