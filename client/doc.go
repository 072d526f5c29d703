// Package client is a typed client for the Atlassian APIs the installer uses:
// the install cookbook's installations, workspaces and commerce endpoints,
// commerce quotes, Marketplace promotions and JSM customer service management
// entitlements.
//
//	c, err := client.NewClient(client.WithAPIKey(os.Getenv("ATLASSIAN_API_KEY")))
//	if err != nil { … }
//	details, _, err := c.Commerce.GetEntitlementDetails(ctx, entitlementID)
//	prov, _, err := c.Installations.ProvisionProducts(ctx, orgID, &client.ProvisionRequest{…})
//	order, _, err := c.Commerce.CreateOrder(ctx, &client.OrderRequest{OrderID: id, …})
//	status, _, err := c.Installations.GetProvisionStatus(ctx, prov.Data.StatusURL)
//
// Every non-2xx answer is an *ErrorResponse (a 429 a *RateLimitError, which
// unwraps to one); use errors.As. Calls are retried with capped, jittered
// exponential back-off (Retry-After honoured) only when repeating them is safe,
// as often as the client's Retry says (WithRetry) or a call's own
// (ContextWithRetry), and client-side rate limits follow the documented quotas. Credentials never
// appear in errors or in the printed form of any value, and no redirect is
// followed.
package client
