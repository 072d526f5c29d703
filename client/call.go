package client

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// call sends r and decodes the answer into a new T.
func call[T any](ctx context.Context, c *Client, r *request, err error) (*T, *Response, error) {
	if err != nil {
		return nil, nil, err
	}
	out := new(T)
	resp, err := c.do(ctx, r, out)
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// callNoContent sends r and discards the answer's body.
func callNoContent(ctx context.Context, c *Client, r *request, err error) (*Response, error) {
	if err != nil {
		return nil, err
	}
	return c.do(ctx, r, nil)
}

// seg escapes one path segment. Besides what url.PathEscape escapes ("/" in
// ARIs such as ari:cloud:jira-software::site/…), ":" is escaped too, as the
// reference's own links do, so that no segment can be read as a scheme.
func seg(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
}

// required returns an error wrapping ErrInvalidArgument naming the first empty
// argument; args are name, value pairs.
func required(args ...string) error {
	for i := 0; i+1 < len(args); i += 2 {
		if strings.TrimSpace(args[i+1]) == "" {
			return fmt.Errorf("%w: %s is required", ErrInvalidArgument, args[i])
		}
	}
	return nil
}

// requiredBody returns an error wrapping ErrInvalidArgument when a request body is nil.
func requiredBody[T any](name string, body *T) error {
	if body == nil {
		return fmt.Errorf("%w: %s is required", ErrInvalidArgument, name)
	}
	return nil
}

// withHeader sets a header on a built request when value is not empty. A value that
// HTTP forbids (a control character such as CR or LF) is an error wrapping
// ErrInvalidArgument, raised here rather than by net/http at the first attempt, so that
// nobody mistakes the local refusal for a network failure worth retrying. The value is
// not repeated in the error.
func withHeader(r *request, err error, key, value string) (*request, error) {
	if err != nil || value == "" {
		return r, err
	}
	if !validHeaderValue(value) {
		return nil, fmt.Errorf("%w: the %s header value holds a control character", ErrInvalidArgument, key)
	}
	r.header.Set(key, value)
	return r, nil
}

// validHeaderValue reports whether net/http would send v as a header value: no control
// character but the horizontal tab (RFC 9110, field-value).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// headerTransactionAccount names the transaction account that commerce order
// and quote calls act for (install cookbook, "Get status of order").
const headerTransactionAccount = "X-transaction-account"
