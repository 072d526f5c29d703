package client

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// FuzzStatusURL: a statusUrl the client accepts points at its API (scheme, host, port, a
// clean path under admin/installations/, no userinfo); an id is taken only from a path ending
// in /products/status/{id}, and is one clean segment of at most 256 bytes.
func FuzzStatusURL(f *testing.F) {
	for _, s := range []string{
		"https://api.example.com/v1/admin/installations/v2/orgs/o/products/status/6664d179-c5e8",
		"https://api.example.com/v1/admin/installations/v2/orgs/o/products/status/r1/",
		"https://evil.example/v1/admin/installations/v2/orgs/o/products/status/r1",
		"https://user:pw@api.example.com/v1/admin/installations/../../x/products/status/r1",
		"https://API.example.com:443/v1/admin/installations/v2/orgs/o/products/status/%2e%2e",
		"//api.example.com/v1/admin/installations/x", "%zz", "",
	} {
		f.Add(s)
	}
	c, err := NewClient(WithBaseURL("https://api.example.com/v1/"), WithAPIKey("k"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if u, err := c.checkStatusURL(s); err == nil {
			if !strings.EqualFold(u.Scheme, "https") || !strings.EqualFold(u.Hostname(), "api.example.com") ||
				effectivePort(u) != "443" || u.User != nil || !strings.HasPrefix(u.Path, "/v1/admin/installations/") ||
				strings.Contains(u.Path, "/../") || strings.HasSuffix(u.Path, "/..") {
				t.Errorf("accepted %q: %#v", s, u)
			}
		}
		id, err := ProvisionRequestID(s)
		if err != nil {
			if id != "" {
				t.Errorf("%q: id %q with error %v", s, id, err)
			}
			return
		}
		u, _ := url.Parse(s)
		if id == "" || id == "." || id == ".." || strings.Contains(id, "/") || len(id) > maxProvisionRequestIDLen ||
			strings.IndexFunc(id, unicode.IsControl) >= 0 || !strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), statusPath+id) {
			t.Errorf("ProvisionRequestID(%q) = %q", s, id)
		}
	})
}

// FuzzRetryAfter: a Retry-After value gives a wait that is never negative, zero when it is
// not understood, and exactly the seconds it names (up to the largest Duration).
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", " 7 ", "-1", "9999999999", "99999999999999999999", "1.5",
		"Wed, 21 Oct 2026 07:28:00 GMT", "Fri, 04 Dec 2026 12:00:01 GMT", "soon", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 || !ok && d != 0 {
			t.Fatalf("parseRetryAfter(%q) = %v, %v", v, d, ok)
		}
		if secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && secs >= 0 {
			if want := time.Duration(min(secs, maxRetryAfterSeconds)) * time.Second; d != want || !ok {
				t.Fatalf("parseRetryAfter(%q) = %v, want %v", v, d, want)
			}
		}
	})
}

// FuzzErrorBody: any error answer becomes an *ErrorResponse (a *RateLimitError for 429) whose
// message comes from the body and is no longer than it, whose text names the status, and
// whose wait is never negative.
func FuzzErrorBody(f *testing.F) {
	for _, s := range []string{
		`{"message":"no"}`, `{"errors":[{"field":"f","message":"m"}]}`, `{"errors":{"b":"x","a":"y"}}`,
		`{"errorMessages":["a","b"],"code":42}`, `{"code":"X","key":"k"}`, "plain text", "<html>", "", "null", `{"errors":7}`,
	} {
		f.Add(s, 400, "")
		f.Add(s, 429, "3")
	}
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body string, status int, retryAfter string) {
		status = 300 + abs(status)%300
		req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/x", nil)
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), Request: req}
		resp.Header.Set("Retry-After", retryAfter)
		err := checkResponse(resp, now)
		var e *ErrorResponse
		switch x := err.(type) {
		case *ErrorResponse:
			e = x
		case *RateLimitError:
			if status != http.StatusTooManyRequests || x.RetryAfter < 0 {
				t.Fatalf("status %d: %#v", status, x)
			}
			e = &x.ErrorResponse
		default:
			t.Fatalf("status %d: %T %v", status, err, err)
		}
		if e.StatusCode != status || !bytes.Equal(e.Body, []byte(body)[:min(len(body), maxErrorBody)]) {
			t.Fatalf("status %d body %q: %#v", status, body, e)
		}
		if !strings.Contains(err.Error(), strconv.Itoa(status)) {
			t.Fatalf("%q does not name %d", err.Error(), status)
		}
		if utf8.ValidString(body) && len(e.Message) > len(body) {
			t.Fatalf("message %q longer than the body %q", e.Message, body)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}
