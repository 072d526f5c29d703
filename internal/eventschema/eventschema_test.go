package eventschema_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/internal/eventschema"
)

var subjects = events.NewSubjects("")

// TestExamplesMatchTheRequestSchema checks every file of examples/ against the request schema
// and against the installer's own validation.
func TestExamplesMatchTheRequestSchema(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := eventschema.Validate(subjects.Requested(), data); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
		if _, err := events.DecodeRequest(data, time.Now()); err != nil {
			t.Errorf("%s: the installer refuses it: %v", filepath.Base(f), err)
		}
	}
}

// base is a valid products request, the starting point of each invalid one below.
const base = `{
  "orgId": "2e3b7c1a-5f0d-4a8e-9b6c-1d2e3f4a5b6c",
  "adminEmail": "admin@acme.example",
  "site": { "name": "acme", "create": true, "timezone": "Australia/Sydney" },
  "products": [ { "offeringId": "o-1", "family": "jira", "chargeElement": "user", "quantity": 100,
                  "parentEntitlementId": "p-1" } ]
}`

// baseApp is a valid app request.
const baseApp = `{
  "orgId": "2e3b7c1a-5f0d-4a8e-9b6c-1d2e3f4a5b6c",
  "adminEmail": "admin@acme.example",
  "site": { "name": "acme", "create": false },
  "app": { "appKey": "com.vendor.app", "offeringId": "o-2", "hostProduct": "jira-software" }
}`

// edit returns doc with each change applied: a path of object keys and array indexes, and the
// value to set there (del to remove it).
func edit(t *testing.T, doc string, changes ...change) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		keys := strings.Split(c.path, ".")
		parent := v
		for _, k := range keys[:len(keys)-1] {
			switch p := parent.(type) {
			case map[string]any:
				parent = p[k]
			case []any:
				parent = p[index(t, k)]
			}
		}
		last := keys[len(keys)-1]
		switch p := parent.(type) {
		case map[string]any:
			if c.value == del {
				delete(p, last)
			} else {
				p[last] = c.value
			}
		case []any:
			p[index(t, last)] = c.value
		default:
			t.Fatalf("%s: no object or array at its parent", c.path)
		}
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type change struct {
	path  string
	value any
}

// del removes the field at a change's path.
var del = &struct{}{}

func index(t *testing.T, k string) int {
	t.Helper()
	var i int
	if err := json.Unmarshal([]byte(k), &i); err != nil {
		t.Fatalf("index %q: %v", k, err)
	}
	return i
}

// TestSchemaAgreesWithValidation holds the request schema and events.DecodeRequest to the same
// verdict on invalid requests: both refuse each, and the field the installer names is among the
// fields the schema's violations concern. The rules no schema can state (a time zone in the
// IANA database, a timestamp in the future and at most ten years ahead of now) are the
// installer's alone and are left out; a timestamp in seconds is refused by both.
func TestSchemaAgreesWithValidation(t *testing.T) {
	tests := []struct {
		name  string
		doc   []byte
		field string // as the installer names it
	}{
		{"orgId missing", edit(t, base, change{"orgId", del}), "orgId"},
		{"orgId blank", edit(t, base, change{"orgId", "  "}), "orgId"},
		{"orgId a number", edit(t, base, change{"orgId", 42}), "orgId"},
		{"adminEmail missing", edit(t, base, change{"adminEmail", del}), "adminEmail"},
		{"adminEmail not an address", edit(t, base, change{"adminEmail", "admin"}), "adminEmail"},
		{"site missing", edit(t, base, change{"site", del}), "site.name"},
		{"site a string", edit(t, base, change{"site", "acme"}), "site"},
		{"site.name missing", edit(t, base, change{"site.name", del}), "site.name"},
		{"site.name upper case", edit(t, base, change{"site.name", "Acme"}), "site.name"},
		{"site.name with a dot", edit(t, base, change{"site.name", "acme.io"}), "site.name"},
		{"site.name ends with a hyphen", edit(t, base, change{"site.name", "acme-"}), "site.name"},
		{"site.name too long", edit(t, base, change{"site.name", strings.Repeat("a", 64)}), "site.name"},
		{"site.create a string", edit(t, base, change{"site.create", "yes"}), "site.create"},
		{"site.timezone missing on create", edit(t, base, change{"site.timezone", del}), "site.timezone"},
		{"site.timezone with a control character", edit(t, base, change{"site.timezone", "Australia/Sydney\n"}), "site.timezone"},
		{"neither products nor app", edit(t, base, change{"products", del}), "products"},
		{"both products and app", edit(t, base, change{"app", map[string]any{"appKey": "k", "offeringId": "o", "hostProduct": "confluence"}}), "app"},
		{"products empty", edit(t, base, change{"products", []any{}}), "products"},
		{"products an object", edit(t, base, change{"products", map[string]any{}}), "products"},
		{"product not an object", edit(t, base, change{"products.0", "o-1"}), "products[0]"},
		{"offeringId missing", edit(t, base, change{"products.0.offeringId", del}), "products[0].offeringId"},
		{"offeringId blank", edit(t, base, change{"products.0.offeringId", ""}), "products[0].offeringId"},
		{"chargeElement missing", edit(t, base, change{"products.0.chargeElement", del}), "products[0].chargeElement"},
		{"quantity missing", edit(t, base, change{"products.0.quantity", del}), "products[0].quantity"},
		{"quantity zero", edit(t, base, change{"products.0.quantity", 0}), "products[0].quantity"},
		{"quantity negative", edit(t, base, change{"products.0.quantity", -5}), "products[0].quantity"},
		{"quantity a string", edit(t, base, change{"products.0.quantity", "100"}), "products[0].quantity"},
		{"quantity a fraction", edit(t, base, change{"products.0.quantity", 1.5}), "products[0].quantity"},
		{"quantity above a million", edit(t, base, change{"products.0.quantity", 1_000_001}), "products[0].quantity"},
		{"offeringId with a control character", edit(t, base, change{"products.0.offeringId", "o-1\u0007"}), "products[0].offeringId"},
		{"orgId with a line break", edit(t, base, change{"orgId", "org\n1"}), "orgId"},
		{"location with a DEL", edit(t, base, change{"products.0.location", "us\u007f"}), "products[0].location"},
		{"endsAt in seconds", edit(t, base, change{"products.0.endsAt", time.Now().Add(24 * time.Hour).Unix()}), "products[0].endsAt"},
		{"family unknown", edit(t, base, change{"products.0.family", "confluence"}), "products[0].family"},
		{"endsAt negative", edit(t, base, change{"products.0.endsAt", -1}), "products[0].endsAt"},
		{"endsAt a string", edit(t, base, change{"products.0.endsAt", "2030-01-01"}), "products[0].endsAt"},
		{"no billing and no parent", edit(t, base, change{"products.0.parentEntitlementId", del}), "billing"},
		{"billing without invoice group", edit(t, base, change{"billing", map[string]any{"transactionAccountId": "ta"}}), "billing.invoiceGroupId"},
		{"billing blank account", edit(t, base, change{"billing", map[string]any{"transactionAccountId": " ", "invoiceGroupId": "ig"}}), "billing.transactionAccountId"},
		{"billing an array", edit(t, base, change{"billing", []any{}}), "billing"},
		{"app appKey missing", edit(t, baseApp, change{"app.appKey", del}), "app.appKey"},
		{"app offeringId a number", edit(t, baseApp, change{"app.offeringId", 7}), "app.offeringId"},
		{"app without host", edit(t, baseApp, change{"app.hostProduct", del}), "app.hostProduct"},
		{"app productAri not an ARI", edit(t, baseApp, change{"app.productAri", "site/1"}), "app.productAri"},
		{"app quantity without chargeElement", edit(t, baseApp, change{"app.quantity", 10}), "app.chargeElement"},
		{"app chargeElement without quantity", edit(t, baseApp, change{"app.chargeElement", "user"}), "app.quantity"},
		{"app quantity zero", edit(t, baseApp, change{"app.chargeElement", "user"}, change{"app.quantity", 0}), "app.quantity"},
		{"app quantity above a million", edit(t, baseApp, change{"app.chargeElement", "user"}, change{"app.quantity", 2_000_000}), "app.quantity"},
		{"app promotionCode with a control character", edit(t, baseApp, change{"app.promotionCode", "PROMO\u0000"}), "app.promotionCode"},
		{"app skipTrial a string", edit(t, baseApp, change{"app.skipTrial", "true"}), "app.skipTrial"},
		{"app on a new site", edit(t, baseApp, change{"site.create", true}, change{"site.timezone", "Europe/Paris"}), "site.create"},
		{"app a list", edit(t, baseApp, change{"app", []any{}}), "app"},
	}
	for _, ok := range [][]byte{[]byte(base), []byte(baseApp)} {
		if err := eventschema.Validate(subjects.Requested(), ok); err != nil {
			t.Fatalf("the valid starting point fails the schema: %v\n%s", err, ok)
		}
		if _, err := events.DecodeRequest(ok, time.Now()); err != nil {
			t.Fatalf("the valid starting point fails validation: %v\n%s", err, ok)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, goErr := events.DecodeRequest(tt.doc, time.Now())
			var ve *events.ValidationError
			if !errors.As(goErr, &ve) {
				t.Fatalf("DecodeRequest accepts %s (%v)", tt.doc, goErr)
			}
			if !slices.ContainsFunc(ve.Errors, func(fe events.FieldError) bool { return fe.Field == tt.field }) {
				t.Errorf("DecodeRequest names %v, want %s", ve.Errors, tt.field)
			}
			schemaErr := eventschema.Validate(subjects.Requested(), tt.doc)
			var se *jsonschema.ValidationError
			if !errors.As(schemaErr, &se) {
				t.Fatalf("the schema accepts %s (%v)", tt.doc, schemaErr)
			}
			if fields := eventschema.Fields(se); !slices.ContainsFunc(fields, func(f string) bool { return samePlace(f, tt.field) }) {
				t.Errorf("the schema's violations concern %v, not %s:\n%v", fields, tt.field, se)
			}
		})
	}
}

// samePlace reports whether two field paths name the same value or one holds the other: a
// missing site is the installer's missing site.name.
func samePlace(a, b string) bool {
	within := func(inner, outer string) bool {
		return strings.HasPrefix(inner, outer+".") || strings.HasPrefix(inner, outer+"[")
	}
	return a == b || within(a, b) || within(b, a)
}
