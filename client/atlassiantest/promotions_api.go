package atlassiantest

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/procurement/atlassian-installer/client"
)

func partnerOf(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("partnerId"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "partnerId: not a positive integer", fieldError{"partnerId", "not a positive integer"})
		return 0, false
	}
	return id, true
}

// lookupPromotion finds a partner's promotion, answering 404 itself. Call with st.mu held.
func (st *state) lookupPromotion(w http.ResponseWriter, r *http.Request) (*Promotion, bool) {
	partner, ok := partnerOf(w, r)
	if !ok {
		return nil, false
	}
	id := r.PathValue("promotionId")
	p, ok := st.promotions.byID[id]
	if !ok || p.PartnerID != partner {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "promotion not found: "+id)
		return nil, false
	}
	return p, true
}

func (s *Server) handleListPromotions(w http.ResponseWriter, r *http.Request, c *call) {
	partner, ok := partnerOf(w, r)
	if !ok {
		return
	}
	s.st.mu.Lock()
	out := client.PromotionList{Promotions: []client.Promotion{}, Links: &client.SelfLinks{Self: &client.HALLink{Href: promotionsBase(c.base, partner)}}}
	for _, p := range s.st.promotions.byPartner[partner] {
		out.Promotions = append(out.Promotions, promotionJSON(p, c.base, c.now))
	}
	s.st.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleListPromotionsPaged(w http.ResponseWriter, r *http.Request, c *call) {
	partner, ok := partnerOf(w, r)
	if !ok {
		return
	}
	v := r.URL.Query()
	var errs []fieldError
	limit := min(intParam(v, "limit", defaultPromotionPageSize, 1, &errs), maxPromotionPageSize)
	offset := intParam(v, "offset", 0, 0, &errs)
	orderBy := cmp.Or(v.Get("order-by"), "START_DATE")
	var key func(p *Promotion) string
	switch orderBy {
	case "START_DATE":
		key = func(p *Promotion) string { return p.StartDate }
	case "EXPIRATION_DATE":
		key = func(p *Promotion) string { return p.ExpirationDate }
	case "NAME":
		key = func(p *Promotion) string { return strings.ToLower(p.Name) }
	case "CREATION_DATE":
		key = func(p *Promotion) string { return p.CreationDate }
	default:
		errs = append(errs, fieldError{"order-by", "not START_DATE, EXPIRATION_DATE, NAME or CREATION_DATE"})
	}
	if len(errs) > 0 {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", joinErrors(errs), errs...)
		return
	}
	activeOnly, ascending := v.Get("active-only") == "true", v.Get("ascending") != "false"
	hosting, appKey := v.Get("hosting-type"), v.Get("app-key")

	s.st.mu.Lock()
	var matched []*Promotion
	for _, p := range s.st.promotions.byPartner[partner] {
		if activeOnly && promotionStatus(p, c.now) != promotionStatusActive {
			continue
		}
		if hosting != "" && !strings.EqualFold(p.HostingType, hosting) {
			continue
		}
		if appKey != "" && !slices.ContainsFunc(p.EligibleApps, func(a client.EligibleApp) bool { return a.Key == appKey }) {
			continue
		}
		matched = append(matched, p)
	}
	slices.SortStableFunc(matched, func(a, b *Promotion) int {
		if ascending {
			return cmp.Compare(key(a), key(b))
		}
		return cmp.Compare(key(b), key(a))
	})
	// nextId and prevId name the first promotion of the page they lead to.
	for _, id := range []string{v.Get("nextId"), v.Get("prevId")} {
		if id == "" {
			continue
		}
		i := slices.IndexFunc(matched, func(p *Promotion) bool { return p.ID == id })
		if i < 0 {
			s.st.mu.Unlock()
			writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "nextId/prevId: no such promotion "+id, fieldError{"nextId", "no such promotion"})
			return
		}
		offset = i
		break
	}
	offset = min(offset, len(matched))
	end := min(offset+limit, len(matched))
	out := client.PromotionPage{Promotions: []client.Promotion{}, Offset: offset, Limit: limit, TotalItems: len(matched), OrderBy: orderBy,
		Links: &client.SelfLinks{Self: &client.HALLink{Href: promotionsBase(c.base, partner) + "/paged?" + r.URL.RawQuery}}}
	for _, p := range matched[offset:end] {
		out.Promotions = append(out.Promotions, promotionJSON(p, c.base, c.now))
	}
	if end < len(matched) {
		out.NextID = matched[end].ID
	}
	if offset > 0 {
		out.PrevID = matched[max(offset-limit, 0)].ID
	}
	s.st.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleCreatePromotion(w http.ResponseWriter, r *http.Request, c *call) {
	partner, ok := partnerOf(w, r)
	if !ok {
		return
	}
	var req client.CreatePromotionRequest
	if !decodeBody(w, c, &req) {
		return
	}
	var errs []fieldError
	need := func(field, v string) {
		if v == "" {
			errs = append(errs, fieldError{field, "required"})
		}
	}
	need("name", req.Name)
	need("expirationDate", req.ExpirationDate)
	need("promotionType", req.PromotionType)
	need("discountType", req.DiscountType)
	need("hostingType", req.HostingType)
	if len(req.EligibleApps) == 0 {
		errs = append(errs, fieldError{"eligibleApps", "at least one app key is required"})
	}
	if req.DiscountPercent < 0 || req.DiscountPercent > 100 {
		errs = append(errs, fieldError{"discountPercent", "not between 0 and 100"})
	}
	for _, d := range []struct{ field, v string }{{"startDate", req.StartDate}, {"expirationDate", req.ExpirationDate}} {
		if _, ok := parseDate(d.v); d.v != "" && !ok {
			errs = append(errs, fieldError{d.field, "not a date (2006-01-02 or RFC 3339)"})
		}
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if req.CustomPromoCode != "" {
		if _, taken := s.st.promotions.byCode[req.CustomPromoCode]; taken {
			errs = append(errs, fieldError{"customPromoCode", "code " + req.CustomPromoCode + " is taken"})
		}
	}
	if len(errs) > 0 {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", joinErrors(errs), errs...)
		return
	}
	p := &Promotion{PartnerID: partner, Promotion: client.Promotion{
		ID: s.st.newID(), Name: req.Name, StartDate: cmp.Or(req.StartDate, c.now.UTC().Format(time.RFC3339)),
		ExpirationDate: req.ExpirationDate, CreationDate: c.now.UTC().Format(time.RFC3339), Status: promotionStatusActive,
		PromotionType: req.PromotionType, DiscountType: req.DiscountType, DiscountPercent: req.DiscountPercent,
		MaxUses: req.MaxUses, HostingType: req.HostingType, SubscriptionType: req.SubscriptionType,
		AllowedBillingCycles: req.AllowedBillingCycles, AllowUnlimitedUses: req.AllowUnlimitedUses,
		PromotionCode: req.CustomPromoCode,
	}}
	for _, k := range req.EligibleApps {
		p.EligibleApps = append(p.EligibleApps, client.EligibleApp{Key: k})
	}
	if p.PromotionCode == "" && strings.HasPrefix(req.PromotionType, "SHARED") {
		p.PromotionCode = strings.ToUpper(strings.ReplaceAll(p.ID[:13], "-", ""))
	}
	s.st.promotions.add(p)
	writeJSON(w, http.StatusCreated, client.CreatePromotionResponse{ID: p.ID})
}

func (s *Server) handleGetPromotion(w http.ResponseWriter, r *http.Request, c *call) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if p, ok := s.st.lookupPromotion(w, r); ok {
		writeJSON(w, http.StatusOK, promotionJSON(p, c.base, c.now))
	}
}

func (s *Server) handleUpdatePromotion(w http.ResponseWriter, r *http.Request, c *call) {
	var req client.UpdatePromotionRequest
	if !decodeBody(w, c, &req) {
		return
	}
	var errs []fieldError
	for _, d := range []struct{ field, v string }{{"startDate", req.StartDate}, {"expirationDate", req.ExpirationDate}} {
		if _, ok := parseDate(d.v); d.v != "" && !ok {
			errs = append(errs, fieldError{d.field, "not a date (2006-01-02 or RFC 3339)"})
		}
	}
	if req.DiscountPercent != nil && (*req.DiscountPercent < 0 || *req.DiscountPercent > 100) {
		errs = append(errs, fieldError{"discountPercent", "not between 0 and 100"})
	}
	if len(errs) > 0 {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", joinErrors(errs), errs...)
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	p, ok := s.st.lookupPromotion(w, r)
	if !ok {
		return
	}
	p.Name = cmp.Or(req.Name, p.Name)
	p.StartDate = cmp.Or(req.StartDate, p.StartDate)
	p.ExpirationDate = cmp.Or(req.ExpirationDate, p.ExpirationDate)
	if req.DiscountPercent != nil {
		p.DiscountPercent = *req.DiscountPercent
	}
	if req.MaxUses != nil {
		p.MaxUses = *req.MaxUses
	}
	if req.AllowedBillingCycles != nil {
		p.AllowedBillingCycles = *req.AllowedBillingCycles
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleGetPromotionStatus(w http.ResponseWriter, r *http.Request, c *call) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if p, ok := s.st.lookupPromotion(w, r); ok {
		writeJSON(w, http.StatusOK, promotionStatus(p, c.now))
	}
}
