package client

// WorkspaceQuery is the body of POST /admin/v2/orgs/{orgId}/workspaces
// (install cookbook, "Get product ARI").
type WorkspaceQuery struct {
	Query  WorkspaceQueryFilter `json:"query"`
	Cursor string               `json:"cursor,omitempty"`
	Limit  int                  `json:"limit,omitempty"`
}

// WorkspaceQueryFilter filters workspaces by one field.
type WorkspaceQueryFilter struct {
	Field WorkspaceQueryField `json:"field"`
}

// WorkspaceQueryField names a field and the values it may have, e.g.
// {Name: "attributes.name", Values: ["acme"]}.
type WorkspaceQueryField struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// WorkspacePage is one page of the workspaces query.
type WorkspacePage struct {
	Data  []Workspace    `json:"data"`
	Links PageLinks      `json:"links"`
	Meta  WorkspacesMeta `json:"meta"`
}

// PageLinks are the cursor links of a page; Next is empty on the last page.
type PageLinks struct {
	Self string `json:"self,omitempty"`
	Prev string `json:"prev,omitempty"`
	Next string `json:"next,omitempty"`
}

// WorkspacesMeta describes the position of a page in the result.
type WorkspacesMeta struct {
	PageSize   int `json:"pageSize"`
	StartIndex int `json:"startIndex"`
	EndIndex   int `json:"endIndex"`
	Total      int `json:"total"`
}

// Workspace is a product instance of the organization. Its ID is the product ARI.
type Workspace struct {
	ID            string                 `json:"id"`
	Type          string                 `json:"type"`
	Attributes    WorkspaceAttributes    `json:"attributes"`
	Links         PageLinks              `json:"links"`
	Relationships WorkspaceRelationships `json:"relationships"`
}

// WorkspaceAttributes are the descriptive fields of a workspace.
type WorkspaceAttributes struct {
	Name          string            `json:"name"`
	TypeKey       string            `json:"typeKey"`
	Type          string            `json:"type"`
	Owner         string            `json:"owner,omitempty"`
	Status        string            `json:"status"`
	StatusDetails []string          `json:"statusDetails,omitempty"`
	Labels        []string          `json:"labels,omitempty"`
	Sandbox       *WorkspaceSandbox `json:"sandbox,omitempty"`
	Usage         int               `json:"usage,omitempty"`
	Capacity      int               `json:"capacity,omitempty"`
	CreatedAt     string            `json:"createdAt,omitempty"`
	CreatedBy     string            `json:"createdBy,omitempty"`
	UpdatedAt     string            `json:"updatedAt,omitempty"`
	HostURL       string            `json:"hostUrl"`
	Realm         string            `json:"realm,omitempty"`
	Regions       []string          `json:"regions,omitempty"`
}

// WorkspaceSandbox says whether a workspace is a sandbox of another.
type WorkspaceSandbox struct {
	Type     string  `json:"type"`
	ParentID *string `json:"parentId,omitempty"`
}

// WorkspaceRelationships links a workspace to its entitlements.
type WorkspaceRelationships struct {
	Entitlement []WorkspaceEntitlement `json:"entitlement,omitempty"`
}

// WorkspaceEntitlement is an entitlement of a workspace; its ID is what the
// entitlement details API takes.
type WorkspaceEntitlement struct {
	ID         string                         `json:"id"`
	Type       string                         `json:"type,omitempty"`
	Links      PageLinks                      `json:"links"`
	Attributes WorkspaceEntitlementAttributes `json:"attributes"`
}

// WorkspaceEntitlementAttributes names the plan of a workspace entitlement.
type WorkspaceEntitlementAttributes struct {
	PlanKey string `json:"planKey,omitempty"`
	Plan    string `json:"plan,omitempty"`
	Key     string `json:"key,omitempty"`
}
