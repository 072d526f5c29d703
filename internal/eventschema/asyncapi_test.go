package eventschema_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/procurement/atlassian-installer/events"
)

// TestAsyncAPIConformsToTheSpecification validates the AsyncAPI document of the events against
// the specification's own JSON Schema for 3.0.0 (testdata/README.md says where it comes from);
// events' TestAsyncAPIDocument checks what it says against the installer.
func TestAsyncAPIConformsToTheSpecification(t *testing.T) {
	data, err := fs.ReadFile(events.Schemas, "schema/asyncapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	asJSON, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(asJSON))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := os.ReadFile(filepath.Join("testdata", "asyncapi-3.0.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	specDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(spec))
	if err != nil {
		t.Fatal(err)
	}
	const id = "http://asyncapi.com/definitions/3.0.0/asyncapi.json"
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, specDoc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("asyncapi.yaml is not a valid AsyncAPI 3.0.0 document:\n%v", err)
	}
}
