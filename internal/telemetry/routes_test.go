package telemetry_test

import (
	"testing"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/internal/telemetry"
)

func TestRoute(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/admin/installations/v2/orgs/2e3b/products", "/admin/installations/v2/orgs/{orgId}/products"},
		{"/admin/installations/v2/orgs/2e3b/products/ari%3Acloud%3Ajira-software%3A%3Asite%2F42/entitlements",
			"/admin/installations/v2/orgs/{orgId}/products/{productAri}/entitlements"},
		{"/admin/installations/v2/orgs/2e3b/products/ari%3Acloud%3Ajira-software%3A%3Asite%2F42/apps",
			"/admin/installations/v2/orgs/{orgId}/products/{productAri}/apps"},
		{"/admin/installations/v2/orgs/2e3b/products/status/6664d179", "/admin/installations/v2/orgs/{orgId}/products/status/{requestId}"},
		{"/admin/v2/orgs/2e3b/workspaces", "/admin/v2/orgs/{orgId}/workspaces"},
		{"/commerce/api/v2/entitlements/73a8/details", "/commerce/api/v2/entitlements/{entitlementId}/details"},
		{"/commerce/api/v2/orders", "/commerce/api/v2/orders"},
		{"/commerce/api/v1/orders", "/commerce/api/v1/orders"},
		{"/commerce/api/v2/orders/0aed", "/commerce/api/v2/orders/{orderId}"},
		{"/commerce/api/v3/quotes/Q-1/download", "/commerce/api/v3/quotes/{quoteId}/download"},
		{"/marketplace/catalog/partners/1234/promotions/paged", "/marketplace/catalog/partners/{partnerId}/promotions/paged"},
		{"/marketplace/catalog/partners/1234/promotions/P1/codes/ABC%20123", "/marketplace/catalog/partners/{partnerId}/promotions/{promotionId}/codes/{promotionCode}"},
		{"/jsm/csm/cloudid/c1/api/v1/entitlement/details", "/jsm/csm/cloudid/{cloudId}/api/v1/entitlement/details"},
		{"/jsm/csm/cloudid/c1/api/v1/entitlement/3858a61a", "/jsm/csm/cloudid/{cloudId}/api/v1/entitlement/{entitlementId}"},
		{"/jsm/csm/cloudid/c1/api/v1/entitlement/3858a61a/details", "/jsm/csm/cloudid/{cloudId}/api/v1/entitlement/{entitlementId}/details"},
		// A base URL with a path prefix changes nothing.
		{"/gateway/v1/commerce/api/v2/orders/0aed", "/commerce/api/v2/orders/{orderId}"},
		// Unknown paths never leak their ids.
		{"/commerce/api/v2/orders/0aed/items/9", telemetry.RouteOther},
		{"/", telemetry.RouteOther},
		{"", telemetry.RouteOther},
	}
	for _, tt := range tests {
		if got := telemetry.Route(tt.path); got != tt.want {
			t.Errorf("Route(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

// Each route template counts against its API family's quota.
func TestFamily(t *testing.T) {
	tests := map[string]client.Family{
		"/admin/installations/v2/orgs/{orgId}/products":         client.FamilyInstallations,
		"/admin/v2/orgs/{orgId}/workspaces":                     client.FamilyWorkspaces,
		"/commerce/api/v2/entitlements/{entitlementId}/details": client.FamilyEntitlementDetails,
		"/commerce/api/v1/orders":                               client.FamilyOrders,
		"/commerce/api/v2/orders/{orderId}":                     client.FamilyOrders,
		"/commerce/api/v3/quotes/{quoteId}/download":            client.FamilyQuotes,
		"/marketplace/catalog/partners/{partnerId}/promotions":  client.FamilyPromotions,
		"/jsm/csm/cloudid/{cloudId}/api/v1/entitlements":        client.FamilyCSM,
		telemetry.RouteOther:                                    telemetry.RouteOther,
	}
	for route, want := range tests {
		if got := telemetry.Family(route); got != want {
			t.Errorf("Family(%q) = %q, want %q", route, got, want)
		}
	}
}
