package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// send performs r with the client's retry policy and rate limits. It returns
// the first 2xx answer with its body unread, or the last error: an
// *ErrorResponse, *RateLimitError or transport error, joined with the
// context's error when the context ended a wait. When no attempt can have
// reached the API's processing (each was refused with 429, never connected,
// or none was made), the error says so to Unprocessed.
//
// Attempts and waits follow the call's Retry (retryOf). Waits honour
// Retry-After on 429 and 503; otherwise they follow a capped, jittered
// exponential back-off (cenkalti/backoff). They run on the injected clock and
// never past the context's deadline (see untilDeadline).
func (c *Client) send(ctx context.Context, r *request) (*Response, error) {
	policy := c.retryOf(ctx)
	b := &backoff.ExponentialBackOff{
		InitialInterval:     policy.Backoff,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         policy.MaxBackoff,
	}
	b.Reset()
	reached := false // an attempt may have been processed
	result := func(resp *Response, err error) (*Response, error) {
		if reached {
			return resp, err
		}
		return resp, &unprocessedError{err}
	}
	for attempt := 1; ; attempt++ {
		if err := c.waitTurn(ctx, r, attempt); err != nil {
			return result(nil, err)
		}
		if err := ctx.Err(); err != nil {
			return result(nil, fmt.Errorf("atlassian: %s %s not sent: %w", r.method, r.url.Redacted(), context.Cause(ctx)))
		}
		httpResp, err := c.attempt(ctx, r)
		var resp *Response
		if httpResp != nil {
			resp = &Response{Response: httpResp}
			err = checkResponse(httpResp, c.clock.Now())
			if err == nil {
				return resp, nil
			}
		}
		reached = reached || mayHaveBeenProcessed(httpResp, err)
		wait, retry := c.retryable(r, httpResp, err)
		if httpResp != nil && httpResp.StatusCode == http.StatusTooManyRequests && wait > 0 {
			// The API's quota is spent for the organization: every caller of the limiter waits.
			c.limiter.Pause(OrganizationFrom(ctx), r.family, wait)
		}
		if !retry || attempt >= policy.Attempts || ctx.Err() != nil {
			return result(resp, err)
		}
		if wait <= 0 {
			// Jitter may push an interval past the cap; the cap wins.
			wait = min(b.NextBackOff(), policy.MaxBackoff)
		}
		if left, ok := c.untilDeadline(ctx); ok && left < wait {
			// The wait would outlast the caller's patience: hand the answer
			// back now so that the caller can park the work instead.
			return result(resp, err)
		}
		if c.onRetry != nil {
			c.onRetry(RetryEvent{Method: r.method, URL: r.url.Redacted(), Family: r.family, Attempt: attempt, Wait: wait, Err: err})
		}
		select {
		case <-c.clock.After(wait):
		case <-ctx.Done():
			return result(resp, fmt.Errorf("%w; retry abandoned: %w", err, context.Cause(ctx)))
		}
	}
}

// untilDeadline is how long ctx has left, and whether it has a deadline at all. A
// context does not say which clock set its deadline: clockwork.WithDeadline on the
// client's clock (a fake one in tests, so that a caller's deadline follows it) or
// context.WithTimeout on the real one (the default timeout). Both readings are taken
// and the longer wins, so that a deadline counts as near only when it is near on the
// clock that set it; on the real clock the two agree.
func (c *Client) untilDeadline(ctx context.Context) (time.Duration, bool) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return 0, false
	}
	return max(deadline.Sub(c.clock.Now()), time.Until(deadline)), true
}

// retryable decides whether a failed attempt may be repeated and, when the
// API named one, how long to wait first.
func (c *Client) retryable(r *request, resp *http.Response, err error) (time.Duration, bool) {
	if resp == nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrInvalidArgument) {
			return 0, false
		}
		if r.class == retryIdempotent {
			return 0, true
		}
		return 0, neverSent(err)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		// The API refused the request without acting on it.
		d, _ := parseRetryAfter(resp.Header.Get("Retry-After"), c.clock.Now())
		return d, true
	case code == http.StatusServiceUnavailable:
		// Usually refused unprocessed too, but a proxy may answer 503 for a request it
		// forwarded: only a request safe to repeat is sent again.
		d, _ := parseRetryAfter(resp.Header.Get("Retry-After"), c.clock.Now())
		return d, r.class == retryIdempotent
	case code >= 500 && code != http.StatusNotImplemented:
		return 0, r.class == retryIdempotent
	default:
		return 0, false
	}
}

// mayHaveBeenProcessed reports whether a failed attempt may have reached the API's
// processing: any answer but 429 (a 5xx may come from a proxy that forwarded the
// request), or a transport error once a connection existed; a request refused by the
// client itself never left.
func mayHaveBeenProcessed(resp *http.Response, err error) bool {
	if resp != nil {
		return resp.StatusCode != http.StatusTooManyRequests
	}
	return !neverSent(err) && !errors.Is(err, ErrInvalidArgument)
}

// Unprocessed reports whether err, the error of a call, proves that the API did not act on
// the request: every attempt was refused with 429 or never reached the server, or none was
// made. A caller that must know whether a POST may have had its effect (an order) asks it.
func Unprocessed(err error) bool {
	var u *unprocessedError
	return errors.As(err, &u)
}

// unprocessedError marks the error of a call no attempt of which can have been processed.
type unprocessedError struct{ error }

func (e *unprocessedError) Unwrap() error { return e.error }

// neverSent reports whether err proves that no byte of the request reached
// the server: the connection was never established.
func neverSent(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// RetryEvent describes a failed attempt that the client is about to repeat,
// for metrics and logs (see WithOnRetry). URL never carries credentials.
type RetryEvent struct {
	Method  string
	URL     string
	Family  Family
	Attempt int           // the attempt that failed, from 1
	Wait    time.Duration // the wait before the next attempt
	Err     error         // why the attempt failed
}

// Retry is how often a call is attempted and how long it waits between attempts: Attempts
// in all (1: no retry), after a back-off that starts at Backoff and doubles per attempt up to
// MaxBackoff, jittered by ±50 %; a Retry-After of the API replaces the back-off's wait.
// Which failures are retried at all does not depend on it: that is the endpoint's (a
// provisioning request is sent again only when it surely had no effect).
type Retry struct {
	Attempts   int
	Backoff    time.Duration
	MaxBackoff time.Duration
}

// DefaultRetry is the retry of a new Client (WithRetry changes it).
var DefaultRetry = Retry{Attempts: DefaultMaxAttempts, Backoff: DefaultBackoff, MaxBackoff: DefaultMaxBackoff}

type retryKey struct{}

// ContextWithRetry returns a context whose calls follow r instead of the client's retry
// (DefaultRetry, or WithRetry's), such as the order's own policy. A field that is not
// positive keeps the client's value; a Backoff above MaxBackoff starts at MaxBackoff.
func ContextWithRetry(ctx context.Context, r Retry) context.Context {
	return context.WithValue(ctx, retryKey{}, r)
}

// retryOf is the retry of a call made with ctx.
func (c *Client) retryOf(ctx context.Context) Retry {
	p := c.retry
	if r, ok := ctx.Value(retryKey{}).(Retry); ok {
		if r.Attempts > 0 {
			p.Attempts = r.Attempts
		}
		if r.Backoff > 0 {
			p.Backoff = r.Backoff
		}
		if r.MaxBackoff > 0 {
			p.MaxBackoff = r.MaxBackoff
		}
	}
	p.Backoff = min(p.Backoff, p.MaxBackoff)
	return p
}
