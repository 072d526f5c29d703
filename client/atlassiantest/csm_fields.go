package atlassiantest

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/procurement/atlassian-installer/client"
)

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
