package atlassiantest

import "github.com/procurement/atlassian-installer/client"

// The organizations of a multi-organization sandbox (WithOrganizations): OrgID with the
// default fixtures, and a second organization with its own billing, parent entitlements and
// existing site, each reached with its own API key only.
const (
	// OrgAPIKey is OrgID's own API key in a multi-organization sandbox.
	OrgAPIKey = "atlassiantest-org-api-key"

	SecondOrgID     = "1c4e093b-ee38-46b2-a2c0-96d18f265888"
	SecondOrgAPIKey = "atlassiantest-second-org-api-key"
	// SecondOrgAdminEmail and SecondOrgAPIToken are a site admin's credentials of the
	// second organization, accepted as Basic for it alone.
	SecondOrgAdminEmail        = "admin@globex.example"
	SecondOrgAPIToken          = "atlassiantest-second-org-api-token"
	SecondTransactionAccountID = "c9519cbc-23b0-4796-beaf-a6dff523132d"
	SecondInvoiceGroupID       = "e5a9cdcd-3d5b-4007-b2ba-78a0af2efba4"

	SecondJiraParentEntitlementID       = "3e37ea78-97b0-4863-b624-2f207f68e464"
	SecondConfluenceParentEntitlementID = "1a6b3912-fc60-489f-8f37-6fbf79387d3b"

	// SecondSiteName is a site of the second organization with Jira Software and its family
	// container.
	SecondSiteName                     = "globex"
	SecondSiteCloudID                  = "4604aa37-b383-4da0-a66b-13f75509cbc9"
	SecondJiraProductARI               = "ari:cloud:jira-software::site/" + SecondSiteCloudID
	SecondJiraEntitlementID            = "404962c7-8a64-4d7f-8c1a-ed2bb20237e1"
	SecondFamilyContainerEntitlementID = "2a4a8e1c-4316-42de-be71-f9fe91fc06b2"

	// SecondBillingAnchorTimestamp is the billing anchor (ms) of the second organization's
	// entitlements.
	SecondBillingAnchorTimestamp int64 = 1767225600000
)

// WithOrganizations makes a sandbox of two organizations: MultiOrgFixtures, with OrgAPIKey
// accepted for OrgID only, and SecondOrgAPIKey or SecondOrgAdminEmail with SecondOrgAPIToken
// for SecondOrgID only (DefaultAPIKey is then not accepted unless WithAPIKey names it).
func WithOrganizations() Option {
	return func(cfg *config) {
		cfg.fixtures = MultiOrgFixtures()
		cfg.creds = append(cfg.creds, credential{org: OrgID, key: OrgAPIKey}, credential{org: SecondOrgID, key: SecondOrgAPIKey},
			credential{org: SecondOrgID, email: SecondOrgAdminEmail, token: SecondOrgAPIToken})
	}
}

// MultiOrgFixtures is DefaultFixtures and a second organization (SecondOrgID): Jira and
// Confluence Enterprise parent entitlements on its own transaction account and invoice
// group, and the site "globex" with Jira Software and its family container.
func MultiOrgFixtures() *Fixtures {
	f := DefaultFixtures()
	ent := func(id, key string) Entitlement {
		return Entitlement{ID: id, OrgID: SecondOrgID, ProductKey: key,
			TransactionAccountID: SecondTransactionAccountID, InvoiceGroupID: SecondInvoiceGroupID,
			Version: 1, Status: "ACTIVE", BillingAnchorTimestamp: SecondBillingAnchorTimestamp}
	}
	container := ent(SecondFamilyContainerEntitlementID, "jira-family-container")
	container.OfferingID = JiraFamilyContainerOfferingID
	jira := ent(SecondJiraEntitlementID, "jira-software.ondemand")
	jira.OfferingID, jira.ProductARI = JiraOfferingID, SecondJiraProductARI
	jira.RelatesFromEntitlements = []client.EntitlementRelation{
		{EntitlementID: SecondJiraParentEntitlementID, RelationshipType: client.RelationEnterprise, RelationshipID: "c3b0f963-f368-4ed3-9d6c-dd2342b5d547"},
		{EntitlementID: SecondFamilyContainerEntitlementID, RelationshipType: client.RelationFamilyContainer, RelationshipID: "3c06c365-6c93-4658-8c78-494e2461358d"},
	}
	f.Orgs = append(f.Orgs, SecondOrgID)
	f.Entitlements = append(f.Entitlements,
		ent(SecondJiraParentEntitlementID, "jira-software.enterprise"),
		ent(SecondConfluenceParentEntitlementID, "confluence.enterprise"),
		container, jira)
	f.Sites = append(f.Sites, Site{
		Name: SecondSiteName, CloudID: SecondSiteCloudID, OrgID: SecondOrgID, Realm: "eu", Timezone: "Europe/Berlin",
		Products: []SiteProduct{{TypeKey: "jira-software", Type: "Jira Software", EntitlementID: SecondJiraEntitlementID}},
	})
	return f
}
