package client

// Types of the Marketplace Promotions REST API
// (https://developer.atlassian.com/platform/marketplace/rest/v4/api-group-promotions/).

// HALLink is one link of a HAL "_links" object.
type HALLink struct {
	Href  string `json:"href"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

// PromotionLinks are the links of a promotion.
type PromotionLinks struct {
	Self   *HALLink `json:"self,omitempty"`
	Edit   *HALLink `json:"edit,omitempty"`
	Status *HALLink `json:"status,omitempty"`
	Codes  *HALLink `json:"codes,omitempty"`
	Usage  *HALLink `json:"usage,omitempty"`
}

// SelfLinks are the links of a list answer.
type SelfLinks struct {
	Self *HALLink `json:"self,omitempty"`
}

// Promotion is a Marketplace promotion (PromotionResponse).
type Promotion struct {
	Links                    *PromotionLinks     `json:"_links,omitempty"`
	ID                       string              `json:"id"`
	Name                     string              `json:"name"`
	EligibleApps             []EligibleApp       `json:"eligibleApps,omitempty"`
	StartDate                string              `json:"startDate,omitempty"`
	ExpirationDate           string              `json:"expirationDate,omitempty"`
	EndImmediatelyDate       string              `json:"endImmediatelyDate,omitempty"`
	CreationDate             string              `json:"creationDate,omitempty"`
	Status                   string              `json:"status,omitempty"`
	PromotionType            string              `json:"promotionType,omitempty"`
	DiscountType             string              `json:"discountType,omitempty"`
	Discount                 []PromotionDiscount `json:"discount,omitempty"`
	DiscountPercent          int64               `json:"discountPercent,omitempty"`
	AppliesToAllLicenseTypes bool                `json:"appliesToAllLicenseTypes,omitempty"`
	MaxUses                  int64               `json:"maxUses,omitempty"`
	Used                     int64               `json:"used,omitempty"`
	HostingType              string              `json:"hostingType,omitempty"`
	SubscriptionType         string              `json:"subscriptionType,omitempty"`
	AllowedBillingCycles     int64               `json:"allowedBillingCycles,omitempty"`
	AllowUnlimitedUses       bool                `json:"allowUnlimitedUses,omitempty"`
	PromotionCode            string              `json:"promotionCode,omitempty"`
}

// EligibleApp is an app a promotion applies to.
type EligibleApp struct {
	Key  string `json:"key"`
	Name string `json:"name,omitempty"`
}

// PromotionDiscount is a flat discount on one pricing item.
type PromotionDiscount struct {
	PricingItemID  string  `json:"pricingItemId"`
	DiscountAmount float64 `json:"discountAmount"`
}

// PromotionList is the answer of GET …/promotions (PromotionListResponse).
type PromotionList struct {
	Links      *SelfLinks  `json:"_links,omitempty"`
	Promotions []Promotion `json:"promotions"`
}

// PromotionPage is the answer of GET …/promotions/paged
// (PromotionListPaginatedResponse); NextID is empty on the last page.
type PromotionPage struct {
	Links      *SelfLinks  `json:"_links,omitempty"`
	Promotions []Promotion `json:"promotions"`
	Offset     int         `json:"offset"`
	Limit      int         `json:"limit"`
	TotalItems int         `json:"totalItems"`
	OrderBy    string      `json:"orderBy,omitempty"`
	NextID     string      `json:"nextId,omitempty"`
	PrevID     string      `json:"prevId,omitempty"`
}

// PromotionListOptions are the query parameters of GET …/promotions/paged;
// zero fields are left out. ActiveOnly and Ascending are sent only when set.
type PromotionListOptions struct {
	Limit       int
	Offset      int
	OrderBy     string // order-by, e.g. START_DATE
	ActiveOnly  *bool  // active-only
	HostingType string // hosting-type, e.g. CLOUD
	AppKey      string // app-key
	Ascending   *bool
	NextID      string // nextId
	PrevID      string // prevId
}

// CreatePromotionRequest is the body of POST …/promotions.
type CreatePromotionRequest struct {
	Name                 string   `json:"name"`
	EligibleApps         []string `json:"eligibleApps"`
	StartDate            string   `json:"startDate,omitempty"`
	ExpirationDate       string   `json:"expirationDate"`
	PromotionType        string   `json:"promotionType"`
	DiscountType         string   `json:"discountType"`
	DiscountPercent      int64    `json:"discountPercent,omitempty"`
	MaxUses              int64    `json:"maxUses,omitempty"`
	HostingType          string   `json:"hostingType"`
	SubscriptionType     string   `json:"subscriptionType,omitempty"`
	AllowedBillingCycles int64    `json:"allowedBillingCycles,omitempty"`
	AllowUnlimitedUses   bool     `json:"allowUnlimitedUses,omitempty"`
	CustomPromoCode      string   `json:"customPromoCode,omitempty"`
}

// CreatePromotionResponse names the created promotion.
type CreatePromotionResponse struct {
	ID string `json:"id"`
}

// UpdatePromotionRequest is the body of PATCH …/promotions/{promotionId}; only
// the fields set are sent.
type UpdatePromotionRequest struct {
	Name                 string `json:"name,omitempty"`
	StartDate            string `json:"startDate,omitempty"`
	ExpirationDate       string `json:"expirationDate,omitempty"`
	DiscountPercent      *int64 `json:"discountPercent,omitempty"`
	MaxUses              *int64 `json:"maxUses,omitempty"`
	AllowedBillingCycles *int64 `json:"allowedBillingCycles,omitempty"`
}

// PromotionCodeLinks are the links of a promotion code.
type PromotionCodeLinks struct {
	Self  *HALLink `json:"self,omitempty"`
	Usage *HALLink `json:"usage,omitempty"`
}

// PromotionCode is a single-use promotion code (PromotionCodeResponse).
type PromotionCode struct {
	Links   *PromotionCodeLinks `json:"_links,omitempty"`
	Code    string              `json:"code"`
	Created string              `json:"created,omitempty"`
	Usage   *PromotionCodeUsage `json:"usage,omitempty"`
}

// PromotionCodeUsage records where a code was used.
type PromotionCodeUsage struct {
	Date                 string             `json:"date,omitempty"`
	OrderID              int64              `json:"orderId,omitempty"`
	Name                 string             `json:"name,omitempty"`
	Email                string             `json:"email,omitempty"`
	Apps                 []PromotionCodeApp `json:"apps,omitempty"`
	SiteURL              string             `json:"siteUrl,omitempty"`
	AppEntitlementID     string             `json:"appEntitlementId,omitempty"`
	AppEntitlementNumber string             `json:"appEntitlementNumber,omitempty"`
}

// PromotionCodeApp is an app bought with a code.
type PromotionCodeApp struct {
	Key               string `json:"key,omitempty"`
	Edition           string `json:"edition,omitempty"`
	SEN               string `json:"sen,omitempty"`
	UserTier          int64  `json:"userTier,omitempty"`
	EntitlementID     string `json:"entitlementId,omitempty"`
	EntitlementNumber string `json:"entitlementNumber,omitempty"`
}

// PromotionCodes is the answer of GET …/promotions/{promotionId}/codes.
type PromotionCodes struct {
	Links *SelfLinks      `json:"_links,omitempty"`
	Codes []PromotionCode `json:"codes"`
}
