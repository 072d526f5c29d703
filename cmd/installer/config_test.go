package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/handlers/calls"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func parse(t *testing.T, vars map[string]string, args ...string) (Config, error) {
	t.Helper()
	c, _, err := parseConfig(newFlagSet("test", io.Discard), defaultConfig(), args, env(vars))
	return c, err
}

func TestConfigDefaults(t *testing.T) {
	c, err := parse(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := defaultConfig()
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
	// The contract's defaults, spelled out.
	checks := []struct {
		name     string
		got, exp any
	}{
		{"NATS_URL", len(c.NATSURLs), 0},
		{"INSTALLER_DATA_DIR", c.DataDir, "./data"},
		{"ATLASSIAN_API_URL", c.APIURL, "https://api.atlassian.com"},
		{"INSTALLER_SUBJECT_PREFIX", c.SubjectPrefix, "atlassian"},
		{"INSTALLER_SOURCE", c.Source, "urn:atlassian-installer"},
		{"INSTALLER_STREAM_REPLICAS", c.Replicas, 1},
		{"INSTALLER_CONCURRENCY", c.Concurrency, 64},
		{"INSTALLER_ORDER_WINDOW", c.OrderWindow, 10 * time.Minute},
		{"INSTALLER_POLL_INTERVAL", c.PollInterval, 5 * time.Second},
		{"INSTALLER_JOURNEY_TIMEOUT", c.JourneyTimeout, 2 * time.Hour},
		{"INSTALLER_HTTP_ADDR", c.HTTPAddr, "127.0.0.1:8080"},
		{"INSTALLER_ACK_WAIT", c.AckWait, 30 * time.Second},
		{"INSTALLER_ORDER_CALL_TIMEOUT", c.OrderRetry.CallTimeout, time.Minute},
		{"INSTALLER_ORDER_RETRY_ATTEMPTS", c.OrderRetry.Attempts, 5},
		{"INSTALLER_ORDER_RETRY_BACKOFF", c.OrderRetry.Backoff, 500 * time.Millisecond},
		{"INSTALLER_ORDER_RETRY_MAX_BACKOFF", c.OrderRetry.MaxBackoff, 30 * time.Second},
		{"INSTALLER_ORDER_RETRY_WAIT", c.OrderRetry.Wait, 5 * time.Second},
		{"INSTALLER_ORDER_RETRY_MAX_WAIT", c.OrderRetry.MaxWait, time.Minute},
		{"embedded listen", c.NATSListen, "127.0.0.1:4222"},
	}
	for _, ch := range checks {
		if ch.got != ch.exp {
			t.Errorf("%s default = %v, want %v", ch.name, ch.got, ch.exp)
		}
	}
	if !c.Embedded() {
		t.Error("no NATS_URL should mean the embedded server")
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	creds := filepath.Join(t.TempDir(), "user.creds")
	if err := os.WriteFile(creds, []byte("creds"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := parse(t, map[string]string{
		"NATS_URL":                     "nats://a:4222, nats://b:4222",
		"NATS_CREDS":                   creds,
		"INSTALLER_DATA_DIR":           "/var/lib/installer",
		"INSTALLER_NATS_LISTEN":        "0.0.0.0:4333",
		"ATLASSIAN_API_URL":            "https://proxy.example/atlassian/",
		"ATLASSIAN_API_KEY":            "key-1",
		"ATLASSIAN_EMAIL":              "admin@acme.example",
		"ATLASSIAN_API_TOKEN":          "token-1",
		"INSTALLER_SUBJECT_PREFIX":     "acme.atlassian",
		"INSTALLER_SOURCE":             "urn:acme:installer",
		"INSTALLER_STREAM_REPLICAS":    "3",
		"INSTALLER_CONCURRENCY":        "8",
		"INSTALLER_ORDER_WINDOW":       "5m",
		"INSTALLER_POLL_INTERVAL":      "2s",
		"INSTALLER_MAX_POLL_INTERVAL":  "30s",
		"INSTALLER_JOURNEY_TIMEOUT":    "90m",
		"INSTALLER_DRAIN_TIMEOUT":      "10s",
		"INSTALLER_ACK_WAIT":           "2s",
		"INSTALLER_ORDER_CALL_TIMEOUT": "20s",
		"INSTALLER_EVENTS_MAX_AGE":     "24h",
		"INSTALLER_DEADLETTER_MAX_AGE": "48h",
		"INSTALLER_JOURNEY_RETENTION":  "1h",
		"INSTALLER_DUPLICATE_HORIZON":  "8760h",
		"INSTALLER_HTTP_ADDR":          ":9090",
		"INSTALLER_API_RATE_LIMITS":    "orders=300, quotes=0",
		"INSTALLER_LOG_LEVEL":          "debug",
		"INSTALLER_LOG_FORMAT":         "text",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		NATSURLs:        []string{"nats://a:4222", "nats://b:4222"},
		NATSCreds:       creds,
		NATSListen:      "0.0.0.0:4333",
		DataDir:         "/var/lib/installer",
		APIURL:          "https://proxy.example/atlassian",
		APIKey:          "key-1",
		Email:           "admin@acme.example",
		APIToken:        "token-1",
		SubjectPrefix:   "acme.atlassian",
		Source:          "urn:acme:installer",
		Replicas:        3,
		Concurrency:     8,
		OrderWindow:     5 * time.Minute,
		PollInterval:    2 * time.Second,
		MaxPollInterval: 30 * time.Second,
		JourneyTimeout:  90 * time.Minute,
		DrainTimeout:    10 * time.Second,
		AckWait:         2 * time.Second,
		// The waits follow the polling intervals.
		OrderRetry:       calls.OrderRetry{CallTimeout: 20 * time.Second, Attempts: 5, Backoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second, Wait: 2 * time.Second, MaxWait: 30 * time.Second},
		EventsMaxAge:     24 * time.Hour,
		DeadLetterMaxAge: 48 * time.Hour,
		JourneyRetention: time.Hour,
		DuplicateHorizon: 8760 * time.Hour,
		HTTPAddr:         ":9090",
		RateLimits: map[client.Family]int{client.FamilyInstallations: 0, client.FamilyWorkspaces: 0,
			client.FamilyEntitlementDetails: 3000, client.FamilyOrders: 300, client.FamilyQuotes: 0,
			client.FamilyPromotions: 0, client.FamilyCSM: 0},
		LogLevel:  slog.LevelDebug,
		LogFormat: "text",
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
}

func TestConfigFlagsOverrideEnvironment(t *testing.T) {
	c, err := parse(t, map[string]string{"INSTALLER_CONCURRENCY": "8", "INSTALLER_ORDER_WINDOW": "5m"},
		"--concurrency", "4", "-order-window=1m", "--nats-url", "nats://x:4222")
	if err != nil {
		t.Fatal(err)
	}
	if c.Concurrency != 4 || c.OrderWindow != time.Minute || len(c.NATSURLs) != 1 {
		t.Fatalf("flags did not win: %+v", c)
	}
}

func TestConfigPositionalArgumentsAmongFlags(t *testing.T) {
	_, rest, err := parseConfig(newFlagSet("test", io.Discard), defaultConfig(),
		[]string{"a.json", "--concurrency=2", "b.json"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rest, []string{"a.json", "b.json"}) {
		t.Fatalf("rest = %q", rest)
	}
}

// Every variable's bad value stops start-up with a message naming the variable.
func TestConfigBadValues(t *testing.T) {
	tests := []struct {
		vars map[string]string
		name string // the variable the error must name
	}{
		{map[string]string{"NATS_URL": "http://a:4222"}, "NATS_URL"},
		{map[string]string{"NATS_URL": "nats://ok:4222,not a url"}, "NATS_URL"},
		{map[string]string{"NATS_URL": " , "}, "NATS_URL"},
		{map[string]string{"NATS_CREDS": "/does/not/exist.creds"}, "NATS_CREDS"},
		{map[string]string{"NATS_NKEY": "/does/not/exist.nk"}, "NATS_NKEY"},
		{map[string]string{"NATS_CA": "/does/not/exist.pem"}, "NATS_CA"},
		{map[string]string{"NATS_CERT": "/does/not/exist.pem"}, "NATS_CERT"},
		{map[string]string{"NATS_KEY": "/does/not/exist.pem"}, "NATS_KEY"},
		{map[string]string{"NATS_INBOX_PREFIX": "_INBOX.>", "NATS_URL": "nats://a:4222"}, "NATS_INBOX_PREFIX"},
		{map[string]string{"NATS_INBOX_PREFIX": "_INBOX_installer"}, "NATS_INBOX_PREFIX"}, // embedded server
		{map[string]string{"NATS_CONTEXT": "../prod"}, "NATS_CONTEXT"},
		{map[string]string{"NATS_CONTEXT": "prod"}, "NATS_CONTEXT"}, // no such context
		{map[string]string{"INSTALLER_DATA_DIR": "  "}, "INSTALLER_DATA_DIR"},
		{map[string]string{"INSTALLER_NATS_LISTEN": "4222"}, "INSTALLER_NATS_LISTEN"},
		{map[string]string{"ATLASSIAN_API_URL": "api.atlassian.com"}, "ATLASSIAN_API_URL"},
		{map[string]string{"ATLASSIAN_API_URL": "ftp://api.atlassian.com"}, "ATLASSIAN_API_URL"},
		{map[string]string{"ATLASSIAN_API_URL": "https://u:p@api.atlassian.com"}, "ATLASSIAN_API_URL"},
		{map[string]string{"ATLASSIAN_EMAIL": "admin@acme.example"}, "ATLASSIAN_API_TOKEN"},
		{map[string]string{"ATLASSIAN_API_TOKEN": "t"}, "ATLASSIAN_EMAIL"},
		{map[string]string{"ATLASSIAN_CREDENTIALS_FILE": "/does/not/exist.json"}, "ATLASSIAN_CREDENTIALS_FILE"},
		{map[string]string{"INSTALLER_SUBJECT_PREFIX": "atl*"}, "INSTALLER_SUBJECT_PREFIX"},
		{map[string]string{"INSTALLER_SUBJECT_PREFIX": "a..b"}, "INSTALLER_SUBJECT_PREFIX"},
		{map[string]string{"INSTALLER_SOURCE": " urn:x"}, "INSTALLER_SOURCE"},
		{map[string]string{"INSTALLER_STREAM_REPLICAS": "0"}, "INSTALLER_STREAM_REPLICAS"},
		{map[string]string{"INSTALLER_STREAM_REPLICAS": "7"}, "INSTALLER_STREAM_REPLICAS"},
		{map[string]string{"INSTALLER_CONCURRENCY": "many"}, "INSTALLER_CONCURRENCY"},
		{map[string]string{"INSTALLER_CONCURRENCY": "-1"}, "INSTALLER_CONCURRENCY"},
		{map[string]string{"INSTALLER_ORDER_WINDOW": "10"}, "INSTALLER_ORDER_WINDOW"},
		{map[string]string{"INSTALLER_ORDER_WINDOW": "11m"}, "INSTALLER_ORDER_WINDOW"},
		{map[string]string{"INSTALLER_JOURNEY_TIMEOUT": "10m"}, "INSTALLER_JOURNEY_TIMEOUT"},
		{map[string]string{"INSTALLER_POLL_INTERVAL": "-5s"}, "INSTALLER_POLL_INTERVAL"},
		{map[string]string{"INSTALLER_MAX_POLL_INTERVAL": "soon"}, "INSTALLER_MAX_POLL_INTERVAL"},
		{map[string]string{"INSTALLER_POLL_INTERVAL": "2m", "INSTALLER_MAX_POLL_INTERVAL": "1m"}, "INSTALLER_MAX_POLL_INTERVAL"},
		{map[string]string{"INSTALLER_JOURNEY_TIMEOUT": "0s"}, "INSTALLER_JOURNEY_TIMEOUT"},
		{map[string]string{"INSTALLER_ORDER_CALL_TIMEOUT": "0s"}, "INSTALLER_ORDER_CALL_TIMEOUT"},
		{map[string]string{"INSTALLER_ORDER_CALL_TIMEOUT": "11m"}, "INSTALLER_ORDER_CALL_TIMEOUT"},
		{map[string]string{"INSTALLER_ORDER_RETRY_ATTEMPTS": "0"}, "INSTALLER_ORDER_RETRY_ATTEMPTS"},
		{map[string]string{"INSTALLER_ORDER_RETRY_ATTEMPTS": "few"}, "INSTALLER_ORDER_RETRY_ATTEMPTS"},
		{map[string]string{"INSTALLER_ORDER_RETRY_BACKOFF": "-1s"}, "INSTALLER_ORDER_RETRY_BACKOFF"},
		{map[string]string{"INSTALLER_ORDER_RETRY_MAX_BACKOFF": "30"}, "INSTALLER_ORDER_RETRY_MAX_BACKOFF"},
		{map[string]string{"INSTALLER_ORDER_RETRY_BACKOFF": "2s", "INSTALLER_ORDER_RETRY_MAX_BACKOFF": "1s"}, "INSTALLER_ORDER_RETRY_MAX_BACKOFF"},
		{map[string]string{"INSTALLER_ORDER_RETRY_WAIT": "0s"}, "INSTALLER_ORDER_RETRY_WAIT"},
		{map[string]string{"INSTALLER_ORDER_RETRY_MAX_WAIT": "soon"}, "INSTALLER_ORDER_RETRY_MAX_WAIT"},
		{map[string]string{"INSTALLER_ORDER_RETRY_WAIT": "20s", "INSTALLER_ORDER_RETRY_MAX_WAIT": "10s"}, "INSTALLER_ORDER_RETRY_MAX_WAIT"},
		{map[string]string{"INSTALLER_POLL_INTERVAL": "30s", "INSTALLER_ORDER_RETRY_MAX_WAIT": "10s"}, "INSTALLER_ORDER_RETRY_MAX_WAIT"},
		{map[string]string{"INSTALLER_DRAIN_TIMEOUT": "1 minute"}, "INSTALLER_DRAIN_TIMEOUT"},
		{map[string]string{"INSTALLER_ACK_WAIT": "30"}, "INSTALLER_ACK_WAIT"},
		{map[string]string{"INSTALLER_ACK_WAIT": "500ms"}, "INSTALLER_ACK_WAIT"},
		{map[string]string{"INSTALLER_EVENTS_MAX_AGE": "0s"}, "INSTALLER_EVENTS_MAX_AGE"},
		{map[string]string{"INSTALLER_DEADLETTER_MAX_AGE": "30d"}, "INSTALLER_DEADLETTER_MAX_AGE"},
		{map[string]string{"INSTALLER_JOURNEY_RETENTION": "500ms"}, "INSTALLER_JOURNEY_RETENTION"},
		{map[string]string{"INSTALLER_DUPLICATE_HORIZON": "never"}, "INSTALLER_DUPLICATE_HORIZON"},
		{map[string]string{"INSTALLER_DUPLICATE_HORIZON": "24h", "INSTALLER_JOURNEY_RETENTION": "48h"}, "INSTALLER_DUPLICATE_HORIZON"},
		{map[string]string{"INSTALLER_API_RATE_LIMITS": "orders"}, "INSTALLER_API_RATE_LIMITS"},
		{map[string]string{"INSTALLER_API_RATE_LIMITS": "orders=fast"}, "INSTALLER_API_RATE_LIMITS"},
		{map[string]string{"INSTALLER_API_RATE_LIMITS": "orders=-1"}, "INSTALLER_API_RATE_LIMITS"},
		{map[string]string{"INSTALLER_API_RATE_LIMITS": "order=600"}, "INSTALLER_API_RATE_LIMITS"},
		{map[string]string{"INSTALLER_API_RATE_LIMITS": "orders=600,orders=300"}, "INSTALLER_API_RATE_LIMITS"},
		{map[string]string{"INSTALLER_API_RATE_LIMITS": "Off"}, "INSTALLER_API_RATE_LIMITS"},
		{map[string]string{"INSTALLER_HTTP_ADDR": "localhost"}, "INSTALLER_HTTP_ADDR"},
		{map[string]string{"INSTALLER_HTTP_ADDR": "127.0.0.1:99999"}, "INSTALLER_HTTP_ADDR"},
		{map[string]string{"INSTALLER_LOG_LEVEL": "loud"}, "INSTALLER_LOG_LEVEL"},
		{map[string]string{"INSTALLER_LOG_FORMAT": "xml"}, "INSTALLER_LOG_FORMAT"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.vars), func(t *testing.T) {
			_, err := parse(t, tt.vars)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.HasPrefix(err.Error(), tt.name+":") {
				t.Fatalf("error %q does not name %s", err, tt.name)
			}
		})
	}
}

// INSTALLER_API_RATE_LIMITS: the documented quotas by default, a family left out keeps its
// default, off lifts every limit; the start-up log writes them back as the variable reads them.
func TestConfigRateLimits(t *testing.T) {
	tests := []struct{ value, want string }{
		{"", "entitlement-details=3000,orders=600,quotes=600"},
		{"orders=120", "entitlement-details=3000,orders=120,quotes=600"},
		{" quotes = 60 , entitlement-details=0 ", "orders=600,quotes=60"},
		{"off", "off"},
		{"installations=100", "installations=100,entitlement-details=3000,orders=600,quotes=600"},
	}
	for _, tt := range tests {
		c, err := parse(t, map[string]string{"INSTALLER_API_RATE_LIMITS": tt.value})
		if err != nil {
			t.Fatalf("%q: %v", tt.value, err)
		}
		if got := formatRateLimits(c.RateLimits); got != tt.want {
			t.Errorf("%q: limits %s, want %s", tt.value, got, tt.want)
		}
	}
	c, err := parse(t, nil, "--api-rate-limits", "off")
	if err != nil || formatRateLimits(c.RateLimits) != "off" {
		t.Errorf("flag: limits %v, err %v", c.RateLimits, err)
	}
}

// Every setting is covered by TestConfigBadValues or has no bad value (secrets, email).
func TestConfigEverySettingTested(t *testing.T) {
	noBadValue := map[string]bool{"ATLASSIAN_API_KEY": true}
	src, err := os.ReadFile("config_test.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		if !noBadValue[s.env] && !bytes.Contains(src, []byte(`{map[string]string{"`+s.env+`": `)) {
			t.Errorf("no bad-value test for %s", s.env)
		}
	}
}

// INSTALLER_ACK_WAIT reaches the journeys' configuration, by variable or flag.
func TestConfigAckWait(t *testing.T) {
	c, err := parse(t, map[string]string{"INSTALLER_ACK_WAIT": "2s"})
	if err != nil || handlerConfig(c, nil).AckWait != 2*time.Second {
		t.Fatalf("ack wait %s, err %v", c.AckWait, err)
	}
	c, err = parse(t, map[string]string{"INSTALLER_ACK_WAIT": "2s"}, "--ack-wait=1m")
	if err != nil || c.AckWait != time.Minute {
		t.Fatalf("flag: ack wait %s, err %v", c.AckWait, err)
	}
	if _, err := parse(t, nil, "--ack-wait=0s"); err == nil || !strings.Contains(err.Error(), "INSTALLER_ACK_WAIT") {
		t.Fatalf("a zero ack wait: err %v", err)
	}
}

func TestConfigBadFlagNamesVariable(t *testing.T) {
	_, err := parse(t, nil, "--concurrency=zero")
	if err == nil || !strings.Contains(err.Error(), "INSTALLER_CONCURRENCY") {
		t.Fatalf("err = %v", err)
	}
}

func TestConfigSecretsHaveNoFlags(t *testing.T) {
	for _, s := range settings {
		if (s.env == "ATLASSIAN_API_KEY" || s.env == "ATLASSIAN_API_TOKEN") && s.flag != "" {
			t.Errorf("%s has flag %q: a command line is visible to every user", s.env, s.flag)
		}
	}
}

// A NATS URL's password never reaches an error message.
func TestConfigNATSURLErrorHidesValue(t *testing.T) {
	_, err := parse(t, map[string]string{"NATS_URL": "nats://ok:4222,http://user:hunter2@bad"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
}

func TestConfigLogValueRedacts(t *testing.T) {
	c, err := parse(t, map[string]string{
		"ATLASSIAN_API_KEY":   "key-hunter2",
		"ATLASSIAN_EMAIL":     "admin@acme.example",
		"ATLASSIAN_API_TOKEN": "token-hunter2",
		"NATS_URL":            "nats://user:pw-hunter2@nats:4222,nats://token-hunter2@nats2:4222",
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "config", c)
	fmt.Fprintf(&buf, "%v %+v %#v %s %q %x", c, c, c, c.APIKey, c.APIKey, c.APIToken)
	j, _ := json.Marshal(c)
	buf.Write(j)
	if strings.Contains(buf.String(), "hunter2") {
		t.Fatalf("secret leaked:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), `"atlassian_api_key":"[REDACTED]"`) {
		t.Fatalf("key not shown as set:\n%s", buf.String())
	}
}

func TestSecretReveal(t *testing.T) {
	s := Secret("k")
	if s.Reveal() != "k" || !s.IsSet() || Secret("").IsSet() || Secret("").String() != "" {
		t.Fatal("Secret basics")
	}
}

// INSTALLER_POLL_INTERVAL alone may exceed the back-off's default cap: the cap follows it.
func TestConfigPollIntervalAboveDefaultCap(t *testing.T) {
	c, err := parse(t, map[string]string{"INSTALLER_POLL_INTERVAL": "2m"})
	if err != nil || c.PollInterval != 2*time.Minute || c.MaxPollInterval != 2*time.Minute {
		t.Fatalf("poll %s, cap %s, err %v", c.PollInterval, c.MaxPollInterval, err)
	}
	c, err = parse(t, nil, "--poll-interval=90s")
	if err != nil || c.MaxPollInterval != 90*time.Second {
		t.Fatalf("flag: cap %s, err %v", c.MaxPollInterval, err)
	}
	if _, err := parse(t, map[string]string{"INSTALLER_POLL_INTERVAL": "2m"}, "--max-poll-interval=1m"); err == nil ||
		!strings.Contains(err.Error(), "INSTALLER_MAX_POLL_INTERVAL") {
		t.Fatalf("a cap set below the first interval: err %v", err)
	}
}

// The order's retry policy: every variable and flag reaches the journeys' configuration, and
// what is not set follows what is, as calls.OrderRetry.WithDefaults fills it: the waits
// follow the polling intervals, a back-off's cap a start set above it.
func TestConfigOrderRetry(t *testing.T) {
	c, err := parse(t, map[string]string{
		"INSTALLER_ORDER_CALL_TIMEOUT":      "20s",
		"INSTALLER_ORDER_RETRY_ATTEMPTS":    "2",
		"INSTALLER_ORDER_RETRY_BACKOFF":     "100ms",
		"INSTALLER_ORDER_RETRY_MAX_BACKOFF": "1s",
		"INSTALLER_ORDER_RETRY_WAIT":        "3s",
		"INSTALLER_ORDER_RETRY_MAX_WAIT":    "40s",
	})
	want := calls.OrderRetry{CallTimeout: 20 * time.Second, Attempts: 2, Backoff: 100 * time.Millisecond, MaxBackoff: time.Second, Wait: 3 * time.Second, MaxWait: 40 * time.Second}
	if got := handlerConfig(c, nil).OrderRetry; err != nil || got != want {
		t.Fatalf("order retry %+v, err %v; want %+v", got, err, want)
	}
	c, err = parse(t, nil, "--order-call-timeout=2m", "--order-retry-attempts=1", "--order-retry-backoff=1m",
		"--order-retry-wait=10s", "--order-retry-max-wait=20s")
	want = calls.OrderRetry{CallTimeout: 2 * time.Minute, Attempts: 1, Backoff: time.Minute, MaxBackoff: time.Minute, Wait: 10 * time.Second, MaxWait: 20 * time.Second}
	if err != nil || c.OrderRetry != want {
		t.Fatalf("flags: order retry %+v, err %v; want %+v", c.OrderRetry, err, want)
	}
	c, err = parse(t, map[string]string{"INSTALLER_POLL_INTERVAL": "2s", "INSTALLER_MAX_POLL_INTERVAL": "2m", "INSTALLER_ORDER_RETRY_MAX_BACKOFF": "200ms"})
	want = calls.OrderRetry{CallTimeout: time.Minute, Attempts: 5, Backoff: 200 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Wait: 2 * time.Second, MaxWait: 2 * time.Minute}
	if err != nil || c.OrderRetry != want {
		t.Fatalf("following: order retry %+v, err %v; want %+v", c.OrderRetry, err, want)
	}
	if g := callGrace(c); g != client.DefaultTimeout {
		t.Errorf("drain's call grace %s with a one minute order call, want the client's %s", g, client.DefaultTimeout)
	}
	if c, _ := parse(t, map[string]string{"INSTALLER_ORDER_CALL_TIMEOUT": "5m"}); callGrace(c) != 5*time.Minute {
		t.Errorf("drain's call grace %s, want the order call's 5m", callGrace(c))
	}
}
