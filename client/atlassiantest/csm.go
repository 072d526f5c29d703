package atlassiantest

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/procurement/atlassian-installer/client"
)

// CSMField is an entitlement detail field of a site's Customer Service Management.
type CSMField struct {
	CloudID  string                 `json:"cloudId"`
	ID       string                 `json:"id"`
	Name     string                 `json:"name"`
	Type     client.DetailFieldType `json:"type"`
	Position int                    `json:"position"`
}

// CSMEntitlement is a CSM entitlement of a customer or organization, with its
// detail values by field name.
type CSMEntitlement struct {
	CloudID        string              `json:"cloudId"`
	ID             string              `json:"id"`
	Product        client.CSMProduct   `json:"product"`
	EntitledEntity client.CSMEntity    `json:"entitledEntity"`
	Values         map[string][]string `json:"values,omitempty"`
}

const (
	maxCSMFields         = 50
	defaultCSMPageSize   = 25
	maxCSMPageSize       = 50
	experimentalHeader   = "X-ExperimentalApi"
	experimentalOptIn    = "opt-in"
	fieldTypeSelect      = "SELECT"
	fieldTypeMultiSelect = "MULTISELECT"
)

var csmFieldTypes = []string{"TEXT", "NUMBER", "DATE", fieldTypeSelect, fieldTypeMultiSelect}

type csmCloud struct {
	fields  []*CSMField
	nextID  int
	ents    []*CSMEntitlement
	entByID map[string]*CSMEntitlement
}

type csmState struct{ clouds map[string]*csmCloud }

func (c *csmState) cloud(id string) *csmCloud {
	cl, ok := c.clouds[id]
	if !ok {
		cl = &csmCloud{entByID: map[string]*CSMEntitlement{}}
		c.clouds[id] = cl
	}
	return cl
}

func (c *csmState) load(fields []CSMField, ents []CSMEntitlement) {
	c.clouds = map[string]*csmCloud{}
	for _, f := range fields {
		x := f
		cl := c.cloud(x.CloudID)
		cl.fields = append(cl.fields, &x)
		if n, err := strconv.Atoi(x.ID); err == nil && n > cl.nextID {
			cl.nextID = n
		}
	}
	for _, e := range ents {
		x := e
		x.Values = cloneValues(e.Values)
		cl := c.cloud(x.CloudID)
		cl.ents = append(cl.ents, &x)
		cl.entByID[x.ID] = &x
	}
}

func (c *csmState) dump() ([]CSMField, []CSMEntitlement) {
	ids := make([]string, 0, len(c.clouds))
	for id := range c.clouds {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var fields []CSMField
	var ents []CSMEntitlement
	for _, id := range ids {
		for _, f := range c.clouds[id].fields {
			fields = append(fields, *f)
		}
		for _, e := range c.clouds[id].ents {
			x := *e
			x.Values = cloneValues(e.Values)
			ents = append(ents, x)
		}
	}
	return fields, ents
}

func cloneValues(m map[string][]string) map[string][]string {
	if m == nil {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}

func (cl *csmCloud) field(name string) (int, *CSMField) {
	i := slices.IndexFunc(cl.fields, func(f *CSMField) bool { return f.Name == name })
	if i < 0 {
		return -1, nil
	}
	return i, cl.fields[i]
}

func fieldJSON(f *CSMField) client.DetailField {
	return client.DetailField{Name: f.Name, Type: client.DetailFieldType{Name: f.Type.Name, Options: slices.Clone(f.Type.Options)},
		Configuration: &client.DetailFieldConfiguration{Position: f.Position}}
}

// entitlementJSON renders a CSM entitlement with its details in field order. Call with st.mu held.
func (cl *csmCloud) entitlementJSON(e *CSMEntitlement) client.CSMEntitlement {
	out := client.CSMEntitlement{ID: e.ID, Product: e.Product, EntitledEntity: e.EntitledEntity, Details: []client.CSMEntitlementDetail{}}
	for _, f := range cl.fields {
		if v, ok := e.Values[f.Name]; ok {
			out.Details = append(out.Details, client.CSMEntitlementDetail{ID: f.ID, Name: f.Name,
				Type: client.DetailFieldType{Name: f.Type.Name, Options: slices.Clone(f.Type.Options)}, Values: slices.Clone(v),
				Configuration: &client.DetailFieldConfiguration{Position: f.Position}})
		}
	}
	return out
}

// csmCloudOf finds the CSM of a site by cloud id, answering 404 itself. Call with st.mu held.
func (st *state) csmCloudOf(w http.ResponseWriter, r *http.Request) (*csmCloud, bool) {
	id := r.PathValue("cloudId")
	if !st.cloudIDs[id] {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no site with cloud id "+id)
		return nil, false
	}
	return st.csm.cloud(id), true
}

func (s *Server) handleListCSMFields(w http.ResponseWriter, r *http.Request, _ *call) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	cl, ok := s.st.csmCloudOf(w, r)
	if !ok {
		return
	}
	out := client.DetailFields{Results: []client.DetailField{}}
	for _, f := range cl.fields {
		out.Results = append(out.Results, fieldJSON(f))
	}
	writeJSON(w, http.StatusOK, out)
}

func checkFieldType(t client.DetailFieldType, field string) []fieldError {
	if !slices.Contains(csmFieldTypes, t.Name) {
		return []fieldError{{field + ".name", "not TEXT, NUMBER, DATE, SELECT or MULTISELECT"}}
	}
	isSelect := t.Name == fieldTypeSelect || t.Name == fieldTypeMultiSelect
	if isSelect && len(t.Options) == 0 {
		return []fieldError{{field + ".options", "a " + t.Name + " field needs options"}}
	}
	if !isSelect && len(t.Options) > 0 {
		return []fieldError{{field + ".options", "only SELECT and MULTISELECT fields have options"}}
	}
	return nil
}

func (s *Server) handleCreateCSMField(w http.ResponseWriter, r *http.Request, c *call) {
	var req client.CreateDetailFieldRequest
	if !decodeBody(w, c, &req) {
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	cl, ok := s.st.csmCloudOf(w, r)
	if !ok {
		return
	}
	var errs []fieldError
	if req.Name == "" {
		errs = append(errs, fieldError{"name", "required"})
	} else if _, f := cl.field(req.Name); f != nil {
		errs = append(errs, fieldError{"name", "a field named " + req.Name + " exists"})
	}
	errs = append(errs, checkFieldType(req.Type, "type")...)
	if len(cl.fields) >= maxCSMFields {
		errs = append(errs, fieldError{"name", "a site has at most 50 detail fields"})
	}
	if len(errs) > 0 {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", joinErrors(errs), errs...)
		return
	}
	cl.nextID++
	f := &CSMField{CloudID: r.PathValue("cloudId"), ID: strconv.Itoa(cl.nextID), Name: req.Name, Type: req.Type, Position: len(cl.fields) + 1}
	cl.fields = append(cl.fields, f)
	out := fieldJSON(f)
	out.Configuration = nil
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleUpdateCSMField(w http.ResponseWriter, r *http.Request, c *call) {
	var req client.EditDetailFieldRequest
	if !decodeBody(w, c, &req) {
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	cl, ok := s.st.csmCloudOf(w, r)
	if !ok {
		return
	}
	old := r.PathValue("fieldName")
	_, f := cl.field(old)
	if f == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no detail field named "+old)
		return
	}
	var errs []fieldError
	if req.Name == "" {
		errs = append(errs, fieldError{"name", "required"})
	} else if _, other := cl.field(req.Name); other != nil && other != f {
		errs = append(errs, fieldError{"name", "a field named " + req.Name + " exists"})
	}
	if len(req.Options) > 0 {
		errs = append(errs, checkFieldType(client.DetailFieldType{Name: f.Type.Name, Options: req.Options}, "options")...)
	}
	if len(errs) > 0 {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", joinErrors(errs), errs...)
		return
	}
	if req.Name != old {
		for _, e := range cl.ents {
			if v, ok := e.Values[old]; ok {
				delete(e.Values, old)
				e.Values[req.Name] = v
			}
		}
		f.Name = req.Name
	}
	if len(req.Options) > 0 {
		f.Type.Options = slices.Clone(req.Options)
	}
	out := fieldJSON(f)
	out.Configuration = nil
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleDeleteCSMField(w http.ResponseWriter, r *http.Request, _ *call) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	cl, ok := s.st.csmCloudOf(w, r)
	if !ok {
		return
	}
	name := r.PathValue("fieldName")
	i, f := cl.field(name)
	if f == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no detail field named "+name)
		return
	}
	cl.fields = slices.Delete(cl.fields, i, i+1)
	for j, f := range cl.fields {
		f.Position = j + 1
	}
	for _, e := range cl.ents {
		delete(e.Values, name)
	}
	w.WriteHeader(http.StatusNoContent)
}

// lookupCSMEntitlement answers 404 itself. Call with st.mu held.
func (st *state) lookupCSMEntitlement(w http.ResponseWriter, r *http.Request) (*csmCloud, *CSMEntitlement, bool) {
	cl, ok := st.csmCloudOf(w, r)
	if !ok {
		return nil, nil, false
	}
	id := r.PathValue("entitlementId")
	e, ok := cl.entByID[id]
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "entitlement not found: "+id)
		return nil, nil, false
	}
	return cl, e, true
}

func (s *Server) handleGetCSMEntitlement(w http.ResponseWriter, r *http.Request, _ *call) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if cl, e, ok := s.st.lookupCSMEntitlement(w, r); ok {
		writeJSON(w, http.StatusOK, cl.entitlementJSON(e))
	}
}

func (s *Server) handleDeleteCSMEntitlement(w http.ResponseWriter, r *http.Request, _ *call) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	cl, e, ok := s.st.lookupCSMEntitlement(w, r)
	if !ok {
		return
	}
	delete(cl.entByID, e.ID)
	cl.ents = slices.DeleteFunc(cl.ents, func(x *CSMEntitlement) bool { return x == e })
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleSetCSMDetail(w http.ResponseWriter, r *http.Request, c *call) {
	var req struct {
		Values []string `json:"values"`
	}
	if !decodeBody(w, c, &req) {
		return
	}
	name := r.URL.Query().Get("fieldName")
	if name == "" {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "fieldName: the query parameter is required", fieldError{"fieldName", "required"})
		return
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	cl, e, ok := s.st.lookupCSMEntitlement(w, r)
	if !ok {
		return
	}
	_, f := cl.field(name)
	if f == nil {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "fieldName: no detail field named "+name, fieldError{"fieldName", "no detail field named " + name})
		return
	}
	if errs := checkValues(f, req.Values); len(errs) > 0 {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", joinErrors(errs), errs...)
		return
	}
	if e.Values == nil {
		e.Values = map[string][]string{}
	}
	e.Values[name] = slices.Clone(req.Values)
	writeJSON(w, http.StatusOK, client.CSMEntitlementDetail{ID: f.ID, Name: f.Name,
		Type: client.DetailFieldType{Name: f.Type.Name, Options: slices.Clone(f.Type.Options)}, Values: slices.Clone(req.Values)})
}

func checkValues(f *CSMField, values []string) []fieldError {
	var errs []fieldError
	switch f.Type.Name {
	case fieldTypeSelect:
		if len(values) > 1 {
			errs = append(errs, fieldError{"values", "a SELECT field takes one value"})
		}
		fallthrough
	case fieldTypeMultiSelect:
		for i, v := range values {
			if !slices.Contains(f.Type.Options, v) {
				errs = append(errs, fieldError{"values[" + strconv.Itoa(i) + "]", v + " is not an option of " + f.Name})
			}
		}
	case "NUMBER":
		for i, v := range values {
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				errs = append(errs, fieldError{"values[" + strconv.Itoa(i) + "]", v + " is not a number"})
			}
		}
	}
	return errs
}

func (s *Server) handleListCSMEntitlements(w http.ResponseWriter, r *http.Request, _ *call) {
	if r.Header.Get(experimentalHeader) != experimentalOptIn {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "this experimental API needs the header X-ExperimentalApi: opt-in",
			fieldError{experimentalHeader, "must be opt-in"})
		return
	}
	v := r.URL.Query()
	var errs []fieldError
	typ, entity := v.Get("entityType"), v.Get("entityId")
	if typ != client.EntityCustomer && typ != client.EntityOrganization {
		errs = append(errs, fieldError{"entityType", "not CUSTOMER or ORGANIZATION"})
	}
	if entity == "" {
		errs = append(errs, fieldError{"entityId", "required"})
	}
	start, limit := 0, defaultCSMPageSize
	if s := v.Get("start"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			errs = append(errs, fieldError{"start", "not a non-negative integer"})
		}
		start = n
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			errs = append(errs, fieldError{"limit", "not a positive integer"})
		}
		limit = min(n, maxCSMPageSize)
	}
	if len(errs) > 0 {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", joinErrors(errs), errs...)
		return
	}
	product := v.Get("productId")
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	cl, ok := s.st.csmCloudOf(w, r)
	if !ok {
		return
	}
	var matched []*CSMEntitlement
	for _, e := range cl.ents {
		if e.EntitledEntity.Type == typ && e.EntitledEntity.ID == entity && (product == "" || e.Product.ID == product) {
			matched = append(matched, e)
		}
	}
	start = min(start, len(matched))
	end := min(start+limit, len(matched))
	out := client.CSMEntitlementPage{StartAt: start, MaxResults: limit, Total: len(matched), IsLast: end == len(matched),
		Results: []client.CSMEntitlement{}}
	for _, e := range matched[start:end] {
		out.Results = append(out.Results, cl.entitlementJSON(e))
	}
	writeJSON(w, http.StatusOK, out)
}

func defaultCSM() ([]CSMField, []CSMEntitlement) {
	fields := []CSMField{
		{CloudID: CloudID, ID: "1", Name: "Region", Type: client.DetailFieldType{Name: fieldTypeSelect, Options: []string{"AU", "EU", "US"}}, Position: 1},
		{CloudID: CloudID, ID: "2", Name: "Tier", Type: client.DetailFieldType{Name: fieldTypeSelect, Options: []string{"Gold", "Silver", "Bronze"}}, Position: 2},
		{CloudID: CloudID, ID: "3", Name: "Notes", Type: client.DetailFieldType{Name: "TEXT"}, Position: 3},
	}
	product := client.CSMProduct{ID: "3858a61a-d337-42e6-993e-e13e1c366d4f", Name: "Acme Widget"}
	org := client.CSMEntity{ID: CSMOrganizationID, Type: client.EntityOrganization}
	ents := []CSMEntitlement{
		{CloudID: CloudID, ID: CSMEntitlementID, Product: product, EntitledEntity: org, Values: map[string][]string{"Region": {"EU"}, "Tier": {"Gold"}}},
		{CloudID: CloudID, ID: "5f0e1d2c-3b4a-4958-8776-a5b4c3d2e1f0", Product: client.CSMProduct{ID: "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d", Name: "Acme Gadget"}, EntitledEntity: org, Values: map[string][]string{"Region": {"US"}}},
		{CloudID: CloudID, ID: "6e5d4c3b-2a19-4087-b6a5-948372615041", Product: product, EntitledEntity: client.CSMEntity{ID: "123", Type: client.EntityCustomer}, Values: map[string][]string{"Region": {"AU"}}},
	}
	return fields, ents
}
