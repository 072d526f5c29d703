package client

import (
	"errors"
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
