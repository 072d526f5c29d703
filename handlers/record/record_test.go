package record_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/procurement/atlassian-installer/handlers"
)

// golden are the records stored at each step of a journey, as the installer wrote them
// (a journey provisioned, one whose provisioning failed after its order, and a dry run),
// and their compact records in the finished bucket. provision_accepted is a legacy step:
// no installer writes it any more, but a record of it still loads and resumes at the order.
var golden = []string{
	"received", "looked_up", "provisioning", "provision_accepted", "ordering", "ordered",
	"done_provisioned", "done_failed", "done_planned",
	"finished_provisioned", "finished_failed", "finished_planned",
}

// TestGoldenRecords decodes every stored record and encodes it again byte for byte: a change
// of a field's name, type or omission rule breaks it.
func TestGoldenRecords(t *testing.T) {
	for _, name := range golden {
		t.Run(name, func(t *testing.T) {
			want := readGolden(t, name)
			var st handlers.State
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

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b, []byte("\n"))
}
