package events

import (
	"embed"
	"strings"
)

// SchemaBaseURI is where the data schemas are published: the address of events/schema/ in the
// repository, from which each schema's $id and every outbound event's dataschema are made.
const SchemaBaseURI = "https://raw.githubusercontent.com/procurement/atlassian-installer/main/events/schema/"

// Schemas holds the JSON Schemas (draft 2020-12) of the request data and of each outcome's data,
// one file per event named after the last token of its type (requested.json, ordered.json,
// provisioned.json, failed.json, planned.json), and the AsyncAPI 3.0 document of the channels,
// asyncapi.yaml.
//
//go:embed schema/*.json schema/asyncapi.yaml
var Schemas embed.FS

// SchemaFile returns the name, within Schemas's schema/ directory, of the data schema of
// eventType, whatever the subject prefix: "ordered.json" for "atlassian.install.ordered".
func SchemaFile(eventType string) string {
	return eventType[strings.LastIndexByte(eventType, '.')+1:] + ".json"
}

// DataSchema returns the dataschema of an event of type eventType: the URI of its data's schema,
// which is also that schema's $id.
func DataSchema(eventType string) string { return SchemaBaseURI + SchemaFile(eventType) }
