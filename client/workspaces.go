package client

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
)

// WorkspacesService queries the product instances (workspaces) of an
// organization (install cookbook, "Get product ARI";
// https://developer.atlassian.com/cloud/admin/organization/rest/api-group-workspaces/).
type WorkspacesService service

// Query returns one page of the organization's workspaces matching q; set
// q.Cursor to a previous page's Links.Next for the next page. A nil q queries
// everything. The POST only reads, so it is retried like a GET.
//
// Install cookbook, "Get product ARI": POST /admin/v2/orgs/{orgId}/workspaces.
func (s *WorkspacesService) Query(ctx context.Context, orgID string, q *WorkspaceQuery) (*WorkspacePage, *Response, error) {
	if err := required("orgID", orgID); err != nil {
		return nil, nil, err
	}
	var body any = struct{}{}
	if q != nil {
		body = q
	}
	r, err := s.client.newRequest(http.MethodPost, WorkspacesPath(orgID),
		nil, body, FamilyWorkspaces, retryIdempotent)
	return call[WorkspacePage](ctx, s.client, r, err)
}

// QueryIter yields every workspace matching q, following links.next from page
// to page. It stops at the first error, which it yields.
func (s *WorkspacesService) QueryIter(ctx context.Context, orgID string, q WorkspaceQuery) iter.Seq2[Workspace, error] {
	return func(yield func(Workspace, error) bool) {
		for {
			page, _, err := s.Query(ctx, orgID, &q)
			if err != nil {
				yield(Workspace{}, err)
				return
			}
			for _, w := range page.Data {
				if !yield(w, nil) {
					return
				}
			}
			next := cursorOf(page.Links.Next)
			if next == "" {
				return
			}
			if next == q.Cursor {
				yield(Workspace{}, fmt.Errorf("%w: workspaces cursor %q", ErrPaginationLoop, next))
				return
			}
			q.Cursor = next
		}
	}
}

// cursorOf reads the cursor of a links.next value, which is either the cursor
// itself or a URL carrying it as the "cursor" query parameter.
func cursorOf(next string) string {
	if u, err := url.Parse(next); err == nil && u.IsAbs() {
		if c := u.Query().Get("cursor"); c != "" {
			return c
		}
	}
	return next
}
