package client

import (
	"fmt"
	"net/url"
	"path"
	"strings"
	"unicode"
)

// installationsPrefix is the only path, below the base URL, a provisioning
// statusUrl may name.
const installationsPrefix = "admin/installations/"

// checkStatusURL parses a provisioning statusUrl and accepts it only when it
// points at the configured API: same scheme, host and port as the base URL, no
// userinfo, and a clean path under the base path's admin/installations/. The
// URL comes from an API answer; the check keeps credentials from being sent
// wherever that answer points.
func (c *Client) checkStatusURL(statusURL string) (*url.URL, error) {
	untrusted := func(reason string) error {
		return fmt.Errorf("%w: %s", ErrUntrustedStatusURL, reason)
	}
	if strings.TrimSpace(statusURL) == "" {
		return nil, untrusted("statusUrl is empty")
	}
	if strings.ContainsAny(statusURL, "\\\r\n\t ") {
		return nil, untrusted("statusUrl contains a backslash or whitespace")
	}
	u, err := url.Parse(statusURL)
	if err != nil {
		return nil, untrusted("statusUrl is not a URL")
	}
	base := c.baseURL
	switch {
	case u.User != nil:
		return nil, untrusted("statusUrl carries userinfo")
	case u.Opaque != "" || !u.IsAbs():
		return nil, untrusted("statusUrl is not an absolute URL")
	case !strings.EqualFold(u.Scheme, base.Scheme):
		return nil, untrusted(fmt.Sprintf("scheme %q is not the API's %q", u.Scheme, base.Scheme))
	case !strings.EqualFold(u.Hostname(), base.Hostname()):
		return nil, untrusted(fmt.Sprintf("host %q is not the API's %q", u.Hostname(), base.Hostname()))
	case effectivePort(u) != effectivePort(base):
		return nil, untrusted(fmt.Sprintf("port %s is not the API's %s", effectivePort(u), effectivePort(base)))
	case u.Fragment != "":
		return nil, untrusted("statusUrl has a fragment")
	}
	want := base.Path + installationsPrefix
	if !strings.HasPrefix(u.Path, want) || path.Clean(u.Path) != u.Path {
		return nil, untrusted(fmt.Sprintf("path %q is not under %s", u.Path, want))
	}
	return u, nil
}

// effectivePort is the URL's port, or its scheme's default.
func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// statusPath is what a provisioning statusUrl's path ends in, before the request id.
const statusPath = "/products/status/"

// maxProvisionRequestIDLen bounds the id taken from a statusUrl: it travels in the order and
// in the installer's events.
const maxProvisionRequestIDLen = 256

// ProvisionRequestID returns the provisioning request id a statusUrl ends in
// (…/products/status/{requestId}, a trailing slash tolerated); orders carry it as
// metadata.provisionRequestId (install cookbook, "Place order for provisioned
// product(s) within 10 minutes"). A path that does not end so, or an id that is "." or
// "..", longer than 256 bytes or holds a control character, wraps ErrInvalidArgument.
func ProvisionRequestID(statusURL string) (string, error) {
	u, err := url.Parse(statusURL)
	if err != nil {
		return "", fmt.Errorf("%w: statusUrl is not a URL", ErrInvalidArgument)
	}
	u.User = nil // never echo userinfo
	p := strings.TrimSuffix(u.Path, "/")
	i := strings.LastIndex(p, statusPath)
	id := ""
	if i >= 0 {
		id = p[i+len(statusPath):]
	}
	if id == "" || id == "." || id == ".." || strings.Contains(id, "/") || len(id) > maxProvisionRequestIDLen ||
		strings.IndexFunc(id, unicode.IsControl) >= 0 {
		return "", fmt.Errorf("%w: statusUrl %q does not end in %s{requestId}", ErrInvalidArgument, u.Redacted(), statusPath)
	}
	return id, nil
}
