package atlassiantest

import (
	"slices"
	"strconv"
	"time"

	"github.com/procurement/atlassian-installer/client"
)

// Promotion is a Marketplace promotion of a partner, with its single-use codes.
type Promotion struct {
	PartnerID int64 `json:"partnerId"`
	client.Promotion
	Codes []client.PromotionCode `json:"codes,omitempty"`
}

const (
	defaultPromotionPageSize = 10
	maxPromotionPageSize     = 50
	promotionStatusActive    = "ACTIVE"
	promotionStatusExpired   = "EXPIRED"
)

type promotionState struct {
	byPartner map[int64][]*Promotion
	byID      map[string]*Promotion
	byCode    map[string]*Promotion // shared and single-use codes
}

func (p *promotionState) load(list []Promotion) {
	p.byPartner, p.byID, p.byCode = map[int64][]*Promotion{}, map[string]*Promotion{}, map[string]*Promotion{}
	for _, x := range list {
		c := x
		c.Codes = slices.Clone(x.Codes)
		c.Links = nil
		p.add(&c)
	}
}

func (p *promotionState) add(x *Promotion) {
	p.byPartner[x.PartnerID] = append(p.byPartner[x.PartnerID], x)
	p.byID[x.ID] = x
	if x.PromotionCode != "" {
		p.byCode[x.PromotionCode] = x
	}
	for _, c := range x.Codes {
		p.byCode[c.Code] = x
	}
}

func (p *promotionState) dump() []Promotion {
	var out []Promotion
	partners := make([]int64, 0, len(p.byPartner))
	for id := range p.byPartner {
		partners = append(partners, id)
	}
	slices.Sort(partners)
	for _, id := range partners {
		for _, x := range p.byPartner[id] {
			c := *x
			c.Codes = slices.Clone(x.Codes)
			out = append(out, c)
		}
	}
	return out
}

// promotionCodeUsable says whether an order item of appKey may carry code. Call with st.mu held.
func (st *state) promotionCodeUsable(code, appKey string, now time.Time) bool {
	p, ok := st.promotions.byCode[code]
	if !ok || promotionStatus(p, now) != promotionStatusActive {
		return false
	}
	if p.MaxUses > 0 && !p.AllowUnlimitedUses && p.Used >= p.MaxUses {
		return false
	}
	return appKey == "" || slices.ContainsFunc(p.EligibleApps, func(a client.EligibleApp) bool { return a.Key == appKey })
}

// usePromotionCode counts a use of code by an accepted order. Call with st.mu held.
func (st *state) usePromotionCode(code, orderID, entitlementID string, now time.Time) {
	p, ok := st.promotions.byCode[code]
	if !ok {
		return
	}
	p.Used++
	for i := range p.Codes {
		if p.Codes[i].Code == code && p.Codes[i].Usage == nil {
			p.Codes[i].Usage = &client.PromotionCodeUsage{Date: now.UTC().Format(time.RFC3339), AppEntitlementID: entitlementID}
		}
	}
}

// promotionStatus is ACTIVE, or EXPIRED once the expiration date has passed.
func promotionStatus(p *Promotion, now time.Time) string {
	if p.ExpirationDate != "" {
		if t, ok := parseDate(p.ExpirationDate); ok && !now.Before(t) {
			return promotionStatusExpired
		}
	}
	if p.Status == "" {
		return promotionStatusActive
	}
	return p.Status
}

func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func promotionsBase(base string, partner int64) string {
	return base + "/marketplace/catalog/partners/" + strconv.FormatInt(partner, 10) + "/promotions"
}

// promotionJSON renders a promotion with its HAL links. Call with st.mu held.
func promotionJSON(p *Promotion, base string, now time.Time) client.Promotion {
	out := p.Promotion
	out.EligibleApps = slices.Clone(p.EligibleApps)
	out.Status = promotionStatus(p, now)
	self := promotionsBase(base, p.PartnerID) + "/" + p.ID
	out.Links = &client.PromotionLinks{Self: &client.HALLink{Href: self}, Edit: &client.HALLink{Href: self},
		Status: &client.HALLink{Href: self + "/status"}, Codes: &client.HALLink{Href: self + "/codes"}}
	return out
}

func defaultPromotions() []Promotion {
	return []Promotion{
		{PartnerID: PartnerID, Promotion: client.Promotion{
			ID: PromotionID, Name: "Launch offer", EligibleApps: []client.EligibleApp{{Key: AppKey, Name: "Vendor App"}},
			StartDate: "2026-01-01", ExpirationDate: "2099-12-31", CreationDate: "2025-12-01", Status: promotionStatusActive,
			PromotionType: "SHARED_PROMOTION", DiscountType: "PERCENTAGE_DISCOUNT", DiscountPercent: 20,
			HostingType: "CLOUD", SubscriptionType: "ANNUAL", AllowUnlimitedUses: true, PromotionCode: PromotionCode,
		}},
		{PartnerID: PartnerID, Promotion: client.Promotion{
			ID: "4c2d9e1a-7b3f-4a5e-8c6d-0e1f2a3b4c5d", Name: "Single-use partner codes", EligibleApps: []client.EligibleApp{{Key: AppKey, Name: "Vendor App"}},
			StartDate: "2026-02-01", ExpirationDate: "2099-12-31", CreationDate: "2026-01-15", Status: promotionStatusActive,
			PromotionType: "SINGLE_USE_PROMOTION", DiscountType: "PERCENTAGE_DISCOUNT", DiscountPercent: 50,
			MaxUses: 10, HostingType: "CLOUD", SubscriptionType: "MONTHLY",
		}, Codes: []client.PromotionCode{{Code: "SINGLE-USE-0001", Created: "2026-01-15T00:00:00Z"}}},
		{PartnerID: PartnerID, Promotion: client.Promotion{
			ID: "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", Name: "Last year's offer", EligibleApps: []client.EligibleApp{{Key: AppKey, Name: "Vendor App"}},
			StartDate: "2025-01-01", ExpirationDate: "2025-12-31", CreationDate: "2024-12-01", Status: promotionStatusActive,
			PromotionType: "SHARED_PROMOTION", DiscountType: "PERCENTAGE_DISCOUNT", DiscountPercent: 10,
			HostingType: "CLOUD", SubscriptionType: "ANNUAL", PromotionCode: "EXPIRED_CODE",
		}},
	}
}
