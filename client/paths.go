package client

// The paths of the install cookbook's calls, below the base URL and escaped as they are sent;
// a dry run shows its calls with them.

// ProvisionProductsPath is where ProvisionProducts posts.
func ProvisionProductsPath(orgID string) string {
	return "/admin/installations/v2/orgs/" + seg(orgID) + "/products"
}

// ProvisionAppPath is where ProvisionApp posts.
func ProvisionAppPath(orgID, productARI string) string {
	return ProvisionProductsPath(orgID) + "/" + seg(productARI) + "/apps"
}

// ProductEntitlementsPath is what ListProductEntitlements reads.
func ProductEntitlementsPath(orgID, productARI string) string {
	return ProvisionProductsPath(orgID) + "/" + seg(productARI) + "/entitlements"
}

// ProvisionStatusPath is the path of a provisioning request's status, as its statusUrl names
// it (products and apps alike).
func ProvisionStatusPath(orgID, provisionRequestID string) string {
	return ProvisionProductsPath(orgID) + statusPath[len("/products"):] + seg(provisionRequestID)
}

// WorkspacesPath is where Query and QueryIter post.
func WorkspacesPath(orgID string) string { return "/admin/v2/orgs/" + seg(orgID) + "/workspaces" }

// EntitlementDetailsPath is what GetEntitlementDetails reads.
func EntitlementDetailsPath(entitlementID string) string {
	return "/commerce/api/v2/entitlements/" + seg(entitlementID) + "/details"
}

// CreateOrderPath is where CreateOrder posts.
const CreateOrderPath = "/commerce/api/v2/orders"
