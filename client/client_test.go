package client

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// Credentials the tests configure; no error string or printed value may contain them.
const (
	testAPIKey   = "test-api-key-5ecret"
	testEmail    = "admin@example.com"
	testToken    = "test-token-5ecret"
	testBasePath = "/api-prefix/"
)

// setup returns a client pointed at a test server whose base URL has a path
// prefix, the mux to register handlers on (paths as the API sees them, below
// the prefix), and the fake clock the client waits on.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux, *clockwork.FakeClock) {
	t.Helper()
	mux := http.NewServeMux()
	api := http.NewServeMux()
	api.Handle(testBasePath, http.StripPrefix(testBasePath[:len(testBasePath)-1], mux))
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s %s", r.Method, r.URL)
		http.Error(w, "outside the base path", http.StatusBadGateway)
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	clk := clockwork.NewFakeClock()
	all := append([]Option{
		WithBaseURL(srv.URL + testBasePath),
		WithAPIKey(testAPIKey),
		WithClock(clk),
		WithRetry(3, time.Second),
	}, opts...)
	c, err := NewClient(all...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, mux, clk
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if r.Method != want {
		t.Errorf("method = %s, want %s", r.Method, want)
	}
}

func testHeader(t *testing.T, r *http.Request, name, want string) {
	t.Helper()
	if got := r.Header.Get(name); got != want {
		t.Errorf("header %s = %q, want %q", name, got, want)
	}
}

// testJSONBody checks that the request body is JSON equal to want (any value
// or a JSON string/[]byte).
func testJSONBody(t *testing.T, r *http.Request, want any) {
	t.Helper()
	got, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	var wantJSON []byte
	switch w := want.(type) {
	case []byte:
		wantJSON = w
	case string:
		wantJSON = []byte(w)
	default:
		wantJSON, _ = json.Marshal(w)
	}
	var g, wv any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal(wantJSON, &wv); err != nil {
		t.Fatalf("want %q is not JSON: %v", wantJSON, err)
	}
	if !reflect.DeepEqual(g, wv) {
		t.Errorf("body = %s\nwant  %s", got, wantJSON)
	}
}

// testdata reads a reference sample from testdata/.
func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeJSON answers with a JSON body.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
