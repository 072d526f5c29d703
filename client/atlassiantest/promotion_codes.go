package atlassiantest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/procurement/atlassian-installer/client"
)

func codeJSON(p *Promotion, c client.PromotionCode, base string) client.PromotionCode {
	self := promotionsBase(base, p.PartnerID) + "/" + p.ID + "/codes/" + c.Code
	c.Links = &client.PromotionCodeLinks{Self: &client.HALLink{Href: self}}
	return c
}

func (s *Server) handleListPromotionCodes(w http.ResponseWriter, r *http.Request, c *call) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	p, ok := s.st.lookupPromotion(w, r)
	if !ok {
		return
	}
	out := client.PromotionCodes{Codes: []client.PromotionCode{},
		Links: &client.SelfLinks{Self: &client.HALLink{Href: promotionsBase(c.base, p.PartnerID) + "/" + p.ID + "/codes"}}}
	for _, code := range p.Codes {
		out.Codes = append(out.Codes, codeJSON(p, code, c.base))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleCreatePromotionCode(w http.ResponseWriter, r *http.Request, c *call) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	p, ok := s.st.lookupPromotion(w, r)
	if !ok {
		return
	}
	code := client.PromotionCode{Code: strings.ToUpper(strings.ReplaceAll(s.st.newID(), "-", "")[:12]),
		Created: c.now.UTC().Format(time.RFC3339)}
	p.Codes = append(p.Codes, code)
	s.st.promotions.byCode[code.Code] = p
	writeJSON(w, http.StatusCreated, codeJSON(p, code, c.base))
}

// codeIndex finds a single-use code of a promotion, answering 404 itself.
func codeIndex(w http.ResponseWriter, p *Promotion, code string) (int, bool) {
	i := slices.IndexFunc(p.Codes, func(c client.PromotionCode) bool { return c.Code == code })
	if i < 0 {
		writeError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("promotion code not found: %s", code))
		return 0, false
	}
	return i, true
}

func (s *Server) handleGetPromotionCode(w http.ResponseWriter, r *http.Request, c *call) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	p, ok := s.st.lookupPromotion(w, r)
	if !ok {
		return
	}
	if i, ok := codeIndex(w, p, r.PathValue("promotionCode")); ok {
		writeJSON(w, http.StatusOK, codeJSON(p, p.Codes[i], c.base))
	}
}

func (s *Server) handleDeletePromotionCode(w http.ResponseWriter, r *http.Request, _ *call) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	p, ok := s.st.lookupPromotion(w, r)
	if !ok {
		return
	}
	if i, ok := codeIndex(w, p, r.PathValue("promotionCode")); ok {
		delete(s.st.promotions.byCode, p.Codes[i].Code)
		p.Codes = slices.Delete(p.Codes, i, i+1)
		w.WriteHeader(http.StatusNoContent)
	}
}
