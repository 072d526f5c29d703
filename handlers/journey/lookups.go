package journey

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/calls"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// lookUp runs every look-up of the journey, before anything is provisioned, so that the
// order can follow the provisioning answer at once.
func (j *Journey) lookUp(ctx context.Context, r *events.Request) (*record.Plan, error) {
	if r.App != nil {
		return j.lookUpApp(ctx, r)
	}
	return j.lookUpProducts(ctx, r)
}

// lookUpProducts finds the billing (from the first parent entitlement when the request
// names none) and, on an existing site, the Jira family container to reuse.
func (j *Journey) lookUpProducts(ctx context.Context, r *events.Request) (*record.Plan, error) {
	plan := &record.Plan{}
	if r.Billing != nil {
		plan.TransactionAccountID, plan.InvoiceGroupID = r.Billing.TransactionAccountID, r.Billing.InvoiceGroupID
	} else { // validation makes sure a product names one
		id := r.FirstParentEntitlementID()
		det, err := j.entitlementDetails(ctx, id)
		if err != nil {
			return nil, err
		}
		plan.TransactionAccountID, plan.InvoiceGroupID = det.TransactionAccountID, det.InvoiceGroupID
		calls.Found(plan, http.MethodGet, client.EntitlementDetailsPath(id), "billing of parent entitlement %s: transactionAccountId %s, invoiceGroupId %s",
			id, det.TransactionAccountID, det.InvoiceGroupID)
	}
	if r.Site != nil && !r.Site.Create && hasJiraFamily(r.Products) {
		id, err := j.existingFamilyContainer(ctx, r.OrgID, plan, r.Site.Name)
		if err != nil {
			return nil, err
		}
		plan.FamilyContainerEntitlementID = id
	}
	return plan, nil
}

// existingFamilyContainer returns the Jira family container of an existing site, or ""
// when the site has no Jira-family product yet (the order then creates a container).
func (j *Journey) existingFamilyContainer(ctx context.Context, orgID string, plan *record.Plan, site string) (string, error) {
	query := client.WorkspacesPath(orgID)
	for ws, err := range j.workspaces(ctx, orgID, site) {
		if err != nil {
			return "", apiFailure(events.StageLookup, err)
		}
		if !sameSite(ws, site) || !strings.HasPrefix(ws.Attributes.TypeKey, "jira-") || len(ws.Relationships.Entitlement) == 0 {
			continue
		}
		ent := ws.Relationships.Entitlement[0].ID
		calls.Found(plan, http.MethodPost, query, "site %s: %s workspace %s, entitlement %s", site, ws.Attributes.TypeKey, ws.ID, ent)
		det, err := j.entitlementDetails(ctx, ent)
		if err != nil {
			return "", err
		}
		if id := det.FamilyContainerID(); id != "" {
			calls.Found(plan, http.MethodGet, client.EntitlementDetailsPath(ent), "Jira family container %s: the order relates to it", id)
			return id, nil
		}
		calls.Found(plan, http.MethodGet, client.EntitlementDetailsPath(ent), "no Jira family container")
	}
	calls.Found(plan, http.MethodPost, query, "site %s has no Jira family container: the order creates one", site)
	return "", nil
}

// lookUpApp finds the host product's ARI, its entitlement, and from that entitlement's
// details the billing, the billing anchor and the entitlement the app depends on.
func (j *Journey) lookUpApp(ctx context.Context, r *events.Request) (*record.Plan, error) {
	app := r.App
	plan := &record.Plan{ProductARI: app.ProductARI}
	if plan.ProductARI == "" {
		site := ""
		if r.Site != nil {
			site = r.Site.Name
		}
		for ws, err := range j.workspaces(ctx, r.OrgID, site) {
			if err != nil {
				return nil, apiFailure(events.StageLookup, err)
			}
			if sameSite(ws, site) && ws.Attributes.TypeKey == app.HostProduct {
				plan.ProductARI = ws.ID
				break
			}
		}
		if plan.ProductARI == "" {
			return nil, fail(events.StageLookup, events.CodeNotFound, false, "site %q has no %s workspace to host the app", site, app.HostProduct)
		}
		calls.Found(plan, http.MethodPost, client.WorkspacesPath(r.OrgID), "site %s: %s workspace %s", site, app.HostProduct, plan.ProductARI)
	}
	ents, _, err := j.api.Installations.ListProductEntitlements(ctx, r.OrgID, plan.ProductARI)
	if err != nil {
		return nil, apiFailure(events.StageLookup, err)
	}
	if len(ents.Entitlements) == 0 {
		return nil, fail(events.StageLookup, events.CodeNotFound, false, "product %s has no entitlement", plan.ProductARI)
	}
	host := ents.Entitlements[0].EntitlementID
	calls.Found(plan, http.MethodGet, client.ProductEntitlementsPath(r.OrgID, plan.ProductARI), "host entitlement %s", host)
	det, err := j.entitlementDetails(ctx, host)
	if err != nil {
		return nil, err
	}
	billing := "billing as requested"
	if r.Billing != nil {
		plan.TransactionAccountID, plan.InvoiceGroupID = r.Billing.TransactionAccountID, r.Billing.InvoiceGroupID
	} else {
		plan.TransactionAccountID, plan.InvoiceGroupID = det.TransactionAccountID, det.InvoiceGroupID
		billing = fmt.Sprintf("billing: transactionAccountId %s, invoiceGroupId %s", det.TransactionAccountID, det.InvoiceGroupID)
	}
	plan.NextBillingAnchorTimestamp = det.BillingAnchorTimestamp()
	// A Jira-family host's apps depend on its family container; Confluence's on itself.
	plan.DependsOnEntitlementID = det.FamilyContainerID()
	depends := "its Jira family container"
	if plan.DependsOnEntitlementID == "" {
		plan.DependsOnEntitlementID, depends = host, "the host itself"
	}
	calls.Found(plan, http.MethodGet, client.EntitlementDetailsPath(host), "%s; billing anchor %d; the app depends on %s, entitlement %s",
		billing, plan.NextBillingAnchorTimestamp, depends, plan.DependsOnEntitlementID)
	return plan, nil
}

func (j *Journey) entitlementDetails(ctx context.Context, id string) (*client.EntitlementDetails, error) {
	det, _, err := j.api.Commerce.GetEntitlementDetails(ctx, id)
	if err != nil {
		return nil, apiFailure(events.StageLookup, err)
	}
	return det, nil
}

// workspaces queries the organization's workspaces on a site name, following pages.
func (j *Journey) workspaces(ctx context.Context, orgID, site string) func(func(client.Workspace, error) bool) {
	q := client.WorkspaceQuery{Query: client.WorkspaceQueryFilter{Field: client.WorkspaceQueryField{
		Name: "attributes.name", Values: []string{site},
	}}}
	return j.api.Workspaces.QueryIter(ctx, orgID, q)
}

func hasJiraFamily(ps []events.Product) bool {
	for _, p := range ps {
		if p.Family == events.FamilyJira {
			return true
		}
	}
	return false
}

// sameSite guards against a workspaces answer that did not apply the name filter.
func sameSite(ws client.Workspace, site string) bool {
	return strings.EqualFold(ws.Attributes.Name, site)
}
