package client

// Types of the Installations API (install cookbook, "Provision product instances",
// "Provision app on product", "Get provisioning status", "Get product Entitlement ID").
// The Installations API speaks snake_case in entitlement listings and camelCase elsewhere.

// ProvisionOffering is one offering to provision. Location is set for product
// instances and left empty for apps.
type ProvisionOffering struct {
	ID       string `json:"id"`
	Location string `json:"location,omitempty"`
}

// ProvisionParameters are the parameters of a provisioning request. Name and
// Timezone are set for products (Timezone only for a new site); AppKey for apps.
type ProvisionParameters struct {
	AdminEmail string `json:"adminEmail"`
	Name       string `json:"name,omitempty"`
	Timezone   string `json:"timezone,omitempty"`
	AppKey     string `json:"appKey,omitempty"`
}

// ProvisionRequest is the body of POST /admin/installations/v2/orgs/{orgId}/products
// and of POST …/products/{productAri}/apps.
type ProvisionRequest struct {
	Offerings  []ProvisionOffering `json:"offerings"`
	Parameters ProvisionParameters `json:"parameters"`
}

// ProvisionResponse is the answer to a provisioning request.
type ProvisionResponse struct {
	Data struct {
		StatusURL string `json:"statusUrl"`
	} `json:"data"`
}

// Provisioning statuses as reported in ProvisionStatus.Data.Status.
const (
	ProvisionInProgress = "IN_PROGRESS"
	ProvisionCompleted  = "COMPLETED"
	ProvisionSuccess    = "SUCCESS"
	ProvisionFailed     = "FAILED"
	ProvisionTimedOut   = "TIMED_OUT"
	ProvisionCancelled  = "CANCELLED"
)

// ProvisionStatus is the answer of GET on a provisioning statusUrl.
type ProvisionStatus struct {
	Data struct {
		RequestID string `json:"requestId"`
		Status    string `json:"status"`
	} `json:"data"`
}

// ProductEntitlements is the answer of
// GET /admin/installations/v2/orgs/{orgId}/products/{productAri}/entitlements.
type ProductEntitlements struct {
	ResourceARI  string                     `json:"resource_ari"`
	Entitlements []ProductEntitlement       `json:"entitlements"`
	Metadata     ProductEntitlementMetadata `json:"metadata"`
}

// ProductEntitlement is one entitlement of a product instance.
type ProductEntitlement struct {
	EntitlementID      string   `json:"entitlement_id"`
	ProvisioningStatus string   `json:"provisioning_status"`
	SuspensionReasons  []string `json:"suspension_reasons"`
	CanReactivate      bool     `json:"can_reactivate"`
}

// ProductEntitlementMetadata carries the Jira family container of a Jira-family product.
type ProductEntitlementMetadata struct {
	JiraFamilyContainer string `json:"jira_family_container,omitempty"`
}
