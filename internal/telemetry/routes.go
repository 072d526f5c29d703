package telemetry

import (
	"strings"

	"github.com/procurement/atlassian-installer/client"
)

// routes are the Atlassian endpoints the client calls, as route templates: metrics and span
// names carry these, never the ids in a real path (an organization, an entitlement or an order
// id would make a label per customer).
var routes = compileRoutes(
	// Install cookbook
	"/admin/installations/v2/orgs/{orgId}/products",
	"/admin/installations/v2/orgs/{orgId}/products/{productAri}/entitlements",
	"/admin/installations/v2/orgs/{orgId}/products/{productAri}/apps",
	"/admin/installations/v2/orgs/{orgId}/products/status/{requestId}",
	"/admin/v2/orgs/{orgId}/workspaces",
	"/commerce/api/v2/entitlements/{entitlementId}/details",
	"/commerce/api/v1/orders",
	"/commerce/api/v2/orders",
	"/commerce/api/v2/orders/{orderId}",
	// Commerce quotes
	"/commerce/api/v1/quotes",
	"/commerce/api/v2/quotes/{quoteId}",
	"/commerce/api/v3/quotes/{quoteId}/download",
	// Marketplace promotions
	"/marketplace/catalog/partners/{partnerId}/promotions",
	"/marketplace/catalog/partners/{partnerId}/promotions/paged",
	"/marketplace/catalog/partners/{partnerId}/promotions/{promotionId}",
	"/marketplace/catalog/partners/{partnerId}/promotions/{promotionId}/status",
	"/marketplace/catalog/partners/{partnerId}/promotions/{promotionId}/codes",
	"/marketplace/catalog/partners/{partnerId}/promotions/{promotionId}/codes/{promotionCode}",
	// JSM Customer Service Management
	"/jsm/csm/cloudid/{cloudId}/api/v1/entitlement/details",
	"/jsm/csm/cloudid/{cloudId}/api/v1/entitlement/details/{fieldName}",
	"/jsm/csm/cloudid/{cloudId}/api/v1/entitlement/{entitlementId}",
	"/jsm/csm/cloudid/{cloudId}/api/v1/entitlement/{entitlementId}/details",
	"/jsm/csm/cloudid/{cloudId}/api/v1/entitlements",
)

// Family is the API family of a route template (client.Family), whose quota its calls count
// against; RouteOther's is "other".
func Family(route string) client.Family {
	for _, f := range []struct {
		prefix string
		family client.Family
	}{
		{"/admin/installations/", client.FamilyInstallations},
		{"/admin/v2/orgs/{orgId}/workspaces", client.FamilyWorkspaces},
		{"/commerce/api/v2/entitlements/", client.FamilyEntitlementDetails},
		{"/commerce/api/v1/orders", client.FamilyOrders},
		{"/commerce/api/v2/orders", client.FamilyOrders},
		{"/commerce/api/v1/quotes", client.FamilyQuotes},
		{"/commerce/api/v2/quotes", client.FamilyQuotes},
		{"/commerce/api/v3/quotes", client.FamilyQuotes},
		{"/marketplace/", client.FamilyPromotions},
		{"/jsm/csm/", client.FamilyCSM},
	} {
		if strings.HasPrefix(route, f.prefix) {
			return f.family
		}
	}
	return RouteOther
}

// RouteOther is the endpoint label of a path that matches no known route.
const RouteOther = "other"

type route struct {
	template string
	segs     []string // "" stands for a parameter
	literals int
}

func compileRoutes(templates ...string) []route {
	out := make([]route, 0, len(templates))
	for _, t := range templates {
		r := route{template: t}
		for _, s := range strings.Split(strings.Trim(t, "/"), "/") {
			if strings.HasPrefix(s, "{") {
				s = ""
			} else {
				r.literals++
			}
			r.segs = append(r.segs, s)
		}
		out = append(out, r)
	}
	return out
}

// Route returns the route template of an escaped request path, or RouteOther. The template is
// matched against the end of the path, so a base URL with a path prefix changes nothing; where
// two templates match, the one with more literal segments wins (…/products/status/{requestId}
// over …/products/{productAri}/apps).
func Route(escapedPath string) string {
	segs := strings.Split(strings.Trim(escapedPath, "/"), "/")
	best, score := RouteOther, -1
	for _, r := range routes {
		if len(r.segs) > len(segs) || r.literals <= score {
			continue
		}
		tail := segs[len(segs)-len(r.segs):]
		if matches(r.segs, tail) {
			best, score = r.template, r.literals
		}
	}
	return best
}

func matches(pattern, segs []string) bool {
	for i, p := range pattern {
		if segs[i] == "" || (p != "" && p != segs[i]) {
			return false
		}
	}
	return true
}
