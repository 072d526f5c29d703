package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
)

// collect drains an iterator.
func collect[T any](seq func(func(T, error) bool)) ([]T, error) {
	const most = 100 // a runaway iterator fails the test instead of the machine
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
		if len(out) > most {
			return out, errors.New("iterator did not stop")
		}
	}
	return out, nil
}

func TestWorkspacesQueryIter(t *testing.T) {
	c, mux, _ := setup(t)
	pages := map[string]string{
		"":   `{"data":[{"id":"w1"},{"id":"w2"}],"links":{"next":"c2"}}`,
		"c2": `{"data":[{"id":"w3"}],"links":{"next":"https://api.atlassian.com/admin/v2/orgs/o/workspaces?cursor=c3"}}`,
		"c3": `{"data":[{"id":"w4"}],"links":{"next":null}}`,
	}
	mux.HandleFunc("/admin/v2/orgs/o/workspaces", func(w http.ResponseWriter, r *http.Request) {
		var q WorkspaceQuery
		if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
			t.Fatal(err)
		}
		if q.Query.Field.Name != "attributes.name" || q.Limit != 2 {
			t.Errorf("query = %+v", q)
		}
		writeJSON(w, 200, []byte(pages[q.Cursor]))
	})
	q := WorkspaceQuery{Query: WorkspaceQueryFilter{Field: WorkspaceQueryField{Name: "attributes.name", Values: []string{"acme"}}}, Limit: 2}
	got, err := collect(c.Workspaces.QueryIter(ctxT(t), "o", q))
	if err != nil || len(got) != 4 || got[3].ID != "w4" {
		t.Fatalf("got %d items, %v", len(got), err)
	}
}

func TestIteratorStopsOnLoopAndError(t *testing.T) {
	c, mux, _ := setup(t, WithRetry(1, 1))
	mux.HandleFunc("/admin/v2/orgs/loop/workspaces", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, []byte(`{"data":[{"id":"w"}],"links":{"next":"same"}}`))
	})
	mux.HandleFunc("/admin/v2/orgs/broken/workspaces", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 403, []byte(`{"message":"no"}`))
	})
	if _, err := collect(c.Workspaces.QueryIter(ctxT(t), "loop", WorkspaceQuery{})); !errors.Is(err, ErrPaginationLoop) {
		t.Errorf("err = %v, want ErrPaginationLoop", err)
	}
	var er *ErrorResponse
	if _, err := collect(c.Workspaces.QueryIter(ctxT(t), "broken", WorkspaceQuery{})); !errors.As(err, &er) || er.StatusCode != 403 {
		t.Errorf("err = %v, want *ErrorResponse 403", err)
	}
}

func TestIteratorEarlyBreakFetchesNoMore(t *testing.T) {
	c, mux, _ := setup(t)
	requests := 0
	mux.HandleFunc("/commerce/api/v1/quotes", func(w http.ResponseWriter, r *http.Request) {
		requests++
		writeJSON(w, 200, []byte(`{"data":[{"id":"a"},{"id":"b"}],"nextId":"n`+strconv.Itoa(requests)+`"}`))
	})
	for q, err := range c.Quotes.ListIter(ctxT(t), txa, QuoteListOptions{}) {
		if err != nil || q.ID != "a" {
			t.Fatalf("got %+v, %v", q, err)
		}
		break
	}
	if requests != 1 {
		t.Errorf("requests = %d, want 1", requests)
	}
}

func TestQuotesListIter(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("/commerce/api/v1/quotes", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "X-Transaction-Account", txa)
		switch r.URL.Query().Get("startId") {
		case "":
			writeJSON(w, 200, []byte(`{"data":[{"id":"q1"},{"id":"q2"}],"nextId":"q3"}`))
		case "q3":
			writeJSON(w, 200, []byte(`{"data":[{"id":"q3"}]}`))
		default:
			t.Errorf("unexpected startId %q", r.URL.Query().Get("startId"))
		}
	})
	got, err := collect(c.Quotes.ListIter(ctxT(t), txa, QuoteListOptions{PageSize: 2}))
	if err != nil || len(got) != 3 {
		t.Fatalf("got %d items, %v", len(got), err)
	}
}

func TestPromotionsListPagedIter(t *testing.T) {
	t.Run("nextId", func(t *testing.T) {
		c, mux, _ := setup(t)
		mux.HandleFunc("/marketplace/catalog/partners/1234/promotions/paged", func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Query().Get("nextId") {
			case "":
				writeJSON(w, 200, []byte(`{"promotions":[{"id":"p1"},{"id":"p2"}],"limit":2,"totalItems":3,"nextId":"x"}`))
			case "x":
				writeJSON(w, 200, []byte(`{"promotions":[{"id":"p3"}],"limit":2,"totalItems":3}`))
			}
		})
		got, err := collect(c.Promotions.ListPagedIter(ctxT(t), partner, PromotionListOptions{Limit: 2}))
		if err != nil || len(got) != 3 || got[2].ID != "p3" {
			t.Fatalf("got %d items, %v", len(got), err)
		}
	})
	t.Run("offset", func(t *testing.T) {
		c, mux, _ := setup(t)
		mux.HandleFunc("/marketplace/catalog/partners/1234/promotions/paged", func(w http.ResponseWriter, r *http.Request) {
			off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
			if r.URL.Query().Get("limit") != "2" {
				t.Errorf("limit = %q", r.URL.Query().Get("limit"))
			}
			var ps []string
			for i := off; i < min(off+2, 5); i++ {
				ps = append(ps, fmt.Sprintf(`{"id":"p%d"}`, i))
			}
			writeJSON(w, 200, []byte(fmt.Sprintf(`{"promotions":[%s],"offset":%d,"limit":2,"totalItems":5}`, join(ps), off)))
		})
		got, err := collect(c.Promotions.ListPagedIter(ctxT(t), partner, PromotionListOptions{Limit: 2}))
		if err != nil || len(got) != 5 || got[4].ID != "p4" {
			t.Fatalf("got %d items, %v", len(got), err)
		}
	})
}

func join(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

func TestCSMListEntitlementsIter(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("/jsm/csm/cloudid/cloud-1/api/v1/entitlements", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "X-ExperimentalApi", "opt-in")
		start, _ := strconv.Atoi(r.URL.Query().Get("start"))
		var rs []string
		for i := start; i < min(start+2, 5); i++ {
			rs = append(rs, fmt.Sprintf(`{"id":"e%d"}`, i))
		}
		writeJSON(w, 200, []byte(fmt.Sprintf(`{"startAt":%d,"maxResults":2,"total":5,"isLast":%v,"results":[%s]}`, start, start+2 >= 5, join(rs))))
	})
	got, err := collect(c.CSM.ListEntitlementsIter(ctxT(t), cloudID, CSMEntitlementListOptions{EntityType: EntityCustomer, EntityID: "123", Limit: 2}))
	if err != nil || len(got) != 5 || got[4].ID != "e4" {
		t.Fatalf("got %d items, %v", len(got), err)
	}
}

// The quote PDF is streamed: Download returns while the server is still
// sending, and the body is read as it arrives.
func TestQuotesDownloadStreams(t *testing.T) {
	c, mux, _ := setup(t)
	release := make(chan struct{})
	mux.HandleFunc("/commerce/api/v3/quotes/Q-1/download", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Accept", "application/pdf")
		testHeader(t, r, "X-Transaction-Account", txa)
		if got := r.URL.Query().Get("transactionAccountId"); got != txa {
			t.Errorf("transactionAccountId = %q", got)
		}
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = io.WriteString(w, "%PDF-1.4\n")
		w.(http.Flusher).Flush()
		<-release // the rest only once the client has read the start
		_, _ = io.WriteString(w, "%%EOF\n")
	})
	body, resp, err := c.Quotes.Download(ctxT(t), "Q-1", txa)
	if err != nil {
		close(release)
		t.Fatal(err)
	}
	defer body.Close()
	if resp.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("Content-Type = %q", resp.Header.Get("Content-Type"))
	}
	head := make([]byte, 9)
	if _, err := io.ReadFull(body, head); err != nil || string(head) != "%PDF-1.4\n" {
		t.Fatalf("head = %q, %v", head, err)
	}
	close(release)
	rest, err := io.ReadAll(body)
	if err != nil || string(rest) != "%%EOF\n" {
		t.Errorf("rest = %q, %v", rest, err)
	}
}

func TestQuotesDownloadError(t *testing.T) {
	c, mux, _ := setup(t, WithRetry(1, 1))
	mux.HandleFunc("/commerce/api/v3/quotes/missing/download", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, []byte(`{"message":"quote not found"}`))
	})
	body, _, err := c.Quotes.Download(ctxT(t), "missing", txa)
	var er *ErrorResponse
	if body != nil || !errors.As(err, &er) || er.Message != "quote not found" {
		t.Errorf("body %v, err = %v", body, err)
	}
}
