package client

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// secrets are every form in which the test credentials could leak.
var secrets = []string{
	testAPIKey, testToken,
	base64.StdEncoding.EncodeToString([]byte(testEmail + ":" + testToken)),
}

func assertNoSecret(t *testing.T, s string) {
	t.Helper()
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			t.Errorf("credential leaked in %q", s)
		}
	}
}

func TestStatusURLGuard(t *testing.T) {
	tests := []struct {
		name string
		base string
		url  string
		ok   bool
	}{
		{"same origin", "https://api.atlassian.com", "https://api.atlassian.com/admin/installations/v2/orgs/o/products/status/r1", true},
		{"explicit default port", "https://api.atlassian.com", "https://api.atlassian.com:443/admin/installations/v2/orgs/o/products/status/r1", true},
		{"host case", "https://api.atlassian.com", "https://API.Atlassian.com/admin/installations/v2/orgs/o/products/status/r1", true},
		{"with query", "https://api.atlassian.com", "https://api.atlassian.com/admin/installations/v2/orgs/o/products/status/r1?x=1", true},
		{"base path prefix", "http://127.0.0.1:8080/sandbox", "http://127.0.0.1:8080/sandbox/admin/installations/v2/orgs/o/products/status/r1", true},
		{"other host", "https://api.atlassian.com", "https://evil.example/admin/installations/v2/orgs/o/products/status/r1", false},
		{"subdomain", "https://api.atlassian.com", "https://api.atlassian.com.evil.example/admin/installations/x", false},
		{"other port", "https://api.atlassian.com", "https://api.atlassian.com:8443/admin/installations/v2/orgs/o/products/status/r1", false},
		{"http vs https", "https://api.atlassian.com", "http://api.atlassian.com/admin/installations/v2/orgs/o/products/status/r1", false},
		{"https vs http", "http://127.0.0.1:8080", "https://127.0.0.1:8080/admin/installations/x", false},
		{"userinfo trick", "https://api.atlassian.com", "https://api.atlassian.com@evil.example/admin/installations/x", false},
		{"userinfo on same host", "https://api.atlassian.com", "https://user:pass@api.atlassian.com/admin/installations/x", false},
		{"backslash trick", "https://api.atlassian.com", "https://evil.example\\@api.atlassian.com/admin/installations/x", false},
		{"path outside", "https://api.atlassian.com", "https://api.atlassian.com/commerce/api/v2/orders", false},
		{"path prefix only", "https://api.atlassian.com", "https://api.atlassian.com/admin/installationsX/y", false},
		{"dot segments", "https://api.atlassian.com", "https://api.atlassian.com/admin/installations/../../commerce/api/v2/orders", false},
		{"encoded dot segments", "https://api.atlassian.com", "https://api.atlassian.com/admin/installations/%2e%2e/%2e%2e/commerce", false},
		{"outside base path prefix", "http://127.0.0.1:8080/sandbox", "http://127.0.0.1:8080/admin/installations/x", false},
		{"relative", "https://api.atlassian.com", "/admin/installations/x", false},
		{"scheme-relative", "https://api.atlassian.com", "//evil.example/admin/installations/x", false},
		{"empty", "https://api.atlassian.com", "", false},
		{"not a URL", "https://api.atlassian.com", "https://api.atlassian.com/%zz", false},
		{"javascript", "https://api.atlassian.com", "javascript:alert(1)", false},
		{"fragment", "https://api.atlassian.com", "https://api.atlassian.com/admin/installations/x#y", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(WithBaseURL(tc.base), WithAPIKey(testAPIKey))
			if err != nil {
				t.Fatal(err)
			}
			err = c.Installations.CheckStatusURL(tc.url)
			if tc.ok && err != nil {
				t.Errorf("rejected: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrUntrustedStatusURL) {
				t.Errorf("err = %v, want ErrUntrustedStatusURL", err)
			}
		})
	}
}

// An untrusted statusUrl is refused before any request is made.
func TestGetProvisionStatusRefusesUntrustedURL(t *testing.T) {
	var hits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer evil.Close()
	c, _, _ := setup(t)
	for _, u := range []string{evil.URL + testBasePath + "admin/installations/v2/orgs/o/products/status/r1",
		strings.Replace(c.BaseURL().String(), "://", "://"+testAPIKey+"@", 1) + "admin/installations/x"} {
		_, resp, err := c.Installations.GetProvisionStatus(ctxT(t), u)
		if !errors.Is(err, ErrUntrustedStatusURL) || resp != nil {
			t.Errorf("%s: err = %v, want ErrUntrustedStatusURL", u, err)
		}
		assertNoSecret(t, fmt.Sprint(err))
	}
	if hits.Load() != 0 {
		t.Errorf("untrusted host saw %d requests", hits.Load())
	}
}

// No redirect is followed, to another host or the same one: credentials
// never travel with one.
func TestRedirectsAreNeverFollowed(t *testing.T) {
	var evilHits atomic.Int32
	var sawAuth atomic.Bool
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilHits.Add(1)
		sawAuth.Store(r.Header.Get("Authorization") != "")
		writeJSON(w, 200, []byte(`{"data":{"status":"COMPLETED"}}`))
	}))
	defer evil.Close()
	for _, target := range []string{evil.URL + "/steal", testBasePath + "admin/installations/v2/orgs/o/products/status/other"} {
		c, mux, _ := setup(t, WithBasicAuth(testEmail, testToken))
		var sameHits atomic.Int32
		mux.HandleFunc("/admin/installations/v2/orgs/o/products/status/other", func(w http.ResponseWriter, r *http.Request) {
			sameHits.Add(1)
		})
		mux.HandleFunc("/admin/installations/v2/orgs/o/products/status/r1", func(w http.ResponseWriter, r *http.Request) {
			testHeader(t, r, "Authorization", "Basic "+secrets[2])
			http.Redirect(w, r, target, http.StatusFound)
		})
		_, _, err := c.Installations.GetProvisionStatus(ctxT(t), c.BaseURL().String()+"admin/installations/v2/orgs/o/products/status/r1")
		var er *ErrorResponse
		if !errors.As(err, &er) || er.StatusCode != http.StatusFound {
			t.Errorf("%s: err = %v, want *ErrorResponse 302", target, err)
		}
		if sameHits.Load() != 0 {
			t.Errorf("%s: redirect was followed", target)
		}
		assertNoSecret(t, fmt.Sprint(err))
	}
	if evilHits.Load() != 0 || sawAuth.Load() {
		t.Errorf("other host saw %d requests (auth %v)", evilHits.Load(), sawAuth.Load())
	}
}

// No credential appears in any printed value or error.
func TestCredentialsNeverPrinted(t *testing.T) {
	for _, opt := range []Option{WithAPIKey(testAPIKey), WithBasicAuth(testEmail, testToken)} {
		c, mux, _ := setup(t, opt, WithRetry(1, time.Second))
		mux.HandleFunc("/commerce/api/v2/orders/", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/commerce/api/v2/orders/ok" {
				writeJSON(w, 200, []byte(`{"orderId":"ok"}`))
				return
			}
			http.Error(w, "no", http.StatusUnauthorized)
		})
		_, okResp, err := c.Commerce.GetOrder(ctxT(t), "ok", "")
		if err != nil {
			t.Fatal(err)
		}
		if got := okResp.Request.Header.Get("Authorization"); got != "" {
			t.Errorf("Response.Request carries Authorization %q", got)
		}
		_, errResp, callErr := c.Commerce.GetOrder(ctxT(t), "denied", "")
		var er *ErrorResponse
		if !errors.As(callErr, &er) {
			t.Fatalf("err = %v", callErr)
		}
		if got := er.Response.Request.Header.Get("Authorization"); got != "" {
			t.Errorf("ErrorResponse.Response.Request carries Authorization %q", got)
		}
		values := []any{c, *c, c.Installations, c.common, c.auth, *c.auth, okResp, errResp, callErr, er, *er}
		for _, v := range values {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
				assertNoSecret(t, fmt.Sprintf(verb, v))
			}
		}
		assertNoSecret(t, c.String())
	}
}

func TestOptionErrorsNeverEchoCredentials(t *testing.T) {
	for _, opt := range []Option{
		WithAPIKey(testAPIKey + "\r\n"),
		WithBasicAuth(testEmail, testToken+"\n"),
		WithBaseURL("https://" + testAPIKey + "@api.atlassian.com/"),
		WithBaseURL("https://user:" + testToken + "@api.atlassian.com/"),
	} {
		_, err := NewClient(opt)
		if !errors.Is(err, ErrInvalidOption) {
			t.Errorf("err = %v, want ErrInvalidOption", err)
		}
		assertNoSecret(t, fmt.Sprint(err))
	}
}

// A call's context credentials replace the client's own for that call alone, and print as
// redacted as the client's.
func TestContextCredentials(t *testing.T) {
	c, mux, _ := setup(t, WithAPIKey("client-own-key"))
	var seen []string
	mux.HandleFunc("/commerce/api/v2/orders/", func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
		writeJSON(w, 200, []byte(`{"orderId":"x"}`))
	})
	key, err := APIKey(testAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := BasicAuth(testEmail, testToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, ctx := range []context.Context{
		ContextWithCredentials(ctxT(t), key),
		ContextWithCredentials(ctxT(t), admin),
		ContextWithCredentials(ctxT(t), Credentials{}),
	} {
		if _, _, err := c.Commerce.GetOrder(ctx, "x", "txa"); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"Bearer " + testAPIKey, "Basic " + base64.StdEncoding.EncodeToString([]byte(testEmail+":"+testToken)), "Bearer client-own-key"}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("Authorization headers %q, want %q", seen, want)
	}
	for _, v := range []any{key, admin, &key} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			assertNoSecret(t, fmt.Sprintf(verb, v))
		}
	}
	for _, bad := range []func() (Credentials, error){
		func() (Credentials, error) { return APIKey(testAPIKey + "\n") },
		func() (Credentials, error) { return BasicAuth(testEmail, "") },
		func() (Credentials, error) { return BasicAuth("a:b", testToken) },
	} {
		if _, err := bad(); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("err = %v, want ErrInvalidOption", err)
		} else {
			assertNoSecret(t, err.Error())
		}
	}
}
