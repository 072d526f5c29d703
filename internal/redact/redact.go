// Package redact hides the credentials a URL may carry before it is logged or shown.
package redact

import (
	"net/url"
	"strings"
)

// hidden stands in for a password or token.
const hidden = "xxxxx"

// URL hides the password or token a URL carries (NATS takes a lone user name as a token),
// for each URL of a comma-separated list. Text that does not parse is hidden whole, since it
// may be a mistyped credential.
func URL(raw string) string {
	if strings.Contains(raw, ",") {
		parts := strings.Split(raw, ",")
		for i, p := range parts {
			parts[i] = URL(strings.TrimSpace(p))
		}
		return strings.Join(parts, ",")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "[REDACTED]"
	case u.User == nil:
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), hidden)
	} else {
		u.User = url.User(hidden)
	}
	return u.String()
}
