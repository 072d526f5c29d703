package atlassiantest

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/procurement/atlassian-installer/client"
)

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
	start := intParam(v, "start", 0, 0, &errs)
	limit := min(intParam(v, "limit", defaultCSMPageSize, 1, &errs), maxCSMPageSize)
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
