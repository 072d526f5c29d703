package client

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
)

// CSMService manages JSM customer service management entitlements and their
// detail fields
// (https://developer.atlassian.com/cloud/customer-service-management/rest/api-group-entitlement/).
type CSMService service

// csmPath is the root of a site's CSM API.
func csmPath(cloudID string) string {
	return "jsm/csm/cloudid/" + seg(cloudID) + "/api/v1"
}

// ListDetailFields reads all entitlement detail fields with their configuration.
//
// CSM REST API, "Get entitlement detail fields":
// GET /jsm/csm/cloudid/{cloudId}/api/v1/entitlement/details.
func (s *CSMService) ListDetailFields(ctx context.Context, cloudID string) (*DetailFields, *Response, error) {
	if err := required("cloudID", cloudID); err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequest(http.MethodGet, csmPath(cloudID)+"/entitlement/details", nil, nil, FamilyCSM, retryIdempotent)
	return call[DetailFields](ctx, s.client, r, err)
}

// CreateDetailField creates an entitlement detail field (at most 50 exist).
// Not idempotent: retried only when refused (429, 503) or surely never sent.
//
// CSM REST API, "Create entitlement detail field":
// POST /jsm/csm/cloudid/{cloudId}/api/v1/entitlement/details.
func (s *CSMService) CreateDetailField(ctx context.Context, cloudID string, req *CreateDetailFieldRequest) (*DetailField, *Response, error) {
	if err := required("cloudID", cloudID); err != nil {
		return nil, nil, err
	}
	if err := requiredBody("req", req); err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequest(http.MethodPost, csmPath(cloudID)+"/entitlement/details", nil, req, FamilyCSM, retryUnsent)
	return call[DetailField](ctx, s.client, r, err)
}

// EditDetailField renames a detail field and/or changes its options. A rename
// cannot be repeated safely, so it is retried like CreateDetailField.
//
// CSM REST API, "Edit entitlement detail field":
// PUT /jsm/csm/cloudid/{cloudId}/api/v1/entitlement/details/{fieldName}.
func (s *CSMService) EditDetailField(ctx context.Context, cloudID, fieldName string, req *EditDetailFieldRequest) (*DetailField, *Response, error) {
	if err := required("cloudID", cloudID, "fieldName", fieldName); err != nil {
		return nil, nil, err
	}
	if err := requiredBody("req", req); err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequest(http.MethodPut, csmPath(cloudID)+"/entitlement/details/"+seg(fieldName), nil, req, FamilyCSM, retryUnsent)
	return call[DetailField](ctx, s.client, r, err)
}

// DeleteDetailField deletes a detail field and every value stored for it.
//
// CSM REST API, "Delete entitlement detail field":
// DELETE /jsm/csm/cloudid/{cloudId}/api/v1/entitlement/details/{fieldName}.
func (s *CSMService) DeleteDetailField(ctx context.Context, cloudID, fieldName string) (*Response, error) {
	if err := required("cloudID", cloudID, "fieldName", fieldName); err != nil {
		return nil, err
	}
	r, err := s.client.newRequest(http.MethodDelete, csmPath(cloudID)+"/entitlement/details/"+seg(fieldName), nil, nil, FamilyCSM, retryUnsent)
	return callNoContent(ctx, s.client, r, err)
}

// GetEntitlement reads an entitlement with its details.
//
// CSM REST API, "Get entitlement":
// GET /jsm/csm/cloudid/{cloudId}/api/v1/entitlement/{entitlementId}.
func (s *CSMService) GetEntitlement(ctx context.Context, cloudID, entitlementID string) (*CSMEntitlement, *Response, error) {
	if err := required("cloudID", cloudID, "entitlementID", entitlementID); err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequest(http.MethodGet, csmPath(cloudID)+"/entitlement/"+seg(entitlementID), nil, nil, FamilyCSM, retryIdempotent)
	return call[CSMEntitlement](ctx, s.client, r, err)
}

// DeleteEntitlement deletes an entitlement and its detail values.
//
// CSM REST API, "Delete entitlement":
// DELETE /jsm/csm/cloudid/{cloudId}/api/v1/entitlement/{entitlementId}.
func (s *CSMService) DeleteEntitlement(ctx context.Context, cloudID, entitlementID string) (*Response, error) {
	if err := required("cloudID", cloudID, "entitlementID", entitlementID); err != nil {
		return nil, err
	}
	r, err := s.client.newRequest(http.MethodDelete, csmPath(cloudID)+"/entitlement/"+seg(entitlementID), nil, nil, FamilyCSM, retryUnsent)
	return callNoContent(ctx, s.client, r, err)
}

// SetEntitlementDetail sets the values of one detail field on an entitlement.
// Setting the same values twice has one effect, so it is retried like a read.
//
// CSM REST API, "Set entitlement detail":
// PUT /jsm/csm/cloudid/{cloudId}/api/v1/entitlement/{entitlementId}/details?fieldName=.
func (s *CSMService) SetEntitlementDetail(ctx context.Context, cloudID, entitlementID, fieldName string, values []string) (*CSMEntitlementDetail, *Response, error) {
	if err := required("cloudID", cloudID, "entitlementID", entitlementID, "fieldName", fieldName); err != nil {
		return nil, nil, err
	}
	if values == nil {
		values = []string{}
	}
	body := struct {
		Values []string `json:"values"`
	}{values}
	r, err := s.client.newRequest(http.MethodPut, csmPath(cloudID)+"/entitlement/"+seg(entitlementID)+"/details",
		url.Values{"fieldName": {fieldName}}, body, FamilyCSM, retryIdempotent)
	return call[CSMEntitlementDetail](ctx, s.client, r, err)
}

// ListEntitlements reads one page (at most 50) of a customer's or
// organization's entitlements. The endpoint is experimental; the client sends
// the X-ExperimentalApi: opt-in header it requires.
//
// CSM REST API, "Get entitlements" (experimental):
// GET /jsm/csm/cloudid/{cloudId}/api/v1/entitlements.
func (s *CSMService) ListEntitlements(ctx context.Context, cloudID string, opts *CSMEntitlementListOptions) (*CSMEntitlementPage, *Response, error) {
	if err := required("cloudID", cloudID); err != nil {
		return nil, nil, err
	}
	if err := requiredBody("opts", opts); err != nil {
		return nil, nil, err
	}
	if err := required("opts.EntityType", opts.EntityType, "opts.EntityID", opts.EntityID); err != nil {
		return nil, nil, err
	}
	if opts.Start < 0 || opts.Limit < 0 {
		return nil, nil, fmt.Errorf("%w: opts.Start and opts.Limit must not be negative", ErrInvalidArgument)
	}
	q := url.Values{"entityType": {opts.EntityType}, "entityId": {opts.EntityID}}
	setInt(q, "start", opts.Start)
	setInt(q, "limit", opts.Limit)
	setString(q, "productId", opts.ProductID)
	r, err := s.client.newRequest(http.MethodGet, csmPath(cloudID)+"/entitlements", q, nil, FamilyCSM, retryIdempotent)
	r, err = withHeader(r, err, "X-ExperimentalApi", "opt-in")
	return call[CSMEntitlementPage](ctx, s.client, r, err)
}

// ListEntitlementsIter yields every entitlement, advancing start by the page
// size until isLast. It stops at the first error, which it yields.
func (s *CSMService) ListEntitlementsIter(ctx context.Context, cloudID string, opts CSMEntitlementListOptions) iter.Seq2[CSMEntitlement, error] {
	return func(yield func(CSMEntitlement, error) bool) {
		for {
			page, _, err := s.ListEntitlements(ctx, cloudID, &opts)
			if err != nil {
				yield(CSMEntitlement{}, err)
				return
			}
			for _, e := range page.Results {
				if !yield(e, nil) {
					return
				}
			}
			if page.IsLast || len(page.Results) == 0 {
				return
			}
			opts.Start = page.StartAt + len(page.Results)
		}
	}
}
