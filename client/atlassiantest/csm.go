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
