package atlassiantest

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/procurement/atlassian-installer/client"
)

// state is everything the sandbox knows. One mutex guards it; every lookup
// a request makes is a map access, so the sandbox stays fast under load.
type state struct {
	mu sync.Mutex

	orgs          map[string]bool
	offerings     map[string]Offering
	offeringOrder []string
	entitlements  map[string]*Entitlement
	entOrder      []string
	sites         map[string]*Site // by name
	siteOrder     []string
	workspaces    map[string]wsRef    // by product ARI
	orgWorkspaces map[string][]string // org → product ARIs, oldest first

	provisions     map[string]*provision
	provisionCount int
	orders         map[string]*order
	accepted       []client.OrderRequest

	quotes     quoteState
	promotions promotionState
	csm        csmState
	cloudIDs   map[string]bool // sites the CSM API answers for

	rng *rand.Rand
}

type wsRef struct {
	site *Site
	idx  int
}

func (r wsRef) product() *SiteProduct { return &r.site.Products[r.idx] }

// idNamespace derives the sandbox's deterministic ids.
var idNamespace = uuid.MustParse("6ba7b811-9dad-11d1-80b4-00c04fd430c8")

func derivedID(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(append(b, p...), '/')
	}
	return uuid.NewSHA1(idNamespace, b).String()
}

// newID is a random (but seeded, so repeatable) version 4 UUID. Call with mu held.
func (st *state) newID() string {
	var u uuid.UUID
	binary.LittleEndian.PutUint64(u[:8], st.rng.Uint64())
	binary.LittleEndian.PutUint64(u[8:], st.rng.Uint64())
	u[6] = (u[6] & 0x0f) | 0x40
	u[8] = (u[8] & 0x3f) | 0x80
	return u.String()
}

func newState(f *Fixtures, seed uint64) *state {
	st := &state{rng: rand.New(rand.NewPCG(seed, 0x5a17b0c5))}
	st.load(f)
	return st
}

// load replaces the whole state with the fixtures. Call with mu held (or before sharing).
func (st *state) load(f *Fixtures) {
	st.orgs = map[string]bool{}
	st.offerings = map[string]Offering{}
	st.offeringOrder = nil
	st.entitlements = map[string]*Entitlement{}
	st.entOrder = nil
	st.sites = map[string]*Site{}
	st.siteOrder = nil
	st.workspaces = map[string]wsRef{}
	st.orgWorkspaces = map[string][]string{}
	st.provisions = map[string]*provision{}
	st.provisionCount = 0
	st.orders = map[string]*order{}
	st.accepted = nil
	for _, o := range f.Orgs {
		st.orgs[o] = true
	}
	for _, o := range f.Offerings {
		st.addOffering(o)
	}
	for _, e := range f.Entitlements {
		st.addEntitlement(e)
	}
	for _, s := range f.Sites {
		site := s
		site.Products = slices.Clone(s.Products)
		st.orgs[site.OrgID] = true
		st.sites[site.Name] = &site
		st.siteOrder = append(st.siteOrder, site.Name)
		for i := range site.Products {
			st.indexWorkspace(&site, i)
		}
	}
	st.cloudIDs = map[string]bool{}
	for _, s := range st.sites {
		st.cloudIDs[s.CloudID] = true
	}
	st.quotes.load(f.Quotes)
	st.promotions.load(f.Promotions)
	st.csm.load(f.CSMFields, f.CSMEntitlements)
}

func (st *state) addOffering(o Offering) {
	if _, ok := st.offerings[o.ID]; !ok {
		st.offeringOrder = append(st.offeringOrder, o.ID)
	}
	st.offerings[o.ID] = o
}

func (st *state) addEntitlement(e Entitlement) *Entitlement {
	if _, ok := st.entitlements[e.ID]; !ok {
		st.entOrder = append(st.entOrder, e.ID)
	}
	p := &e
	p.RelatesFromEntitlements = slices.Clone(e.RelatesFromEntitlements)
	st.entitlements[e.ID] = p
	return p
}

func (st *state) indexWorkspace(site *Site, i int) {
	ari := ARI(site.Products[i].TypeKey, site.CloudID)
	if _, ok := st.workspaces[ari]; !ok {
		st.orgWorkspaces[site.OrgID] = append(st.orgWorkspaces[site.OrgID], ari)
	}
	st.workspaces[ari] = wsRef{site: site, idx: i}
}

// entitlement returns a visible entitlement of organization org ("" for any).
func (st *state) entitlement(id, org string, now time.Time) (*Entitlement, bool) {
	e, ok := st.entitlements[id]
	if !ok || now.Before(e.VisibleAt) || !orgMay(org, e.OrgID) {
		return nil, false
	}
	return e, true
}

// orgMay reports whether credentials limited to org ("" for none) may see what belongs to
// owner; what has no owner (hand-written fixtures) is everyone's.
func orgMay(org, owner string) bool { return org == "" || owner == "" || owner == org }

// orgWorkspace finds product ari in organization orgID; when either is unknown it returns the
// message naming which. st.mu must be held.
func (st *state) orgWorkspace(orgID, ari string, now time.Time) (wsRef, string) {
	if !st.orgs[orgID] {
		return wsRef{}, "organization not found: " + orgID
	}
	ref, ok := st.workspace(orgID, ari, now)
	if !ok {
		return wsRef{}, "product not found in organization: " + ari
	}
	return ref, ""
}

// workspace returns a visible workspace of an organization.
func (st *state) workspace(orgID, ari string, now time.Time) (wsRef, bool) {
	ref, ok := st.workspaces[ari]
	if !ok || ref.site.OrgID != orgID || now.Before(ref.product().VisibleAt) {
		return wsRef{}, false
	}
	return ref, true
}

// familyContainerOf is the FAMILY_CONTAINER relation of an entitlement, if any.
func familyContainerOf(e *Entitlement) string {
	for _, r := range e.RelatesFromEntitlements {
		if r.RelationshipType == client.RelationFamilyContainer {
			return r.EntitlementID
		}
	}
	return ""
}

// siteFamilyContainer is the Jira family container of a site's Jira-family
// products (pending ones included), if it has any.
func (st *state) siteFamilyContainer(site *Site) string {
	for _, p := range site.Products {
		if e, ok := st.entitlements[p.EntitlementID]; ok {
			if fc := familyContainerOf(e); fc != "" {
				return fc
			}
		}
	}
	return ""
}

// fixtures captures the current state as fixtures (pending entitlements and
// products included, with their VisibleAt). Call with mu held.
func (st *state) fixtures() *Fixtures {
	f := &Fixtures{}
	for o := range st.orgs {
		f.Orgs = append(f.Orgs, o)
	}
	slices.Sort(f.Orgs)
	for _, id := range st.offeringOrder {
		f.Offerings = append(f.Offerings, st.offerings[id])
	}
	for _, id := range st.entOrder {
		e := *st.entitlements[id]
		e.RelatesFromEntitlements = slices.Clone(e.RelatesFromEntitlements)
		f.Entitlements = append(f.Entitlements, e)
	}
	for _, name := range st.siteOrder {
		s := *st.sites[name]
		s.Products = slices.Clone(s.Products)
		f.Sites = append(f.Sites, s)
	}
	f.Quotes = st.quotes.dump()
	f.Promotions = st.promotions.dump()
	f.CSMFields, f.CSMEntitlements = st.csm.dump()
	return f
}

// Fixtures returns the sandbox's current state as fixtures, e.g. to Dump it.
func (s *Server) Fixtures() *Fixtures {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return s.st.fixtures()
}

// LoadFixtures replaces the whole state (orders and provisioning requests
// included) with f.
func (s *Server) LoadFixtures(f *Fixtures) error {
	if err := f.validate(); err != nil {
		return err
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.load(f)
	return nil
}

// Orders returns the orders accepted so far, one per distinct orderId, in
// the order they arrived: a test asserts "never ordered twice" on it.
func (s *Server) Orders() []client.OrderRequest {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return slices.Clone(s.st.accepted)
}

// ProvisionRequests is how many provisioning requests (products and apps)
// the sandbox has accepted.
func (s *Server) ProvisionRequests() int {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return s.st.provisionCount
}
