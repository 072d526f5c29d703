package journey

import (
	"context"
	"iter"

	"github.com/procurement/atlassian-installer/client"
)

// Installations is the part of the Atlassian Installations API the journeys use;
// *client.InstallationsService satisfies it.
type Installations interface {
	ListProductEntitlements(ctx context.Context, orgID, productARI string) (*client.ProductEntitlements, *client.Response, error)
	ProvisionProducts(ctx context.Context, orgID string, req *client.ProvisionRequest) (*client.ProvisionResponse, *client.Response, error)
	ProvisionApp(ctx context.Context, orgID, productARI string, req *client.ProvisionRequest) (*client.ProvisionResponse, *client.Response, error)
	GetProvisionStatus(ctx context.Context, statusURL string) (*client.ProvisionStatus, *client.Response, error)
	// CheckStatusURL refuses a statusUrl GetProvisionStatus would refuse, so that the
	// journey fails before ordering rather than at its first poll.
	CheckStatusURL(statusURL string) error
	// StatusURL is the statusUrl of an organization's provisioning request, as its answer
	// would have given it: the journey polls the provisioning its order names when the
	// provisioning answer was lost.
	StatusURL(orgID, provisionRequestID string) string
}

// Commerce is the part of the Atlassian Commerce API the journeys use;
// *client.CommerceService satisfies it.
type Commerce interface {
	GetEntitlementDetails(ctx context.Context, entitlementID string) (*client.EntitlementDetails, *client.Response, error)
	CreateOrder(ctx context.Context, req *client.OrderRequest) (*client.OrderResponse, *client.Response, error)
	GetOrder(ctx context.Context, orderID, transactionAccountID string) (*client.Order, *client.Response, error)
}

// Workspaces is the part of the Atlassian Workspaces API the journeys use;
// *client.WorkspacesService satisfies it.
type Workspaces interface {
	QueryIter(ctx context.Context, orgID string, q client.WorkspaceQuery) iter.Seq2[client.Workspace, error]
}

// API groups the Atlassian services a journey calls (ClientAPI: those of a *client.Client);
// main may wrap each in tracing or metrics decorators.
type API struct {
	Installations Installations
	Commerce      Commerce
	Workspaces    Workspaces
}

// ClientAPI is the API of the Atlassian client c.
func ClientAPI(c *client.Client) API {
	return API{Installations: c.Installations, Commerce: c.Commerce, Workspaces: c.Workspaces}
}

// Missing names the first of a's services that is nil, "" when none is.
func (a API) Missing() string {
	switch {
	case a.Installations == nil:
		return "Installations"
	case a.Commerce == nil:
		return "Commerce"
	case a.Workspaces == nil:
		return "Workspaces"
	}
	return ""
}
