// Package atlassiantest is an in-memory, stateful stand-in for the Atlassian
// APIs that package client covers, in the manner of net/http/httptest: tests
// (and the atlassian-sandbox command) run whole install journeys against it
// without spending money on real orders.
//
//	s := atlassiantest.NewServer(atlassiantest.WithClock(clock))
//	defer s.Close()
//	c, _ := client.NewClient(client.WithBaseURL(s.URL), client.WithAPIKey(atlassiantest.DefaultAPIKey))
//
// The state is consistent across endpoints: a provisioning request is
// IN_PROGRESS until an order names it, the order's items go PROCESSING then
// SUCCESS, and the entitlements and sites they create then appear in the
// entitlement details, product entitlements and workspaces APIs. All timing
// is read lazily from the injected clock, so a fake clock drives it with no
// goroutines or timers. Faults (latency, 5xx, 429, dropped connections,
// failing provisioning or order items) are set per endpoint with SetFault.
package atlassiantest
