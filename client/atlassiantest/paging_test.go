package atlassiantest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
)

// Paging parameters that are not integers, or below their least value, get a 400 naming
// each of them; good ones page as asked.
func TestPagingParameters(t *testing.T) {
	f := setup(t)
	promotions := fmt.Sprintf("/marketplace/catalog/partners/%d/promotions/paged", atlassiantest.PartnerID)
	csm := "/jsm/csm/cloudid/" + atlassiantest.CloudID + "/api/v1/entitlements?entityType=ORGANIZATION&entityId=" + atlassiantest.CSMOrganizationID
	for _, tc := range []struct {
		path string
		want []string // fields named in the 400; none: 200
	}{
		{"/commerce/api/v1/quotes?pageSize=0", []string{"pageSize: not a positive integer"}},
		{"/commerce/api/v1/quotes?pageSize=x", []string{"pageSize: not a positive integer"}},
		{"/commerce/api/v1/quotes?pageSize=1000", nil},
		{promotions + "?limit=0&offset=-1", []string{`"limit"`, `"offset"`, "not a non-negative integer"}},
		{promotions + "?offset=x", []string{"offset: not a non-negative integer"}},
		{promotions + "?limit=2&offset=1", nil},
		{csm + "&start=-1&limit=0", []string{`"start"`, `"limit"`, "not a positive integer"}},
		{csm + "&start=0&limit=1", nil},
	} {
		code, body := f.raw("GET", tc.path, nil, "X-ExperimentalApi", "opt-in")
		want := http.StatusOK
		if tc.want != nil {
			want = http.StatusBadRequest
		}
		if code != want {
			t.Errorf("GET %s: %d, want %d: %s", tc.path, code, want, body)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(string(body), w) {
				t.Errorf("GET %s: answer lacks %q: %s", tc.path, w, body)
			}
		}
	}
}
