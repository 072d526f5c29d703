// Package eventschema validates event data against the JSON Schemas the installer publishes
// (events.Schemas), so that tests can hold every event they see to the documented API:
//
//	if err := eventschema.Validate(ev.Type(), ev.Data()); err != nil {
//		t.Errorf("%s does not match its schema: %v", ev.Type(), err)
//	}
//
// It is test support: nothing the installer runs imports it.
package eventschema

import (
	"bytes"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/procurement/atlassian-installer/events"
)

var compiled = sync.OnceValues(compile)

// compile loads every schema of events.Schemas under its $id, so that nothing is fetched.
func compile() (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	files, err := fs.Glob(events.Schemas, "schema/*.json")
	if err != nil {
		return nil, err
	}
	for _, name := range files {
		doc, err := load(name)
		if err != nil {
			return nil, err
		}
		if err := c.AddResource(events.SchemaBaseURI+strings.TrimPrefix(name, "schema/"), doc); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, name := range files {
		file := strings.TrimPrefix(name, "schema/")
		s, err := c.Compile(events.SchemaBaseURI + file)
		if err != nil {
			return nil, fmt.Errorf("compile %s: %w", file, err)
		}
		out[file] = s
	}
	return out, nil
}

func load(name string) (any, error) {
	data, err := fs.ReadFile(events.Schemas, name)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return doc, nil
}

// Schema returns the compiled schema of the data of eventType (any subject prefix).
func Schema(eventType string) (*jsonschema.Schema, error) {
	all, err := compiled()
	if err != nil {
		return nil, err
	}
	s, ok := all[events.SchemaFile(eventType)]
	if !ok {
		return nil, fmt.Errorf("eventschema: no schema for event type %q", eventType)
	}
	return s, nil
}

// Validate checks data, a JSON document, against the schema of eventType. A violation is a
// *jsonschema.ValidationError; Fields names the fields it concerns.
func Validate(eventType string, data []byte) error {
	s, err := Schema(eventType)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("eventschema: %s data is not JSON: %w", eventType, err)
	}
	return s.Validate(v)
}

// Fields returns the fields a validation error concerns, named as the installer's field errors
// name them ("products[0].quantity", "site.timezone"): where each innermost violation is, and
// for a missing field the field itself.
func Fields(err *jsonschema.ValidationError) []string {
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		var missing []string
		switch k := e.ErrorKind.(type) {
		case *kind.Required:
			missing = k.Missing
		case *kind.DependentRequired:
			missing = k.Missing
		}
		if len(missing) == 0 {
			out = append(out, fieldPath(e.InstanceLocation))
		}
		for _, m := range missing {
			out = append(out, fieldPath(append(append([]string(nil), e.InstanceLocation...), m)))
		}
	}
	walk(err)
	return out
}

// fieldPath turns a JSON pointer's tokens into a field path: array indexes in brackets.
func fieldPath(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		if _, err := strconv.Atoi(t); err == nil {
			b.WriteString("[" + t + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}
