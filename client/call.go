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

// withHeader sets a header on a built request when value is not empty.
func withHeader(r *request, err error, key, value string) (*request, error) {
	if err == nil && value != "" {
		r.header.Set(key, value)
	}
	return r, err
}

// headerTransactionAccount names the transaction account that commerce order
// and quote calls act for (install cookbook, "Get status of order").
const headerTransactionAccount = "X-transaction-account"
