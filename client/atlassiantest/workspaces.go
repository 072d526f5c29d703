package atlassiantest

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/procurement/atlassian-installer/client"
)

const (
	defaultWorkspacePageSize = 20
	maxWorkspacePageSize     = 100
)

func (s *Server) handleWorkspaces(w http.ResponseWriter, r *http.Request, c *call) {
	orgID := r.PathValue("orgId")
	var q client.WorkspaceQuery
	if len(c.body) > 0 && !decodeBody(w, c, &q) {
		return
	}
	cursor := q.Cursor
	if v := r.URL.Query().Get("cursor"); v != "" {
		cursor = v
	}
	offset, ok := parseCursor(cursor)
	if !ok {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "cursor: not a cursor of this API",
			fieldError{"cursor", "not a cursor of this API"})
		return
	}
	limit := q.Limit
	if v := r.URL.Query().Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	if limit <= 0 {
		limit = defaultWorkspacePageSize
	}
	limit = min(limit, maxWorkspacePageSize)
	field := q.Query.Field
	switch field.Name {
	case "", "attributes.name", "attributes.typeKey", "id":
	default:
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "query.field.name: cannot filter on "+field.Name,
			fieldError{"query.field.name", "cannot filter on " + field.Name + "; use attributes.name, attributes.typeKey or id"})
		return
	}

	st := s.st
	st.mu.Lock()
	if !st.orgs[orgID] {
		st.mu.Unlock()
		writeError(w, http.StatusNotFound, "NOT_FOUND", "organization not found: "+orgID)
		return
	}
	var aris []string
	switch field.Name {
	case "attributes.name":
		for _, name := range field.Values {
			if site, ok := st.sites[name]; ok && site.OrgID == orgID {
				for _, p := range site.Products {
					aris = append(aris, ARI(p.TypeKey, site.CloudID))
				}
			}
		}
	case "id":
		aris = field.Values
	default:
		aris = st.orgWorkspaces[orgID]
	}
	want := map[string]bool{}
	if field.Name == "attributes.typeKey" {
		for _, v := range field.Values {
			want[v] = true
		}
	}
	var matched []wsRef
	for _, ari := range aris {
		ref, ok := st.workspace(orgID, ari, c.now)
		if !ok || (len(want) > 0 && !want[ref.product().TypeKey]) {
			continue
		}
		matched = append(matched, ref)
	}
	page := client.WorkspacePage{Data: []client.Workspace{}}
	end := min(offset+limit, len(matched))
	for i := offset; i < end; i++ {
		page.Data = append(page.Data, st.workspaceJSON(matched[i], c.base))
	}
	st.mu.Unlock()

	page.Links.Self = makeCursor(offset)
	if end < len(matched) {
		page.Links.Next = makeCursor(end)
	}
	if offset > 0 {
		page.Links.Prev = makeCursor(max(offset-limit, 0))
	}
	page.Meta = client.WorkspacesMeta{PageSize: limit, StartIndex: offset + 1, EndIndex: end, Total: len(matched)}
	if len(page.Data) == 0 {
		page.Meta.StartIndex = 0
	}
	writeJSON(w, http.StatusOK, page)
}

// workspaceJSON renders a workspace. Call with st.mu held.
func (st *state) workspaceJSON(ref wsRef, base string) client.Workspace {
	p := ref.product()
	ari := ARI(p.TypeKey, ref.site.CloudID)
	self := base + "/admin/v1/workspaces/" + url.PathEscape(ari)
	ws := client.Workspace{
		ID:   ari,
		Type: p.Type,
		Attributes: client.WorkspaceAttributes{
			Name: ref.site.Name, TypeKey: p.TypeKey, Type: p.Type, Status: "online",
			StatusDetails: []string{}, Sandbox: &client.WorkspaceSandbox{Type: "NONE"},
			HostURL: "https://" + ref.site.Name + ".atlassian.net", Realm: ref.site.Realm,
		},
		Links: client.PageLinks{Self: self},
	}
	if e, ok := st.entitlements[p.EntitlementID]; ok {
		ws.Relationships.Entitlement = []client.WorkspaceEntitlement{{
			ID: e.ID, Type: "entitlements",
			Links:      client.PageLinks{Self: self + "/entitlements/" + e.ID},
			Attributes: client.WorkspaceEntitlementAttributes{PlanKey: "enterprise", Plan: "Enterprise", Key: e.ProductKey},
		}}
	}
	return ws
}

// Cursors are opaque to callers, as the API's are; a full URL carrying
// cursor= is accepted too, for callers that follow links.next literally.
func makeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset)))
}

func parseCursor(c string) (int, bool) {
	if c == "" {
		return 0, true
	}
	if strings.Contains(c, "cursor=") {
		if u, err := url.Parse(c); err == nil {
			c = u.Query().Get("cursor")
		}
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	n, ok := strings.CutPrefix(string(raw), "o:")
	if !ok {
		return 0, false
	}
	off, err := strconv.Atoi(n)
	return off, err == nil && off >= 0
}
