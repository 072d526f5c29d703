package client

import (
	"context"
	"net/http"
	"strings"
)

// InstallationsService provisions products and apps and reports on them
// (install cookbook: https://developer.atlassian.com/platform/admin/install-cookbook/).
type InstallationsService service

// ListProductEntitlements returns the entitlements of a product instance, and
// for Jira-family products the Jira family container.
//
// Install cookbook, "Get product Entitlement ID":
// GET /admin/installations/v2/orgs/{orgId}/products/{productAri}/entitlements.
func (s *InstallationsService) ListProductEntitlements(ctx context.Context, orgID, productARI string) (*ProductEntitlements, *Response, error) {
	if err := required("orgID", orgID, "productARI", productARI); err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequest(http.MethodGet, ProductEntitlementsPath(orgID, productARI),
		nil, nil, FamilyInstallations, retryIdempotent)
	return call[ProductEntitlements](ctx, s.client, r, err)
}

// ProvisionProducts provisions product instances on a new site (Name and
// Timezone set) or an existing one (Name only). The answer's statusUrl is
// polled with GetProvisionStatus; an order naming its ProvisionRequestID must
// follow within 10 minutes. A failed attempt is repeated only when the
// request surely never reached the API (or on 429 and 503), so a site is never
// provisioned twice by the client.
//
// Install cookbook, "Provision product instances":
// POST /admin/installations/v2/orgs/{orgId}/products.
func (s *InstallationsService) ProvisionProducts(ctx context.Context, orgID string, req *ProvisionRequest) (*ProvisionResponse, *Response, error) {
	if err := required("orgID", orgID); err != nil {
		return nil, nil, err
	}
	if err := requiredBody("req", req); err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequest(http.MethodPost, ProvisionProductsPath(orgID),
		nil, req, FamilyInstallations, retryUnsent)
	return call[ProvisionResponse](ctx, s.client, r, err)
}

// ProvisionApp provisions an app on a product instance, named by its ARI (the
// workspace id). Retried like ProvisionProducts.
//
// Install cookbook, "Provision app on product":
// POST /admin/installations/v2/orgs/{orgId}/products/{productAri}/apps.
func (s *InstallationsService) ProvisionApp(ctx context.Context, orgID, productARI string, req *ProvisionRequest) (*ProvisionResponse, *Response, error) {
	if err := required("orgID", orgID, "productARI", productARI); err != nil {
		return nil, nil, err
	}
	if err := requiredBody("req", req); err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequest(http.MethodPost, ProvisionAppPath(orgID, productARI),
		nil, req, FamilyInstallations, retryUnsent)
	return call[ProvisionResponse](ctx, s.client, r, err)
}

// CheckStatusURL reports whether GetProvisionStatus would accept statusURL,
// without calling it: a caller that orders between provisioning and polling
// (install cookbook, "Place order for provisioned product(s) within 10 minutes")
// can refuse an untrusted statusUrl before anything is ordered. The error wraps
// ErrUntrustedStatusURL.
//
// Install cookbook, "Get provisioning status".
func (s *InstallationsService) CheckStatusURL(statusURL string) error {
	_, err := s.client.checkStatusURL(statusURL)
	return err
}

// StatusURL is the statusUrl of provisioning request provisionRequestID of organization
// orgID under the client's base URL, as a provisioning answer gives it: for a caller that
// lost that answer and learnt the request id from the order that names it
// (metadata.provisionRequestId).
func (s *InstallationsService) StatusURL(orgID, provisionRequestID string) string {
	return strings.TrimSuffix(s.client.baseURL.String(), "/") + ProvisionStatusPath(orgID, provisionRequestID)
}

// GetProvisionStatus reads the status behind a statusUrl that a provisioning
// answer returned. It refuses, with an error wrapping ErrUntrustedStatusURL, a
// URL whose scheme, host or port differ from the base URL's, that carries
// userinfo, or whose path is not under the base path's /admin/installations/.
//
// Install cookbook, "Get provisioning status":
// GET /admin/installations/v2/orgs/{orgId}/products/status/{requestId}.
func (s *InstallationsService) GetProvisionStatus(ctx context.Context, statusURL string) (*ProvisionStatus, *Response, error) {
	u, err := s.client.checkStatusURL(statusURL)
	if err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequestURL(http.MethodGet, u, nil, FamilyInstallations, retryIdempotent)
	return call[ProvisionStatus](ctx, s.client, r, err)
}
