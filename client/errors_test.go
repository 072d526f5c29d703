package client

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		header      http.Header
		body        string
		wantMessage string
		wantCode    string
		wantErrors  []ErrorDetail
		wantReqID   string
	}{
		{
			name: "commerce validation", status: 400, header: http.Header{"X-Request-Id": {"req-1"}},
			body:        `{"code":"INVALID_ORDER","message":"order is invalid","errors":[{"field":"items[0].offeringId","message":"unknown offering"}]}`,
			wantMessage: "order is invalid", wantCode: "INVALID_ORDER",
			wantErrors: []ErrorDetail{{Field: "items[0].offeringId", Message: "unknown offering"}}, wantReqID: "req-1",
		},
		{
			name: "jira style", status: 404, header: http.Header{"Atl-Traceid": {"trace-9"}},
			body:        `{"errorMessages":["Entitlement does not exist"],"errors":{"fieldName":"unknown"}}`,
			wantMessage: "Entitlement does not exist",
			wantErrors:  []ErrorDetail{{Field: "fieldName", Message: "unknown"}}, wantReqID: "trace-9",
		},
		{
			name: "problem json", status: 403,
			body:        `{"title":"Forbidden","detail":"API key lacks the scope","status":403}`,
			wantMessage: "API key lacks the scope",
		},
		{
			name: "numeric code", status: 409, body: `{"code":409,"message":"conflict"}`,
			wantMessage: "conflict", wantCode: "409",
		},
		{name: "plain text", status: 401, body: "Unauthorized", wantMessage: "Unauthorized"},
		{name: "html", status: 502, body: "<html>bad gateway</html>"},
		{name: "redirect", status: 302, header: http.Header{"Location": {"https://evil.example/"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t, WithRetry(1, time.Second))
			mux.HandleFunc("/commerce/api/v2/orders/o1", func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			})
			_, resp, err := c.Commerce.GetOrder(ctxT(t), "o1", txa)
			var er *ErrorResponse
			if !errors.As(err, &er) {
				t.Fatalf("err = %v (%T), want *ErrorResponse", err, err)
			}
			if er.StatusCode != tc.status || er.Message != tc.wantMessage || er.Code != tc.wantCode || er.RequestID != tc.wantReqID {
				t.Errorf("got status %d message %q code %q request id %q", er.StatusCode, er.Message, er.Code, er.RequestID)
			}
			if len(er.Errors) != len(tc.wantErrors) || (len(er.Errors) > 0 && er.Errors[0] != tc.wantErrors[0]) {
				t.Errorf("errors = %+v, want %+v", er.Errors, tc.wantErrors)
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Errorf("response = %v, want status %d", resp, tc.status)
			}
			msg := err.Error()
			for _, want := range []string{"GET", "/api-prefix/commerce/api/v2/orders/o1", http.StatusText(tc.status)} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not name %q", msg, want)
				}
			}
			if tc.wantReqID != "" && !strings.Contains(msg, tc.wantReqID) {
				t.Errorf("error %q does not name the request id", msg)
			}
			assertNoSecret(t, msg)
		})
	}
}

func TestRateLimitError(t *testing.T) {
	c, mux, clk := setup(t, WithRetry(1, time.Second))
	date := clk.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)
	mux.HandleFunc("/commerce/api/v2/orders/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "date") {
			w.Header().Set("Retry-After", date)
		} else {
			w.Header().Set("Retry-After", "30")
		}
		writeJSON(w, http.StatusTooManyRequests, []byte(`{"message":"slow down"}`))
	})
	for _, tc := range []struct {
		id   string
		want time.Duration
	}{{"seconds", 30 * time.Second}, {"date", 2 * time.Minute}} {
		_, _, err := c.Commerce.GetOrder(ctxT(t), tc.id, "")
		var rl *RateLimitError
		// An HTTP date has whole seconds; the clock may not.
		if !errors.As(err, &rl) || rl.RetryAfter > tc.want || rl.RetryAfter <= tc.want-time.Second || rl.StatusCode != 429 || rl.Message != "slow down" {
			t.Errorf("%s: err = %v, want *RateLimitError after %s", tc.id, err, tc.want)
		}
		var er *ErrorResponse
		if !errors.As(err, &er) || er.StatusCode != 429 {
			t.Errorf("%s: a *RateLimitError must also be an *ErrorResponse", tc.id)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(time.Minute).Format(http.TimeFormat), time.Minute, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{now.Add(time.Hour).Format(time.RFC850), time.Hour, true},
	}
	for _, tc := range tests {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}
