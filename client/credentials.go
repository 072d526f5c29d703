package client

import (
	"context"
	"encoding/base64"
	"fmt"
)

// redacted is what every formatting of a credential prints.
const redacted = "[REDACTED]"

// credentials hold the Authorization header value the client sends. The value
// lives only inside a closure: fmt and reflection print a func as an address,
// so no verb, and no dump of a struct holding credentials, can show it.
type credentials struct {
	header func() string
}

// String redacts the credentials.
func (credentials) String() string { return redacted }

// GoString redacts the credentials under %#v.
func (credentials) GoString() string { return redacted }

// Format redacts the credentials under every other verb.
func (credentials) Format(f fmt.State, _ rune) { fmt.Fprint(f, redacted) }

func newCredentials(header string) *credentials {
	return &credentials{header: func() string { return header }}
}

// bearer is an organization API key (install cookbook, "Authorization").
func bearer(key string) *credentials {
	return newCredentials("Bearer " + key)
}

// basic is a site admin's email and API token (install cookbook,
// "Site-scoped permissions (site-admin)").
func basic(email, token string) *credentials {
	return newCredentials("Basic " + base64.StdEncoding.EncodeToString([]byte(email+":"+token)))
}

// Credentials authenticate calls: an organization API key (APIKey) or a site admin's email
// and API token (BasicAuth). Like the client's own, nothing prints them. The zero value
// holds none.
type Credentials struct {
	c *credentials
}

// String redacts the credentials, as every other fmt verb does.
func (cr Credentials) String() string { return redacted }

// GoString redacts the credentials under %#v.
func (cr Credentials) GoString() string { return redacted }

// Format redacts the credentials under every fmt verb.
func (cr Credentials) Format(f fmt.State, _ rune) { fmt.Fprint(f, redacted) }

// APIKey is an organization API key, sent as "Authorization: Bearer". An error (wrapping
// ErrInvalidOption) never echoes the key.
func APIKey(key string) (Credentials, error) {
	if err := checkCredential("APIKey", "key", key); err != nil {
		return Credentials{}, err
	}
	return Credentials{bearer(key)}, nil
}

// BasicAuth is a site admin's email and API token, sent as "Authorization: Basic". An
// error (wrapping ErrInvalidOption) never echoes the token.
func BasicAuth(email, token string) (Credentials, error) {
	if err := checkBasic("BasicAuth", email, token); err != nil {
		return Credentials{}, err
	}
	return Credentials{basic(email, token)}, nil
}

type credentialsKey struct{}

// ContextWithCredentials returns a context whose calls authenticate with cr instead of the
// client's own credentials (WithAPIKey, WithBasicAuth), so that one client, its connections
// and its rate limits serve several organizations, each call with its organization's
// credentials. Zero Credentials leave the client's own.
func ContextWithCredentials(ctx context.Context, cr Credentials) context.Context {
	if cr.c == nil {
		return ctx
	}
	return context.WithValue(ctx, credentialsKey{}, cr.c)
}

// authFor is the credentials of a call made with ctx.
func (c *Client) authFor(ctx context.Context) *credentials {
	if cr, ok := ctx.Value(credentialsKey{}).(*credentials); ok {
		return cr
	}
	return c.auth
}
