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
