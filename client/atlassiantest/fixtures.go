package atlassiantest

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/procurement/atlassian-installer/client"
)

// Identifiers of the default fixtures, taken from the install cookbook so that
// its sample requests work against the sandbox as they are.
const (
	// DefaultAPIKey is the organization API key the sandbox accepts unless
	// WithAPIKey names another.
	DefaultAPIKey = "atlassiantest-api-key"

	OrgID                = "2e3b7c1a-5f0d-4a8e-9b6c-1d2e3f4a5b6c"
	TransactionAccountID = "2666852d-2296-4c24-a999-8949db3bbf1f"
	InvoiceGroupID       = "f5b07603-1330-4235-bbba-1b9d54f04882"

	JiraOfferingID                = "799958b5-36bb-4a3d-9289-9fd2986352a7"
	JSMOfferingID                 = "4021727f-e6d1-47ad-be64-2367755f5c51"
	ConfluenceOfferingID          = "39605741-b92f-4763-8229-7bba2d16433c"
	JiraFamilyContainerOfferingID = "009f8789-c10c-4366-9420-f712d02a6499"
	AppOfferingID                 = "3198373c-f623-445a-be6d-da924f4161d2"
	AppKey                        = "com.vendor.app"

	JiraParentEntitlementID       = "58146793-4749-4db3-8c36-0cd59aa10b50"
	JSMParentEntitlementID        = "a4c95dd2-eb2d-46a8-b9a4-7076fb8e7548"
	ConfluenceParentEntitlementID = "1036832a-8660-4293-9178-3a12b19bc67c"

	// ExistingSiteName is a site of the organization that already has Jira
	// Software (with its family container) and Confluence.
	ExistingSiteName                     = "acme"
	ExistingSiteCloudID                  = "4745a76c-290c-49d4-aa23-04d5ccb3c52d"
	ExistingJiraProductARI               = "ari:cloud:jira-software::site/" + ExistingSiteCloudID
	ExistingConfluenceProductARI         = "ari:cloud:confluence::site/" + ExistingSiteCloudID
	ExistingJiraEntitlementID            = "f5050916-617d-49d5-9aa8-382185a0c0b3"
	ExistingConfluenceEntitlementID      = "edf3f6c3-22a3-3f34-a21f-8c6395ac0074"
	ExistingFamilyContainerEntitlementID = "d71ec13e-301b-35bf-9808-653f5be6c256"

	// BillingAnchorTimestamp is the billing anchor (ms) of the fixture entitlements.
	BillingAnchorTimestamp int64 = 1765520321000

	// PromotionCode is a shared promotion code of AppKey that app orders may use.
	PromotionCode = "PROMO_CODE"
	// PartnerID is the Marketplace partner that owns the fixture promotions.
	PartnerID int64 = 1217
	// PromotionID is the fixture promotion whose shared code is PromotionCode.
	PromotionID = "8a7f3b52-6e0c-4d1e-9f2a-5b4c3d2e1f00"
	// QuoteID is a fixture quote of TransactionAccountID.
	QuoteID = "Q-2026-0001"
	// CloudID is the cloud id (of ExistingSiteName) under which the CSM API answers.
	CloudID = ExistingSiteCloudID
	// CSMEntitlementID is a fixture CSM entitlement of CSMOrganizationID.
	CSMEntitlementID = "3858a61a-d337-42e6-993e-e13e1c366d4f"
	// CSMOrganizationID is the CSM organization (entityType ORGANIZATION) of the fixtures.
	CSMOrganizationID = "qm:9edf598a-85d4-4db9-bf2e-7245922b4ea8:0000e9d8-a22e-4220-ac63-412ff9eec053"
)

// Offering kinds: what an order item of the offering creates.
const (
	KindProduct         = "product"
	KindFamilyContainer = "family-container"
	KindApp             = "app"
)

// Offering is a product, family container or app that can be provisioned and ordered.
type Offering struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	// TypeKey is the workspace typeKey of a product (jira-software, confluence, …).
	TypeKey string `json:"typeKey,omitempty"`
	// Family is "jira" for products that share the Jira family container.
	Family     string `json:"family,omitempty"`
	ProductKey string `json:"productKey,omitempty"`
	AppKey     string `json:"appKey,omitempty"`
}

// Entitlement is an entitlement as the sandbox keeps it: the source of the
// entitlement details, product entitlements and workspace relationships.
type Entitlement struct {
	ID                      string                       `json:"id"`
	OrgID                   string                       `json:"orgId,omitempty"`
	OfferingID              string                       `json:"offeringId,omitempty"`
	ProductKey              string                       `json:"productKey,omitempty"`
	ProductARI              string                       `json:"productAri,omitempty"`
	TransactionAccountID    string                       `json:"transactionAccountId"`
	InvoiceGroupID          string                       `json:"invoiceGroupId"`
	Version                 int64                        `json:"version"`
	Status                  string                       `json:"status,omitempty"`
	BillingAnchorTimestamp  int64                        `json:"billingAnchorTimestamp,omitempty"`
	RelatesFromEntitlements []client.EntitlementRelation `json:"relatesFromEntitlements,omitempty"`
	// VisibleAt hides an entitlement an order is still creating until then.
	VisibleAt time.Time `json:"visibleAt,omitzero"`
}

// Site is a cloud site (https://{name}.atlassian.net) of an organization.
type Site struct {
	Name     string        `json:"name"`
	CloudID  string        `json:"cloudId"`
	OrgID    string        `json:"orgId"`
	Realm    string        `json:"realm,omitempty"`
	Timezone string        `json:"timezone,omitempty"`
	Products []SiteProduct `json:"products"`
}

// SiteProduct is a product instance of a site: one workspace.
type SiteProduct struct {
	TypeKey       string    `json:"typeKey"`
	Type          string    `json:"type"`
	EntitlementID string    `json:"entitlementId"`
	VisibleAt     time.Time `json:"visibleAt,omitzero"`
}

// ARI is the product ARI (workspace id) of a site's product.
func ARI(typeKey, cloudID string) string { return "ari:cloud:" + typeKey + "::site/" + cloudID }

// Fixtures is the sandbox's catalogue and starting state, loadable from and
// dumpable to JSON.
type Fixtures struct {
	Orgs            []string         `json:"orgs"`
	Offerings       []Offering       `json:"offerings"`
	Entitlements    []Entitlement    `json:"entitlements"`
	Sites           []Site           `json:"sites"`
	Quotes          []client.Quote   `json:"quotes,omitempty"`
	Promotions      []Promotion      `json:"promotions,omitempty"`
	CSMFields       []CSMField       `json:"csmFields,omitempty"`
	CSMEntitlements []CSMEntitlement `json:"csmEntitlements,omitempty"`
}

// LoadFixtures reads fixtures written by Dump (or by hand).
func LoadFixtures(r io.Reader) (*Fixtures, error) {
	var f Fixtures
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("atlassiantest: decode fixtures: %w", err)
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// Dump writes the fixtures as indented JSON that LoadFixtures reads back.
func (f *Fixtures) Dump(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("atlassiantest: encode fixtures: %w", err)
	}
	return nil
}

func (f *Fixtures) validate() error {
	offerings := make(map[string]bool, len(f.Offerings))
	for i, o := range f.Offerings {
		if o.ID == "" {
			return fmt.Errorf("%w: offerings[%d].id is empty", ErrInvalidFixtures, i)
		}
		switch o.Kind {
		case KindProduct, KindFamilyContainer, KindApp:
		default:
			return fmt.Errorf("%w: offerings[%d].kind %q is not product, family-container or app", ErrInvalidFixtures, i, o.Kind)
		}
		if o.Kind == KindProduct && o.TypeKey == "" {
			return fmt.Errorf("%w: offerings[%d].typeKey is empty", ErrInvalidFixtures, i)
		}
		if o.Kind == KindApp && o.AppKey == "" {
			return fmt.Errorf("%w: offerings[%d].appKey is empty", ErrInvalidFixtures, i)
		}
		offerings[o.ID] = true
	}
	for i, e := range f.Entitlements {
		if e.ID == "" {
			return fmt.Errorf("%w: entitlements[%d].id is empty", ErrInvalidFixtures, i)
		}
	}
	for i, s := range f.Sites {
		if s.Name == "" || s.CloudID == "" || s.OrgID == "" {
			return fmt.Errorf("%w: sites[%d] needs name, cloudId and orgId", ErrInvalidFixtures, i)
		}
		for j, p := range s.Products {
			if p.TypeKey == "" {
				return fmt.Errorf("%w: sites[%d].products[%d].typeKey is empty", ErrInvalidFixtures, i, j)
			}
		}
	}
	return nil
}

// DefaultFixtures is the organization of the install cookbook: Jira, JSM and
// Confluence Enterprise parent entitlements on one transaction account and
// invoice group, the Jira family container offering, an app, and the site
// "acme" with Jira Software (and its family container) and Confluence.
func DefaultFixtures() *Fixtures {
	parent := func(id, key string) Entitlement {
		return Entitlement{ID: id, OrgID: OrgID, OfferingID: "", ProductKey: key,
			TransactionAccountID: TransactionAccountID, InvoiceGroupID: InvoiceGroupID,
			Version: 1, Status: "ACTIVE", BillingAnchorTimestamp: BillingAnchorTimestamp}
	}
	product := func(id, offering, key, ari string, rel ...client.EntitlementRelation) Entitlement {
		e := parent(id, key)
		e.OfferingID, e.ProductARI, e.RelatesFromEntitlements = offering, ari, rel
		return e
	}
	container := parent(ExistingFamilyContainerEntitlementID, "jira-family-container")
	container.OfferingID = JiraFamilyContainerOfferingID
	f := &Fixtures{
		Orgs: []string{OrgID},
		Offerings: []Offering{
			{ID: JiraOfferingID, Name: "Jira Software", Kind: KindProduct, TypeKey: "jira-software", Family: "jira", ProductKey: "jira-software.ondemand"},
			{ID: JSMOfferingID, Name: "Jira Service Management", Kind: KindProduct, TypeKey: "jira-servicedesk", Family: "jira", ProductKey: "jira-servicedesk.ondemand"},
			{ID: ConfluenceOfferingID, Name: "Confluence", Kind: KindProduct, TypeKey: "confluence", ProductKey: "confluence.ondemand"},
			{ID: JiraFamilyContainerOfferingID, Name: "Jira family container", Kind: KindFamilyContainer, Family: "jira", ProductKey: "jira-family-container"},
			{ID: AppOfferingID, Name: "Vendor App", Kind: KindApp, AppKey: AppKey, ProductKey: AppKey},
		},
		Entitlements: []Entitlement{
			parent(JiraParentEntitlementID, "jira-software.enterprise"),
			parent(JSMParentEntitlementID, "jira-servicedesk.enterprise"),
			parent(ConfluenceParentEntitlementID, "confluence.enterprise"),
			container,
			product(ExistingJiraEntitlementID, JiraOfferingID, "jira-software.ondemand", ExistingJiraProductARI,
				client.EntitlementRelation{EntitlementID: JiraParentEntitlementID, RelationshipType: client.RelationEnterprise, RelationshipID: "b68b68ec-8b54-4baa-9886-c11a549d4cd6"},
				client.EntitlementRelation{EntitlementID: ExistingFamilyContainerEntitlementID, RelationshipType: client.RelationFamilyContainer, RelationshipID: "c3758d24-c5ec-42f3-81f6-eec7a3cd9420"}),
			product(ExistingConfluenceEntitlementID, ConfluenceOfferingID, "confluence.ondemand", ExistingConfluenceProductARI,
				client.EntitlementRelation{EntitlementID: ConfluenceParentEntitlementID, RelationshipType: client.RelationEnterprise, RelationshipID: "5c1d7a0e-2b8f-4e6a-9d3c-7f1e2a3b4c5d"}),
		},
		Sites: []Site{{
			Name: ExistingSiteName, CloudID: ExistingSiteCloudID, OrgID: OrgID, Realm: "us", Timezone: "Australia/Sydney",
			Products: []SiteProduct{
				{TypeKey: "jira-software", Type: "Jira Software", EntitlementID: ExistingJiraEntitlementID},
				{TypeKey: "confluence", Type: "Confluence", EntitlementID: ExistingConfluenceEntitlementID},
			},
		}},
	}
	f.Quotes = defaultQuotes()
	f.Promotions = defaultPromotions()
	f.CSMFields, f.CSMEntitlements = defaultCSM()
	return f
}
