package client

// Types of the JSM Customer Service Management REST API, Entitlement group
// (https://developer.atlassian.com/cloud/customer-service-management/rest/api-group-entitlement/).

// CSM entity types for ListEntitlements (EntitlementEntityType).
const (
	EntityCustomer     = "CUSTOMER"
	EntityOrganization = "ORGANIZATION"
)

// DetailFieldType is the type of an entitlement detail field, e.g. SELECT with
// its options.
type DetailFieldType struct {
	Name    string   `json:"name"`
	Options []string `json:"options,omitempty"`
}

// DetailFieldConfiguration places a detail field in the form.
type DetailFieldConfiguration struct {
	Position int `json:"position,omitempty"`
}

// DetailField is an entitlement detail field, with its configuration when the
// API reports one.
type DetailField struct {
	Name          string                    `json:"name"`
	Type          DetailFieldType           `json:"type"`
	Configuration *DetailFieldConfiguration `json:"configuration,omitempty"`
}

// DetailFields is the answer of GET …/entitlement/details.
type DetailFields struct {
	Results []DetailField `json:"results"`
}

// CreateDetailFieldRequest is the body of POST …/entitlement/details.
type CreateDetailFieldRequest struct {
	Name string          `json:"name"`
	Type DetailFieldType `json:"type"`
}

// EditDetailFieldRequest is the body of PUT …/entitlement/details/{fieldName}:
// a new name and, for SELECT and MULTISELECT, the options.
type EditDetailFieldRequest struct {
	Name    string   `json:"name"`
	Options []string `json:"options,omitempty"`
}

// CSMEntitlement is an entitlement of a customer or organization, with its
// detail values.
type CSMEntitlement struct {
	ID             string                 `json:"id"`
	Product        CSMProduct             `json:"product"`
	EntitledEntity CSMEntity              `json:"entitledEntity"`
	Details        []CSMEntitlementDetail `json:"details"`
}

// CSMProduct is the product an entitlement is for.
type CSMProduct struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// CSMEntity is the customer or organization that holds an entitlement.
type CSMEntity struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// CSMEntitlementDetail is the value of one detail field on an entitlement.
type CSMEntitlementDetail struct {
	ID            string                    `json:"id,omitempty"`
	Name          string                    `json:"name"`
	Type          DetailFieldType           `json:"type"`
	Values        []string                  `json:"values"`
	Configuration *DetailFieldConfiguration `json:"configuration,omitempty"`
}

// CSMEntitlementPage is one page of GET …/entitlements (PaginatedEntitlements).
type CSMEntitlementPage struct {
	StartAt    int              `json:"startAt"`
	MaxResults int              `json:"maxResults"`
	Total      int              `json:"total"`
	IsLast     bool             `json:"isLast"`
	Results    []CSMEntitlement `json:"results"`
}

// CSMEntitlementListOptions are the query of GET …/entitlements. EntityType
// (EntityCustomer or EntityOrganization) and EntityID are required; zero
// Start, Limit and ProductID are left out.
type CSMEntitlementListOptions struct {
	EntityType string
	EntityID   string
	Start      int
	Limit      int
	ProductID  string
}
