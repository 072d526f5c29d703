package atlassiantest

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/procurement/atlassian-installer/client"
)

// provision is one provisioning request. Its status is computed from the
// clock when asked, never by a timer.
type provision struct {
	id         string
	orgID      string
	app        bool
	productARI string // apps: the host product
	appKey     string
	siteName   string
	cloudID    string
	newSite    bool
	timezone   string
	realm      string
	offerings  []string
	createdAt  time.Time
	fails      bool
	orderID    string
	orderedAt  time.Time
}

func (p *provision) status(now time.Time, cfg *config) string {
	ordered := p.orderID != "" && !p.orderedAt.After(now)
	if p.fails {
		start := p.createdAt
		if ordered {
			start = p.orderedAt
		}
		if !now.Before(start.Add(cfg.provisionDelay)) {
			return client.ProvisionFailed
		}
		return client.ProvisionInProgress
	}
	if !ordered {
		if now.Sub(p.createdAt) >= cfg.orderWindow {
			return client.ProvisionFailed
		}
		return client.ProvisionInProgress
	}
	if !now.Before(p.completedAt(cfg)) {
		return client.ProvisionCompleted
	}
	return client.ProvisionInProgress
}

func (p *provision) completedAt(cfg *config) time.Time { return p.orderedAt.Add(cfg.provisionDelay) }

func (s *Server) handleProductEntitlements(w http.ResponseWriter, r *http.Request, c *call) {
	orgID, ari := r.PathValue("orgId"), r.PathValue("productAri")
	st := s.st
	st.mu.Lock()
	ref, missing := st.orgWorkspace(orgID, ari, c.now)
	if missing != "" {
		st.mu.Unlock()
		writeError(w, http.StatusNotFound, "NOT_FOUND", missing)
		return
	}
	out := client.ProductEntitlements{
		ResourceARI:  "ari:cloud:platform::site/" + ref.site.CloudID,
		Entitlements: []client.ProductEntitlement{},
	}
	if e, ok := st.entitlement(ref.product().EntitlementID, "", c.now); ok {
		status := e.Status
		if status == "" {
			status = "ACTIVE"
		}
		out.Entitlements = append(out.Entitlements, client.ProductEntitlement{
			EntitlementID: e.ID, ProvisioningStatus: status, SuspensionReasons: []string{}})
		out.Metadata.JiraFamilyContainer = familyContainerOf(e)
	}
	st.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

var siteNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

func (s *Server) handleProvisionProducts(w http.ResponseWriter, r *http.Request, c *call) {
	orgID := r.PathValue("orgId")
	var req client.ProvisionRequest
	if !decodeBody(w, c, &req) {
		return
	}
	st := s.st
	st.mu.Lock()
	if !st.orgs[orgID] {
		st.mu.Unlock()
		writeError(w, http.StatusNotFound, "NOT_FOUND", "organization not found: "+orgID)
		return
	}
	var errs []fieldError
	p := &provision{orgID: orgID, createdAt: c.now, fails: c.action.provisionFails, realm: "us"}
	if len(req.Offerings) == 0 {
		errs = append(errs, fieldError{"offerings", "at least one offering is required"})
	}
	seen := map[string]bool{}
	for i, o := range req.Offerings {
		off, ok := st.offerings[o.ID]
		switch {
		case !ok:
			errs = append(errs, fieldError{fmt.Sprintf("offerings[%d].id", i), "unknown offering " + o.ID})
		case off.Kind != KindProduct:
			errs = append(errs, fieldError{fmt.Sprintf("offerings[%d].id", i), fmt.Sprintf("offering %s is a %s, not a product instance", o.ID, off.Kind)})
		case seen[off.TypeKey]:
			errs = append(errs, fieldError{fmt.Sprintf("offerings[%d].id", i), "product " + off.TypeKey + " is requested twice"})
		default:
			seen[off.TypeKey] = true
			p.offerings = append(p.offerings, o.ID)
			if o.Location != "" && i == 0 {
				p.realm = o.Location
			}
		}
	}
	errs = append(errs, checkAdminEmail(req.Parameters.AdminEmail)...)
	name := req.Parameters.Name
	switch {
	case name == "":
		errs = append(errs, fieldError{"parameters.name", "the site name is required"})
	case !siteNamePattern.MatchString(name):
		errs = append(errs, fieldError{"parameters.name", "a site name has lowercase letters, digits and hyphens only"})
	default:
		p.siteName = name
		if site, ok := st.sites[name]; ok {
			if site.OrgID != orgID {
				errs = append(errs, fieldError{"parameters.name", "site " + name + " belongs to another organization"})
				break
			}
			p.cloudID = site.CloudID
			for _, sp := range site.Products {
				if seen[sp.TypeKey] {
					errs = append(errs, fieldError{"parameters.name", "site " + name + " already has " + sp.TypeKey})
				}
			}
		} else {
			if req.Parameters.Timezone == "" {
				errs = append(errs, fieldError{"parameters.timezone", "a timezone is required for a new site"})
			}
			p.newSite, p.timezone = true, req.Parameters.Timezone
		}
	}
	if len(errs) > 0 {
		st.mu.Unlock()
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", joinErrors(errs), errs...)
		return
	}
	s.acceptProvision(w, p, c)
}

func (s *Server) handleProvisionApp(w http.ResponseWriter, r *http.Request, c *call) {
	orgID, ari := r.PathValue("orgId"), r.PathValue("productAri")
	var req client.ProvisionRequest
	if !decodeBody(w, c, &req) {
		return
	}
	st := s.st
	st.mu.Lock()
	ref, missing := st.orgWorkspace(orgID, ari, c.now)
	if missing != "" {
		st.mu.Unlock()
		writeError(w, http.StatusNotFound, "NOT_FOUND", missing)
		return
	}
	p := &provision{orgID: orgID, app: true, productARI: ari, siteName: ref.site.Name, cloudID: ref.site.CloudID,
		appKey: req.Parameters.AppKey, createdAt: c.now, fails: c.action.provisionFails}
	var errs []fieldError
	if len(req.Offerings) != 1 {
		errs = append(errs, fieldError{"offerings", "exactly one app offering is required"})
	}
	for i, o := range req.Offerings {
		off, ok := st.offerings[o.ID]
		switch {
		case !ok:
			errs = append(errs, fieldError{fmt.Sprintf("offerings[%d].id", i), "unknown offering " + o.ID})
		case off.Kind != KindApp:
			errs = append(errs, fieldError{fmt.Sprintf("offerings[%d].id", i), "offering " + o.ID + " is not an app"})
		case req.Parameters.AppKey != "" && off.AppKey != req.Parameters.AppKey:
			errs = append(errs, fieldError{"parameters.appKey", fmt.Sprintf("app key %q is not the key of offering %s", req.Parameters.AppKey, o.ID)})
		default:
			p.offerings = append(p.offerings, o.ID)
		}
	}
	if req.Parameters.AppKey == "" {
		errs = append(errs, fieldError{"parameters.appKey", "the app key is required"})
	}
	errs = append(errs, checkAdminEmail(req.Parameters.AdminEmail)...)
	if len(errs) > 0 {
		st.mu.Unlock()
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", joinErrors(errs), errs...)
		return
	}
	s.acceptProvision(w, p, c)
}

// acceptProvision records p and answers its statusUrl. Call with st.mu held;
// it releases it.
func (s *Server) acceptProvision(w http.ResponseWriter, p *provision, c *call) {
	st := s.st
	p.id = st.newID()
	if p.newSite {
		p.cloudID = derivedID("site", p.id)
	}
	st.provisions[p.id] = p
	st.provisionCount++
	st.mu.Unlock()
	var out client.ProvisionResponse
	out.Data.StatusURL = c.base + "/admin/installations/v2/orgs/" + p.orgID + "/products/status/" + p.id
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleProvisionStatus(w http.ResponseWriter, r *http.Request, c *call) {
	orgID, id := r.PathValue("orgId"), r.PathValue("requestId")
	st := s.st
	st.mu.Lock()
	at := c.readAt()
	p, ok := st.provisions[id]
	if !ok || p.orgID != orgID || p.createdAt.After(at) {
		st.mu.Unlock()
		writeError(w, http.StatusNotFound, "NOT_FOUND", "provisioning request not found: "+id)
		return
	}
	var out client.ProvisionStatus
	out.Data.RequestID, out.Data.Status = p.id, p.status(at, &s.cfg)
	st.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func checkAdminEmail(email string) []fieldError {
	if email == "" {
		return []fieldError{{"parameters.adminEmail", "the admin email is required"}}
	}
	if at := strings.IndexByte(email, '@'); at <= 0 || at == len(email)-1 {
		return []fieldError{{"parameters.adminEmail", "not an email address"}}
	}
	return nil
}

// joinErrors is the message of an error answer: the one problem, or how many
// there are (the errors list names each, so a client does not print them twice).
// intParam reads the integer query parameter key, def when it is absent; a value below lo
// (0 or 1) is recorded in errs.
func intParam(v url.Values, key string, def, lo int, errs *[]fieldError) int {
	s := v.Get(key)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo {
		msg := "not a non-negative integer"
		if lo > 0 {
			msg = "not a positive integer"
		}
		*errs = append(*errs, fieldError{key, msg})
	}
	return n
}

func joinErrors(errs []fieldError) string {
	if len(errs) == 1 {
		return errs[0].Field + ": " + errs[0].Message
	}
	return fmt.Sprintf("%d problems with the request", len(errs))
}
