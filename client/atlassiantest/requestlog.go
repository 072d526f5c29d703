package atlassiantest

import (
	"net/http"
	"strings"
	"sync"
)

// RecordedRequest is one request the sandbox received, for tests to assert on.
// The Authorization header is redacted to its scheme.
type RecordedRequest struct {
	Method   string      `json:"method"`
	Path     string      `json:"path"`
	Query    string      `json:"query,omitempty"`
	Header   http.Header `json:"header,omitempty"`
	Body     string      `json:"body,omitempty"`
	Endpoint Endpoint    `json:"endpoint,omitempty"`
	// Status is the answer's status; 0 when the connection was dropped.
	Status int `json:"status"`
	// Org is the one organization the caller's credentials may act on (WithOrgAPIKey),
	// empty for credentials valid for every organization, or none.
	Org string `json:"org,omitempty"`
}

// Redacted is what replaces a credential in the request log.
const Redacted = "[REDACTED]"

// requestLog keeps the last limit requests in a ring.
type requestLog struct {
	mu    sync.Mutex
	limit int
	buf   []RecordedRequest
	next  int
}

func newRequestLog(limit int) *requestLog { return &requestLog{limit: limit} }

func (l *requestLog) add(r *http.Request, e Endpoint, body []byte, status int, org string) {
	if l.limit <= 0 {
		return
	}
	h := r.Header.Clone()
	if a := h.Get("Authorization"); a != "" {
		scheme, _, _ := strings.Cut(a, " ")
		h.Set("Authorization", scheme+" "+Redacted)
	}
	for _, k := range []string{"Proxy-Authorization", "Cookie"} {
		if h.Get(k) != "" {
			h.Set(k, Redacted)
		}
	}
	rec := RecordedRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: h,
		Body: string(body), Endpoint: e, Status: status, Org: org}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) < l.limit {
		l.buf = append(l.buf, rec)
		return
	}
	l.buf[l.next] = rec
	l.next = (l.next + 1) % l.limit
}

func (l *requestLog) all() []RecordedRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]RecordedRequest, 0, len(l.buf))
	out = append(out, l.buf[l.next:]...)
	return append(out, l.buf[:l.next]...)
}

func (l *requestLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf, l.next = nil, 0
}

// Requests returns the requests received so far, oldest first (the last
// WithRequestLogLimit of them).
func (s *Server) Requests() []RecordedRequest { return s.log.all() }

// RequestsTo returns the recorded requests of one endpoint.
func (s *Server) RequestsTo(e Endpoint) []RecordedRequest {
	var out []RecordedRequest
	for _, r := range s.log.all() {
		if r.Endpoint == e {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests empties the request log.
func (s *Server) ResetRequests() { s.log.reset() }
