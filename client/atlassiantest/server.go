package atlassiantest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Server is a sandbox of the Atlassian APIs listening on a loopback port, or,
// from NewUnstartedServer, a handler to serve yourself.
type Server struct {
	// URL is the base URL of the started server, e.g. http://127.0.0.1:41234.
	URL string

	cfg      config
	st       *state
	faults   *faultSet
	log      *requestLog
	handler  http.Handler
	listener net.Listener
	srv      *http.Server
	traceSeq atomic.Uint64
	limits   *limits
}

// call is what the middleware hands every endpoint handler.
type call struct {
	now    time.Time
	body   []byte
	action action
	base   string
	// org is the one organization the caller's credentials may act on; "" for any.
	org string
}

// readAt is the time a read answers as of: now, or ReadLag ago.
func (c *call) readAt() time.Time { return c.now.Add(-c.action.readLag) }

type handlerFunc func(s *Server, w http.ResponseWriter, r *http.Request, c *call)

type route struct {
	pattern  string
	endpoint Endpoint
	handle   handlerFunc
}

const (
	statusPattern       = "GET /admin/installations/v2/orgs/{orgId}/products/status/{requestId}"
	entitlementsPattern = "GET /admin/installations/v2/orgs/{orgId}/products/{productAri}/entitlements"
	csmFieldPattern     = "PUT " + csmPattern + "/entitlement/details/{fieldName}"
	csmDetailPattern    = "PUT " + csmPattern + "/entitlement/{entitlementId}/details"
	promotionsPattern   = "/marketplace/catalog/partners/{partnerId}/promotions"
	csmPattern          = "/jsm/csm/cloudid/{cloudId}/api/v1"
)

// routes is every endpoint of the sandbox; patterns are those of net/http's ServeMux.
var routes = []route{
	{entitlementsPattern, EndpointProductEntitlements, (*Server).handleProductEntitlements},
	{"POST /admin/installations/v2/orgs/{orgId}/products", EndpointProvisionProducts, (*Server).handleProvisionProducts},
	{"POST /admin/installations/v2/orgs/{orgId}/products/{productAri}/apps", EndpointProvisionApp, (*Server).handleProvisionApp},
	{statusPattern, EndpointProvisionStatus, (*Server).handleProvisionStatus},
	{"POST /admin/v2/orgs/{orgId}/workspaces", EndpointWorkspaces, (*Server).handleWorkspaces},
	{"GET /commerce/api/v2/entitlements/{entitlementId}/details", EndpointEntitlementDetails, (*Server).handleEntitlementDetails},
	{"POST /commerce/api/v2/orders", EndpointCreateOrder, (*Server).handleCreateOrder},
	{"POST /commerce/api/v1/orders", EndpointCreateOrderV1, (*Server).handleCreateOrder},
	{"GET /commerce/api/v2/orders/{orderId}", EndpointGetOrder, (*Server).handleGetOrder},
	{"GET /commerce/api/v2/quotes/{quoteId}", EndpointGetQuote, (*Server).handleGetQuote},
	{"GET /commerce/api/v1/quotes", EndpointListQuotes, (*Server).handleListQuotes},
	{"GET /commerce/api/v3/quotes/{quoteId}/download", EndpointDownloadQuote, (*Server).handleDownloadQuote},
	{"GET " + promotionsPattern + "/paged", EndpointListPromotionsPaged, (*Server).handleListPromotionsPaged},
	{"GET " + promotionsPattern, EndpointListPromotions, (*Server).handleListPromotions},
	{"POST " + promotionsPattern, EndpointCreatePromotion, (*Server).handleCreatePromotion},
	{"GET " + promotionsPattern + "/{promotionId}", EndpointGetPromotion, (*Server).handleGetPromotion},
	{"PATCH " + promotionsPattern + "/{promotionId}", EndpointUpdatePromotion, (*Server).handleUpdatePromotion},
	{"GET " + promotionsPattern + "/{promotionId}/codes", EndpointListPromotionCodes, (*Server).handleListPromotionCodes},
	{"POST " + promotionsPattern + "/{promotionId}/codes", EndpointCreatePromotionCode, (*Server).handleCreatePromotionCode},
	{"GET " + promotionsPattern + "/{promotionId}/codes/{promotionCode}", EndpointGetPromotionCode, (*Server).handleGetPromotionCode},
	{"DELETE " + promotionsPattern + "/{promotionId}/codes/{promotionCode}", EndpointDeletePromotionCode, (*Server).handleDeletePromotionCode},
	{"GET " + promotionsPattern + "/{promotionId}/status", EndpointGetPromotionStatus, (*Server).handleGetPromotionStatus},
	{"GET " + csmPattern + "/entitlement/details", EndpointListCSMFields, (*Server).handleListCSMFields},
	{"POST " + csmPattern + "/entitlement/details", EndpointCreateCSMField, (*Server).handleCreateCSMField},
	{csmFieldPattern, EndpointUpdateCSMField, (*Server).handleUpdateCSMField},
	{"DELETE " + csmPattern + "/entitlement/details/{fieldName}", EndpointDeleteCSMField, (*Server).handleDeleteCSMField},
	{"GET " + csmPattern + "/entitlement/{entitlementId}", EndpointGetCSMEntitlement, (*Server).handleGetCSMEntitlement},
	{"DELETE " + csmPattern + "/entitlement/{entitlementId}", EndpointDeleteCSMEntitlement, (*Server).handleDeleteCSMEntitlement},
	{csmDetailPattern, EndpointSetCSMDetail, (*Server).handleSetCSMDetail},
	{"GET " + csmPattern + "/entitlements", EndpointListCSMEntitlements, (*Server).handleListCSMEntitlements},
}

var allEndpoints = func() map[Endpoint]bool {
	m := map[Endpoint]bool{}
	for _, r := range routes {
		m[r.endpoint] = true
	}
	return m
}()

// NewServer starts a sandbox on 127.0.0.1 with a random port. Close it when done.
func NewServer(opts ...Option) *Server {
	s := NewUnstartedServer(opts...)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("atlassiantest: listen: " + err.Error())
	}
	s.Start(l)
	return s
}

// NewUnstartedServer builds a sandbox without listening: serve Handler
// yourself, or call Start.
func NewUnstartedServer(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if !slices.ContainsFunc(cfg.creds, func(c credential) bool { return c.key != "" }) {
		cfg.creds = append(cfg.creds, credential{key: DefaultAPIKey})
	}
	fx := cfg.fixtures
	if fx == nil {
		fx = DefaultFixtures()
	}
	s := &Server{cfg: cfg, faults: newFaultSet(cfg.seed, cfg.faults), log: newRequestLog(cfg.logLimit), limits: newLimits(cfg.rateLimits)}
	s.st = newState(fx, cfg.seed)
	mux := http.NewServeMux()
	shared := map[string]http.Handler{}
	for _, sp := range sharedPaths {
		for _, p := range sp.targets {
			shared[p] = nil
		}
	}
	for _, rt := range routes {
		if _, ok := shared[rt.pattern]; ok {
			shared[rt.pattern] = s.wrap(rt)
			continue
		}
		mux.Handle(rt.pattern, s.wrap(rt))
	}
	notFound := s.wrap(route{handle: notFoundHandler})
	for _, sp := range sharedPaths {
		mux.Handle(sp.pattern, sp.dispatch(shared, notFound))
	}
	mux.Handle("/_sandbox/", s.adminHandler())
	mux.Handle("/", s.wrap(route{handle: notFoundHandler}))
	s.handler = mux
	return s
}

// sharedPath is a path shape that two endpoints share in a way ServeMux
// cannot tell apart ({a}/{b} where one of them is a literal word); it is
// served by one pattern that picks the endpoint by the literal.
type sharedPath struct {
	pattern string
	// targets[0] is taken when a == words[0] (b is its variable vars[0]),
	// targets[1] when b == words[1] (a is its variable vars[1]).
	words   [2]string
	targets [2]string
	vars    [2]string
}

var sharedPaths = []sharedPath{
	{pattern: "GET /admin/installations/v2/orgs/{orgId}/products/{a}/{b}", words: [2]string{"status", "entitlements"}, targets: [2]string{statusPattern, entitlementsPattern}, vars: [2]string{"requestId", "productAri"}},
	{pattern: "PUT " + csmPattern + "/entitlement/{a}/{b}", words: [2]string{"details", "details"}, targets: [2]string{csmFieldPattern, csmDetailPattern}, vars: [2]string{"fieldName", "entitlementId"}},
}

func (sp sharedPath) dispatch(handlers map[string]http.Handler, notFound http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, b := r.PathValue("a"), r.PathValue("b")
		switch {
		case a == sp.words[0]:
			r.SetPathValue(sp.vars[0], b)
			handlers[sp.targets[0]].ServeHTTP(w, r)
		case b == sp.words[1]:
			r.SetPathValue(sp.vars[1], a)
			handlers[sp.targets[1]].ServeHTTP(w, r)
		default:
			notFound.ServeHTTP(w, r)
		}
	})
}

func notFoundHandler(_ *Server, w http.ResponseWriter, r *http.Request, _ *call) {
	writeError(w, http.StatusNotFound, "NOT_FOUND", "no such endpoint: "+r.Method+" "+r.URL.Path)
}

// Start serves the sandbox on l and sets URL.
func (s *Server) Start(l net.Listener) {
	s.listener = l
	s.URL = "http://" + l.Addr().String()
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
}

// Close stops the server and closes its connections.
func (s *Server) Close() {
	if s.srv != nil {
		_ = s.srv.Close()
	}
}

// Shutdown stops the server gracefully, within ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}

// Handler is the sandbox's handler: every API endpoint and the /_sandbox/ admin API.
func (s *Server) Handler() http.Handler { return s.handler }

// wrap runs the common part of every request: body capture, logging, auth, faults.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		// The log entry is written before the answer leaves, so a caller that
		// has its answer always finds its request in the log.
		org := ""
		sw := &statusWriter{ResponseWriter: w, record: func(status int) { s.log.add(r, rt.endpoint, body, status, org) }}
		defer sw.recordOnce(0)
		sw.Header().Set("Atl-Traceid", s.traceID())
		org, ok := s.authorized(r)
		if !ok {
			writeError(sw, http.StatusUnauthorized, "UNAUTHORIZED", "missing or invalid credentials")
			return
		}
		if id := r.PathValue("orgId"); org != "" && id != "" && id != org {
			writeError(sw, http.StatusUnauthorized, "UNAUTHORIZED", "the credentials are not valid for organization "+id)
			return
		}
		quotaOrg := org
		if quotaOrg == "" {
			quotaOrg = r.PathValue("orgId")
		}
		if wait, ok := s.admit(rt.endpoint, quotaOrg, s.cfg.clock.Now()); !ok {
			sw.Header().Set("Retry-After", retryAfterValue(wait))
			writeError(sw, http.StatusTooManyRequests, "RATE_LIMITED", "rate limit exceeded")
			return
		}
		a := s.faults.decide(rt.endpoint)
		if a.latency > 0 {
			select {
			case <-s.cfg.clock.After(a.latency):
			case <-r.Context().Done():
				return
			}
		}
		if a.status != 0 {
			if a.status == http.StatusTooManyRequests || (a.status == http.StatusServiceUnavailable && a.retryAfter > 0) {
				sw.Header().Set("Retry-After", retryAfterValue(a.retryAfter))
			}
			writeError(sw, a.status, http.StatusText(a.status), "injected fault")
			return
		}
		c := &call{now: s.cfg.clock.Now(), body: body, action: a, base: s.baseURL(r), org: org}
		if a.ambiguous {
			rt.handle(s, &discardWriter{h: http.Header{}}, r, c)
			sw.recordOnce(0)
			dropConnection(w)
			return
		}
		rt.handle(s, sw, r, c)
	})
}

// dropConnection closes the client's connection without an answer, so the
// caller cannot tell whether the request had its effect.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// authorized finds the caller's credentials; org is the organization they are limited to,
// "" when they may act on every one.
func (s *Server) authorized(r *http.Request) (org string, ok bool) {
	h := r.Header.Get("Authorization")
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok {
		return "", false
	}
	switch strings.ToLower(scheme) {
	case "bearer":
		for _, c := range s.cfg.creds {
			if c.key != "" && subtle.ConstantTimeCompare([]byte(cred), []byte(c.key)) == 1 {
				return c.org, true
			}
		}
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err != nil {
			return "", false
		}
		email, token, _ := strings.Cut(string(raw), ":")
		for _, c := range s.cfg.creds {
			if c.email != "" && subtle.ConstantTimeCompare([]byte(email), []byte(c.email)) == 1 &&
				subtle.ConstantTimeCompare([]byte(token), []byte(c.token)) == 1 {
				return c.org, true
			}
		}
	}
	return "", false
}

// baseURL is where the caller reached the sandbox, for statusUrl and links.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.publicURL != "" {
		return strings.TrimSuffix(s.cfg.publicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) traceID() string {
	return fmt.Sprintf("%016x", s.traceSeq.Add(1))
}

// statusWriter records the request in the log when the status is known.
type statusWriter struct {
	http.ResponseWriter
	record   func(status int)
	recorded bool
}

func (w *statusWriter) recordOnce(status int) {
	if !w.recorded {
		w.recorded = true
		w.record(status)
	}
}

// WriteHeader logs the request before its status leaves.
func (w *statusWriter) WriteHeader(code int) {
	w.recordOnce(code)
	w.ResponseWriter.WriteHeader(code)
}

// Write logs the request (as 200) before the first bytes leave.
func (w *statusWriter) Write(b []byte) (int, error) {
	w.recordOnce(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// discardWriter swallows the answer of a request whose connection is dropped.
type discardWriter struct{ h http.Header }

// Header, Write and WriteHeader let the handler run its effect for nothing.
func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// apiError is the error body of every non-2xx answer.
type apiError struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Errors  []fieldError `json:"errors,omitempty"`
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, msg string, errs ...fieldError) {
	writeJSON(w, status, apiError{Code: code, Message: msg, Errors: errs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"code":"INTERNAL","message":"encode failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decodeBody decodes a JSON request body, answering 400 itself on failure.
func decodeBody(w http.ResponseWriter, c *call, v any) bool {
	if err := json.Unmarshal(c.body, v); err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_JSON", "request body is not valid JSON: "+err.Error())
		return false
	}
	return true
}
