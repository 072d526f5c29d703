package events

// DefaultFamilyContainerOfferingID is the Jira family container offering of the install
// cookbook, used when a request names none.
const DefaultFamilyContainerOfferingID = "009f8789-c10c-4366-9420-f712d02a6499"

// FamilyJira marks a product of the Jira family (Jira, Jira Service Management): such products
// share one family container.
const FamilyJira = "jira"

// Request is the data of an atlassian.install.requested event. Exactly one of Products and App
// is set. Unknown JSON fields are tolerated, so producers may send newer fields.
type Request struct {
	// OrgID is the Atlassian organization that provisions and orders.
	OrgID string `json:"orgId"`
	// AdminEmail becomes the site's or app's administrator.
	AdminEmail string `json:"adminEmail"`
	// Site is required: the site to provision on, named in the provisioned event.
	Site     *Site     `json:"site,omitempty"`
	Products []Product `json:"products,omitempty"`
	App      *App      `json:"app,omitempty"`
	// Billing, when absent, is read from the entitlement details of the first
	// parentEntitlementId (products) or of the host product (apps).
	Billing *Billing `json:"billing,omitempty"`
	// FamilyContainerOfferingID overrides DefaultFamilyContainerOfferingID.
	FamilyContainerOfferingID string `json:"familyContainerOfferingId,omitempty"`
	// DryRun runs the journey's look-ups only and ends it with the planned event: nothing is
	// provisioned or ordered, and the request id is spent.
	DryRun bool `json:"dryRun,omitempty"`
}

// Site names the site to create or the organization's existing site to use.
type Site struct {
	// Name is the site's host label: https://{name}.atlassian.net.
	Name string `json:"name"`
	// Create asks for a new site; false means an existing site of the organization.
	Create bool `json:"create"`
	// Timezone is an IANA zone name, required when Create is true.
	Timezone string `json:"timezone,omitempty"`
}

// Product is one product to provision and order.
type Product struct {
	// OfferingID is the product offering to provision and order.
	OfferingID string `json:"offeringId"`
	// Family is FamilyJira for Jira-family products, which share one family container; empty
	// otherwise.
	Family string `json:"family,omitempty"`
	// Location is the data residency of the instance ("us", …), passed to provisioning.
	Location string `json:"location,omitempty"`
	// ChargeElement and Quantity are the order's charge quantity ("user", 100).
	ChargeElement string `json:"chargeElement"`
	Quantity      int64  `json:"quantity"`
	// ParentEntitlementID is the Enterprise parent entitlement the order relates to.
	ParentEntitlementID string `json:"parentEntitlementId,omitempty"`
	// PricingPlanID is the order's chargingDetails.pricingPlanId.
	PricingPlanID string `json:"pricingPlanId,omitempty"`
	// EndsAt is the order's effectiveTime.endsAt, in milliseconds since the epoch.
	EndsAt int64 `json:"endsAt,omitempty"`
	// NextBillingAnchorTimestamp is the order item's billing anchor, in milliseconds.
	NextBillingAnchorTimestamp int64 `json:"nextBillingAnchorTimestamp,omitempty"`
}

// App is a Marketplace app to install on a host product.
type App struct {
	// AppKey is the Marketplace app's key ("com.vendor.app").
	AppKey string `json:"appKey"`
	// OfferingID is the app's offering to provision and order.
	OfferingID string `json:"offeringId"`
	// HostProduct is the workspace typeKey of the host (jira-software, confluence, …); required
	// unless ProductARI is given.
	HostProduct string `json:"hostProduct,omitempty"`
	// ProductARI, when given, skips the workspace look-up.
	ProductARI string `json:"productAri,omitempty"`
	// ChargeElement and Quantity, when given, are the order's charge quantity; both or neither.
	ChargeElement string `json:"chargeElement,omitempty"`
	Quantity      int64  `json:"quantity,omitempty"`
	// PricingPlanID is the order's chargingDetails.pricingPlanId.
	PricingPlanID string `json:"pricingPlanId,omitempty"`
	// PromotionCode is the vendor's promotion code applied to the order.
	PromotionCode string `json:"promotionCode,omitempty"`
	// SkipTrial orders the paid app at once instead of starting a trial.
	SkipTrial bool `json:"skipTrial,omitempty"`
	// EndsAt is the order's effectiveTime.endsAt, in milliseconds since the epoch.
	EndsAt int64 `json:"endsAt,omitempty"`
}

// Billing names the transaction account and invoice group the order is charged to.
type Billing struct {
	TransactionAccountID string `json:"transactionAccountId"`
	InvoiceGroupID       string `json:"invoiceGroupId"`
}

// IsApp reports whether the request installs an app rather than products.
func (r *Request) IsApp() bool { return r.App != nil }

// FamilyContainerOffering returns the family container offering to order, applying the default.
func (r *Request) FamilyContainerOffering() string {
	if r.FamilyContainerOfferingID != "" {
		return r.FamilyContainerOfferingID
	}
	return DefaultFamilyContainerOfferingID
}

// FirstParentEntitlementID returns the parentEntitlementId of the first product that has one,
// the entitlement whose details give the billing when the request has none.
func (r *Request) FirstParentEntitlementID() string {
	for _, p := range r.Products {
		if p.ParentEntitlementID != "" {
			return p.ParentEntitlementID
		}
	}
	return ""
}

// SiteURL returns the address of the site called name.
func SiteURL(name string) string { return "https://" + name + ".atlassian.net" }
