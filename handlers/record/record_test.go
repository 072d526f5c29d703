package record_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/procurement/atlassian-installer/handlers/record"
)

// golden are the records stored at each step of a journey, as the installer wrote them
// (a journey provisioned, one whose provisioning failed after its order, and a dry run),
// and their compact records in the finished bucket. provision_accepted is the ordering
// record without the order: a journey rests there only when the drain came between the
// provisioning answer and the order, or the order was refused before it was processed.
// ordered_faults is the ordered record with a traceparent and faults counted, and
// done_provisioned_app an app's journey, whose plan records its host.
var golden = []string{
	"received", "looked_up", "provisioning", "provision_accepted", "ordering", "ordered",
	"ordered_faults", "done_provisioned", "done_provisioned_app", "done_failed", "done_planned",
	"finished_provisioned", "finished_failed", "finished_planned",
}

// TestGoldenRecords decodes every stored record and encodes it again byte for byte: a change
// of a field's name, type or omission rule breaks it.
func TestGoldenRecords(t *testing.T) {
	for _, name := range golden {
		t.Run(name, func(t *testing.T) {
			want := readGolden(t, name)
			var st record.State
			if err := json.Unmarshal(want, &st); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(&st)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("re-encoded record differs:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// TestGoldenCompact derives each finished record from the whole record it was written with.
func TestGoldenCompact(t *testing.T) {
	for _, status := range []string{"provisioned", "failed", "planned"} {
		var st record.State
		if err := json.Unmarshal(readGolden(t, "done_"+status), &st); err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(st.Compact())
		if err != nil {
			t.Fatal(err)
		}
		if want := readGolden(t, "finished_"+status); !bytes.Equal(got, want) {
			t.Errorf("compact record of a journey %s:\n got %s\nwant %s", status, got, want)
		}
	}
}

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b, []byte("\n"))
}

func TestKey(t *testing.T) {
	valid := regexp.MustCompile(`^[-/_=\.a-zA-Z0-9]+$`)
	for _, id := range []string{
		"3f0c2b1e-8a4d-4f6b-9c2e-1d0a9b8c7d6e", "req-1",
		"urn:procurement:order/42", "a.b", "", "ünïcode id", "_looks-encoded",
	} {
		k := record.Key(id)
		if !valid.MatchString(k) || k[0] == '.' || k[len(k)-1] == '.' {
			t.Errorf("Key(%q) = %q is not a valid KV key", id, k)
		}
		if k != record.Key(id) {
			t.Errorf("Key(%q) is not deterministic", id)
		}
	}
	if record.Key("req-1") != "req-1" {
		t.Error("a plain id is not its own key")
	}
	if record.Key("a.b") == record.Key("a_b") || record.Key("_x") == "_x" {
		t.Error("encoded keys collide with plain ones")
	}
}

func TestOrderID(t *testing.T) {
	a, b := record.OrderID("req-1"), record.OrderID("req-2")
	if a != record.OrderID("req-1") || a == b || len(a) != 36 {
		t.Errorf("OrderID: %s %s", a, b)
	}
}
