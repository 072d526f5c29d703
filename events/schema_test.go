package events_test

import (
	"encoding/json"
	"io/fs"
	"testing"

	"github.com/procurement/atlassian-installer/events"
)

// TestSchemasNamedByTheirURI checks that each data schema is published at the URI outbound events
// name as dataschema, for every event type and whatever the prefix.
func TestSchemasNamedByTheirURI(t *testing.T) {
	for _, s := range []events.Subjects{events.NewSubjects(""), events.NewSubjects("acme.atlassian")} {
		for _, typ := range append(s.Outcomes(), s.Requested()) {
			data, err := fs.ReadFile(events.Schemas, "schema/"+events.SchemaFile(typ))
			if err != nil {
				t.Errorf("%s: %v", typ, err)
				continue
			}
			var doc struct {
				Schema string `json:"$schema"`
				ID     string `json:"$id"`
			}
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Errorf("%s: %v", typ, err)
				continue
			}
			if doc.ID != events.DataSchema(typ) {
				t.Errorf("%s: $id %q, dataschema %q", typ, doc.ID, events.DataSchema(typ))
			}
			if doc.Schema != "https://json-schema.org/draft/2020-12/schema" {
				t.Errorf("%s: $schema %q, want draft 2020-12", typ, doc.Schema)
			}
		}
	}
}
