package client

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// Only a path ending in /products/status/{id} yields a provisioning request id: any other
// last segment used to be taken for one.
func TestProvisionRequestIDNeedsTheStatusPath(t *testing.T) {
	const base = "https://api.atlassian.com/admin/installations/v2/orgs/o"
	for _, in := range []string{
		base + "/products/r1",
		base + "/products/other/r1",
		base + "/products/status/r1/extra",
		base + "/status/r1",
		"https://api.atlassian.com/r1",
		base + "/products/status/..",
		base + "/products/status/.",
		base + "/products/status/r%0A1",
		base + "/products/status/" + strings.Repeat("a", maxProvisionRequestIDLen+1),
	} {
		if id, err := ProvisionRequestID(in); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("ProvisionRequestID(%q) = %q, %v; want ErrInvalidArgument", in, id, err)
		}
	}
}

// StatusURL builds the statusUrl a provisioning answer gives, under the base URL: trusted by
// GetProvisionStatus, and naming its request id, however the ids must be escaped.
func TestStatusURL(t *testing.T) {
	c, err := NewClient(WithBaseURL("https://api.example.test/atlassian"), WithAPIKey("k"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"6664d179-c5e8-4f6a-9f45-8a9f0756440", "a b", "x%2Fy"} {
		u := c.Installations.StatusURL("org/1", id)
		if !strings.HasPrefix(u, "https://api.example.test/atlassian/admin/installations/v2/orgs/org%2F1/products/status/") {
			t.Errorf("StatusURL(%q) = %s", id, u)
		}
		if err := c.Installations.CheckStatusURL(u); err != nil {
			t.Errorf("StatusURL(%q) = %s, refused: %v", id, u, err)
		}
		if got, err := ProvisionRequestID(u); err != nil || got != id && got != url.PathEscape(id) {
			t.Errorf("ProvisionRequestID(%s) = %q, %v; want %q", u, got, err, id)
		}
	}
}
