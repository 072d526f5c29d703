package telemetry_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
)

// TestNoCredentialAnywhere runs journeys, one provisioned and one refused with 401, with an
// API key and with site-admin basic credentials, logging at debug level, and looks for every
// form of the credentials in the logs, the published events and dead letters, the metrics
// and the spans. It also checks that every journey log line carries request_id and trace_id.
func TestNoCredentialAnywhere(t *testing.T) {
	const (
		apiKey = "ATATT-observability-api-key-7f3c9d"
		email  = "site-admin@acme.example"
		token  = "ATCTT-observability-api-token-51be02"
	)
	basic := base64.StdEncoding.EncodeToString([]byte(email + ":" + token))
	secrets := []string{apiKey, token, basic, base64.StdEncoding.EncodeToString([]byte(token)), base64.StdEncoding.EncodeToString([]byte(apiKey))}

	for _, tc := range []struct {
		name string
		auth auth
	}{
		{"api key", auth{apiKey: apiKey}},
		{"basic", auth{email: email, token: token}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.auth, setup{sandbox: []atlassiantest.Option{
				atlassiantest.WithFault(atlassiantest.EndpointEntitlementDetails, atlassiantest.Fault{Error: 1, ErrorStatus: 401, Times: 1}),
			}})
			e.publish("req-refused", jiraRequest("acme-refused"), requestTrace)
			if got := e.Terminal("req-refused"); !strings.Contains(string(got.Raw), `"unauthorized"`) {
				t.Fatalf("req-refused ended %s: %s", got.Event.Type(), got.Raw)
			}
			e.publish("req-secret", jiraRequest("acme-secret"), requestTrace)
			if got := e.Terminal("req-secret"); got.Event.Type() != subjects.Provisioned() {
				t.Fatalf("req-secret ended %s: %s", got.Event.Type(), got.Raw)
			}
			e.quiet()

			places := map[string]string{"logs": e.logs.String(), "metrics": e.scrape(), "spans": spansText(t, e)}
			for _, stream := range []string{events.StreamEvents, events.StreamDeadLetter} {
				var b strings.Builder
				for _, m := range e.Stream(stream) {
					fmt.Fprintf(&b, "%v\n%s\n", m.Header, m.Raw)
				}
				places[stream] = b.String()
			}
			for where, text := range places {
				for _, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("%s contain a credential (%d chars)", where, len(s))
					}
				}
			}
			checkJourneyLines(t, e.logs.String())
		})
	}
}

// checkJourneyLines: every log line about a request carries its trace id too.
func checkJourneyLines(t *testing.T, logs string) {
	t.Helper()
	journeyLines := 0
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		id, ok := rec["request_id"].(string)
		if !ok {
			continue
		}
		journeyLines++
		if rec["trace_id"] != requestTraceID {
			t.Errorf("log line of %s has trace_id %v, want %s: %s", id, rec["trace_id"], requestTraceID, line)
		}
	}
	if journeyLines == 0 {
		t.Errorf("no log line carries request_id:\n%s", logs)
	}
}

// spansText renders every recorded span's name, attributes and events.
func spansText(t *testing.T, e *env) string {
	t.Helper()
	b, err := json.Marshal(e.spans.GetSpans())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
