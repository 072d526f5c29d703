package client

import (
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

// String, GoString and Format redact the credentials under every verb.
func (credentials) String() string                { return redacted }
func (credentials) GoString() string              { return redacted }
func (credentials) Format(f fmt.State, verb rune) { fmt.Fprint(f, redacted) }

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
