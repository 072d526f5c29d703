package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
)

const defaultUserAgent = "atlassian-installer-client"

// Client talks to the Atlassian APIs of the reference: installations,
// workspaces, commerce (entitlements, orders, quotes), Marketplace promotions
// and JSM customer service management. Build it with NewClient; it is safe
// for concurrent use.
type Client struct {
	baseURL    *url.URL
	httpClient *http.Client
	auth       *credentials
	clock      clockwork.Clock
	retry      Retry
	timeout    time.Duration
	limiter    Limiter
	userAgent  string
	onRetry    func(RetryEvent)

	common service

	// Installations provisions products and apps (install cookbook).
	Installations *InstallationsService
	// Workspaces finds product instances and their ARIs (install cookbook, "Get product ARI").
	Workspaces *WorkspacesService
	// Commerce reads entitlement details and places and reads orders (install cookbook).
	Commerce *CommerceService
	// Quotes reads and downloads commerce quotes (Commerce REST API, Quotes).
	Quotes *QuotesService
	// Promotions manages Marketplace promotions and codes (Marketplace REST API, Promotions).
	Promotions *PromotionsService
	// CSM manages JSM customer service entitlements (CSM REST API, Entitlement).
	CSM *CSMService
}

// service is shared by the API areas, after go-github.
type service struct {
	client *Client
}

// Response is an API answer. Its Request carries no Authorization header.
type Response struct {
	*http.Response
}

// NewClient returns a Client for DefaultBaseURL unless WithBaseURL says
// otherwise. Without WithAPIKey or WithBasicAuth no Authorization header is sent.
// A bad option yields an error wrapping ErrInvalidOption.
func NewClient(opts ...Option) (*Client, error) {
	base, _ := url.Parse(DefaultBaseURL)
	cfg := config{
		baseURL:   base,
		clock:     clockwork.NewRealClock(),
		retry:     DefaultRetry,
		timeout:   DefaultTimeout,
		limits:    DefaultLimits(),
		userAgent: defaultUserAgent,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.limiter == nil {
		cfg.limiter = NewLocalLimiter(cfg.limits)
	}
	hc := &http.Client{}
	if cfg.httpClient != nil {
		copied := *cfg.httpClient
		hc = &copied
	}
	// Never follow a redirect: it would carry the Authorization header, or
	// silently drop it, to wherever the answer points.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	c := &Client{
		baseURL:    cfg.baseURL,
		httpClient: hc,
		auth:       cfg.auth,
		clock:      cfg.clock,
		retry:      cfg.retry,
		timeout:    cfg.timeout,
		limiter:    cfg.limiter,
		userAgent:  cfg.userAgent,
		onRetry:    cfg.onRetry,
	}
	c.common.client = c
	c.Installations = (*InstallationsService)(&c.common)
	c.Workspaces = (*WorkspacesService)(&c.common)
	c.Commerce = (*CommerceService)(&c.common)
	c.Quotes = (*QuotesService)(&c.common)
	c.Promotions = (*PromotionsService)(&c.common)
	c.CSM = (*CSMService)(&c.common)
	return c, nil
}

// BaseURL returns a copy of the base URL, always ending in "/".
func (c *Client) BaseURL() *url.URL {
	u := *c.baseURL
	return &u
}

// String names the client by its base URL; credentials are never printed.
func (c *Client) String() string { return "atlassian.Client(" + c.baseURL.String() + ")" }

// GoString keeps %#v as safe as %v.
func (c *Client) GoString() string { return c.String() }

// Format makes every fmt verb print String.
func (c *Client) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// retryClass says how safely a request may be sent again.
type retryClass int

const (
	// retryIdempotent: a repeat has no further effect (reads, queries, and the
	// order POST, deduplicated by orderId). Retried on 429, 5xx and network errors.
	retryIdempotent retryClass = iota
	// retryUnsent: a repeat could act twice (provisioning). Retried on 429 (refused
	// unprocessed), and after a network error only when the request surely never left;
	// not on 503, which a proxy may answer for a request it forwarded.
	retryUnsent
)

// request is one API call, built once and sent as often as retries need; the
// body is kept as bytes so that every attempt sends it intact.
type request struct {
	method   string
	url      *url.URL
	header   http.Header
	body     []byte
	family   Family
	priority Priority
	class    retryClass
}

// newRequest resolves path (already escaped, relative to the base URL) and
// encodes body as JSON when it is not nil.
func (c *Client) newRequest(method, path string, query url.Values, body any, family Family, class retryClass) (*request, error) {
	rel, err := url.Parse(strings.TrimPrefix(path, "/"))
	if err != nil {
		return nil, fmt.Errorf("%w: building %s %s: %w", ErrInvalidArgument, method, path, err)
	}
	u := c.baseURL.ResolveReference(rel)
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	return c.newRequestURL(method, u, body, family, class)
}

func (c *Client) newRequestURL(method string, u *url.URL, body any, family Family, class retryClass) (*request, error) {
	r := &request{method: method, url: u, header: make(http.Header), family: family, class: class}
	r.header.Set("Accept", "application/json")
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%w: encoding %s %s body: %w", ErrInvalidArgument, method, u.Path, err)
		}
		r.body = b
		r.header.Set("Content-Type", "application/json")
	}
	return r, nil
}

// withTimeout applies the default timeout when ctx has no deadline.
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.timeout)
}

// do sends r and decodes a JSON answer into v (when v is not nil and the
// answer has a body). Every non-2xx answer is an *ErrorResponse or
// *RateLimitError.
func (c *Client) do(ctx context.Context, r *request, v any) (*Response, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	resp, err := c.send(ctx, r)
	if err != nil {
		return resp, err
	}
	defer resp.Body.Close()
	if v == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return resp, fmt.Errorf("atlassian: decoding %s %s: %w", r.method, r.url.Redacted(), err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp, nil
}

// stream sends r and hands back the unread body; the default timeout, if one
// applies, ends when the body is closed.
func (c *Client) stream(ctx context.Context, r *request) (io.ReadCloser, *Response, error) {
	ctx, cancel := c.withTimeout(ctx)
	resp, err := c.send(ctx, r)
	if err != nil {
		cancel()
		return nil, resp, err
	}
	return &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}, resp, nil
}

// cancelOnClose ties the end of a streamed call's timeout to its body.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

// Close closes the body, then releases the call's timeout.
func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// attempt sends r once.
func (c *Client) attempt(ctx context.Context, r *request) (*http.Response, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(noDeadline{ctx}, r.method, r.url.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%w: building %s request: %w", ErrInvalidArgument, r.method, err)
	}
	for k, vs := range r.header {
		req.Header[k] = append([]string(nil), vs...)
	}
	req.Header.Set("User-Agent", c.userAgent)
	public := req.Clone(req.Context())
	public.Body = nil
	if auth := c.authFor(ctx); auth != nil {
		req.Header.Set("Authorization", auth.header())
	}
	resp, err := c.httpClient.Do(req)
	if resp != nil {
		// Whoever inspects the answer sees the request without credentials.
		resp.Request = public
	}
	return resp, err
}

// noDeadline hides a context's deadline from net/http, which reads it on the real clock
// (a dial whose deadline seems past fails at once), while the context's cancellation still
// ends the request: a deadline belongs to the clock that set it, and a context made on a
// fake clock (clockwork.WithDeadline) closes Done when that clock passes it.
type noDeadline struct{ context.Context }

func (noDeadline) Deadline() (time.Time, bool) { return time.Time{}, false }
