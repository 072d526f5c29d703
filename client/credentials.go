package client

import (
	"encoding/base64"
	"fmt"
)

// redacted is what every formatting of a credential prints.
const redacted = "[REDACTED]"

// secret holds a credential. It prints as [REDACTED] under every fmt verb,
// so a credential cannot leak through a log line, an error string or a %#v dump.
type secret string

func (secret) String() string                { return redacted }
func (secret) GoString() string              { return redacted }
func (secret) Format(f fmt.State, verb rune) { fmt.Fprint(f, redacted) }
func (secret) MarshalText() ([]byte, error)  { return []byte(redacted), nil }

// credentials is the Authorization header value the client sends. It lives
// behind a pointer in Client, so that even reflection-based printing of an
// unexported field (which bypasses Format) shows only an address.
type credentials struct {
	header secret
}

func (*credentials) String() string                { return redacted }
func (*credentials) GoString() string              { return redacted }
func (*credentials) Format(f fmt.State, verb rune) { fmt.Fprint(f, redacted) }

// bearer is an organization API key (install cookbook, "Authorization").
func bearer(key string) *credentials {
	return &credentials{header: secret("Bearer " + key)}
}

// basic is a site admin's email and API token (install cookbook,
// "Site-scoped permissions (site-admin)").
func basic(email, token string) *credentials {
	enc := base64.StdEncoding.EncodeToString([]byte(email + ":" + token))
	return &credentials{header: secret("Basic " + enc)}
}
