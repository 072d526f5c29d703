package events_test

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/procurement/atlassian-installer/events"
)

// asyncAPI is the document as plain YAML values, for following references.
func asyncAPI(t *testing.T) map[string]any {
	t.Helper()
	data, err := fs.ReadFile(events.Schemas, "schema/asyncapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("asyncapi.yaml: %v", err)
	}
	return doc
}

// pointer resolves a JSON pointer ("/channels/requested") in v.
func pointer(v any, ptr string) (any, bool) {
	if ptr == "" {
		return v, true
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch n := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = n[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil, false
			}
			v = n[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// resolve follows a $ref of the document: "#/…" within it, "./file.json#/…" to a schema beside it.
func resolve(t *testing.T, doc map[string]any, ref string) (any, bool) {
	t.Helper()
	file, frag, _ := strings.Cut(ref, "#")
	if file == "" {
		return pointer(doc, frag)
	}
	data, err := fs.ReadFile(events.Schemas, "schema/"+strings.TrimPrefix(file, "./"))
	if err != nil {
		return nil, false
	}
	var schema any
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Errorf("%s: %v", file, err)
		return nil, false
	}
	return pointer(schema, frag)
}

// refs lists every $ref in v with where it is.
func refs(v any, at string, out map[string]string) {
	switch n := v.(type) {
	case map[string]any:
		for k, c := range n {
			if s, ok := c.(string); ok && k == "$ref" {
				out[at] = s
				continue
			}
			refs(c, at+"/"+k, out)
		}
	case []any:
		for i, c := range n {
			refs(c, at+"/"+strconv.Itoa(i), out)
		}
	}
}

func object(v any) map[string]any { m, _ := v.(map[string]any); return m }

// TestAsyncAPIDocument checks the AsyncAPI document of the events: it parses, every reference
// resolves (within it and to the schemas beside it), every channel's address parameters are
// defined, operations send and receive messages of their own channel, and the channels are the
// subjects the installer uses, each message's payload the schema its events name as dataschema.
func TestAsyncAPIDocument(t *testing.T) {
	doc := asyncAPI(t)
	if doc["asyncapi"] != "3.0.0" {
		t.Errorf("asyncapi %v, want 3.0.0", doc["asyncapi"])
	}
	if info := object(doc["info"]); info["title"] == nil || info["version"] == nil {
		t.Errorf("info needs a title and a version: %v", info)
	}

	all := map[string]string{}
	refs(doc, "", all)
	for at, ref := range all {
		if _, ok := resolve(t, doc, ref); !ok {
			t.Errorf("%s: $ref %q resolves to nothing", at, ref)
		}
	}

	s := events.NewSubjects("")
	// The contract's subjects.
	want := []string{s.Requested(), s.Ordered(), s.Provisioned(), s.Failed(), s.Planned(), s.DeadLetter()}
	for _, o := range s.Outcomes() {
		if !slices.Contains(want, o) {
			want = append(want, o)
		}
	}
	param := regexp.MustCompile(`\{([^}]+)\}`)
	var addresses []string
	channels := object(doc["channels"])
	for name, c := range channels {
		ch := object(c)
		address, _ := ch["address"].(string)
		for _, m := range param.FindAllStringSubmatch(address, -1) {
			p, ok := object(ch["parameters"])[m[1]]
			if !ok {
				t.Errorf("channel %s: address parameter %s is not defined", name, m[1])
				continue
			}
			if ref, ok := object(p)["$ref"].(string); ok {
				p, _ = resolve(t, doc, ref)
			}
			if def, _ := object(p)["default"].(string); def != events.DefaultSubjectPrefix {
				t.Errorf("channel %s: parameter %s defaults to %q, want %q", name, m[1], def, events.DefaultSubjectPrefix)
			}
		}
		subject := param.ReplaceAllString(address, events.DefaultSubjectPrefix)
		addresses = append(addresses, subject)
		if !slices.Contains(want, subject) {
			t.Errorf("channel %s: address %q is not a subject of the installer", name, address)
		}
		msgs := object(ch["messages"])
		if len(msgs) == 0 {
			t.Errorf("channel %s has no messages", name)
		}
		for key, m := range msgs {
			ref, _ := object(m)["$ref"].(string)
			msg, _ := resolve(t, doc, ref)
			checkMessage(t, doc, name+"/"+key, subject, object(msg))
		}
	}
	for _, subject := range want {
		if !slices.Contains(addresses, subject) {
			t.Errorf("no channel for %s", subject)
		}
	}

	for name, o := range object(doc["operations"]) {
		op := object(o)
		if a := op["action"]; a != "send" && a != "receive" {
			t.Errorf("operation %s: action %v", name, a)
		}
		chRef, _ := object(op["channel"])["$ref"].(string)
		if _, ok := channels[strings.TrimPrefix(chRef, "#/channels/")]; !ok || !strings.HasPrefix(chRef, "#/channels/") {
			t.Errorf("operation %s: channel %q is not a channel of the document", name, chRef)
		}
		msgs, _ := op["messages"].([]any)
		if len(msgs) == 0 {
			t.Errorf("operation %s sends or receives no message", name)
		}
		for _, m := range msgs {
			if ref, _ := object(m)["$ref"].(string); !strings.HasPrefix(ref, chRef+"/messages/") {
				t.Errorf("operation %s: message %q is not one of its channel's (%s)", name, ref, chRef)
			}
		}
	}
}

// checkMessage wants a message named after its subject whose payload is the schema events of
// that type name as dataschema; the dead letter's body is anything.
func checkMessage(t *testing.T, doc map[string]any, at, subject string, msg map[string]any) {
	t.Helper()
	if msg == nil {
		t.Errorf("%s: message does not resolve", at)
		return
	}
	if msg["name"] != subject {
		t.Errorf("%s: message name %v, want the event type %s", at, msg["name"], subject)
	}
	if msg["headers"] == nil {
		t.Errorf("%s: no headers", at)
	}
	if subject == events.NewSubjects("").DeadLetter() {
		return
	}
	payload := object(msg["payload"])
	if f, _ := payload["schemaFormat"].(string); !strings.HasPrefix(f, "application/schema+json") {
		t.Errorf("%s: payload schemaFormat %q, want JSON Schema", at, f)
	}
	ref, _ := object(payload["schema"])["$ref"].(string)
	schema, ok := resolve(t, doc, ref)
	if !ok {
		return // reported with every $ref
	}
	if id := object(schema)["$id"]; id != events.DataSchema(subject) {
		t.Errorf("%s: payload schema %s has $id %v, want %s, the events' dataschema", at, ref, id, events.DataSchema(subject))
	}
}
