package client

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// PromotionsService manages Marketplace promotions and their codes
// (https://developer.atlassian.com/platform/marketplace/rest/v4/api-group-promotions/).
type PromotionsService service

// promotionsPath is the root of a partner's promotions.
func promotionsPath(partnerID int64) string {
	return "marketplace/catalog/partners/" + strconv.FormatInt(partnerID, 10) + "/promotions"
}

func checkPartner(partnerID int64) error {
	if partnerID <= 0 {
		return fmt.Errorf("%w: partnerID must be positive, got %d", ErrInvalidArgument, partnerID)
	}
	return nil
}

// ListPaged reads one page of a partner's promotions; opts may be nil.
//
// Promotions REST API, "Get promotions paged":
// GET /marketplace/catalog/partners/{partnerId}/promotions/paged.
func (s *PromotionsService) ListPaged(ctx context.Context, partnerID int64, opts *PromotionListOptions) (*PromotionPage, *Response, error) {
	if err := checkPartner(partnerID); err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts != nil {
		if opts.Limit < 0 || opts.Offset < 0 {
			return nil, nil, fmt.Errorf("%w: opts.Limit and opts.Offset must not be negative", ErrInvalidArgument)
		}
		setInt(q, "limit", opts.Limit)
		setInt(q, "offset", opts.Offset)
		setString(q, "order-by", opts.OrderBy)
		setBool(q, "active-only", opts.ActiveOnly)
		setString(q, "hosting-type", opts.HostingType)
		setString(q, "app-key", opts.AppKey)
		setBool(q, "ascending", opts.Ascending)
		setString(q, "nextId", opts.NextID)
		setString(q, "prevId", opts.PrevID)
	}
	r, err := s.client.newRequest(http.MethodGet, promotionsPath(partnerID)+"/paged", q, nil, FamilyPromotions, retryIdempotent)
	return call[PromotionPage](ctx, s.client, r, err)
}

// ListPagedIter yields every promotion, following nextId when the API gives
// one and offset/limit (up to totalItems) when it never does. It stops at the first error, which it yields.
func (s *PromotionsService) ListPagedIter(ctx context.Context, partnerID int64, opts PromotionListOptions) iter.Seq2[Promotion, error] {
	return func(yield func(Promotion, error) bool) {
		for {
			page, _, err := s.ListPaged(ctx, partnerID, &opts)
			if err != nil {
				yield(Promotion{}, err)
				return
			}
			for _, p := range page.Promotions {
				if !yield(p, nil) {
					return
				}
			}
			if len(page.Promotions) == 0 {
				return
			}
			switch {
			case page.NextID != "":
				if page.NextID == opts.NextID {
					yield(Promotion{}, fmt.Errorf("%w: promotions nextId %q", ErrPaginationLoop, page.NextID))
					return
				}
				opts.NextID = page.NextID
			case opts.NextID != "":
				// Paging by nextId, and the API gave none: last page.
				return
			case page.Offset+len(page.Promotions) < page.TotalItems:
				opts.Offset = page.Offset + len(page.Promotions)
			default:
				return
			}
		}
	}
}

// List reads all of a partner's promotions in one answer; the reference
// recommends ListPaged.
//
// Promotions REST API, "Get promotions":
// GET /marketplace/catalog/partners/{partnerId}/promotions.
func (s *PromotionsService) List(ctx context.Context, partnerID int64) (*PromotionList, *Response, error) {
	if err := checkPartner(partnerID); err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequest(http.MethodGet, promotionsPath(partnerID), nil, nil, FamilyPromotions, retryIdempotent)
	return call[PromotionList](ctx, s.client, r, err)
}

// Create creates a promotion. It is not idempotent, so it is repeated only
// when the API refused it (429, 503) or it surely never left.
//
// Promotions REST API, "Create promotion":
// POST /marketplace/catalog/partners/{partnerId}/promotions.
func (s *PromotionsService) Create(ctx context.Context, partnerID int64, req *CreatePromotionRequest) (*CreatePromotionResponse, *Response, error) {
	if err := checkPartner(partnerID); err != nil {
		return nil, nil, err
	}
	if err := requiredBody("req", req); err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequest(http.MethodPost, promotionsPath(partnerID), nil, req, FamilyPromotions, retryUnsent)
	return call[CreatePromotionResponse](ctx, s.client, r, err)
}

// Get reads one promotion.
//
// Promotions REST API, "Get promotion":
// GET /marketplace/catalog/partners/{partnerId}/promotions/{promotionId}.
func (s *PromotionsService) Get(ctx context.Context, partnerID int64, promotionID string) (*Promotion, *Response, error) {
	if err := s.check(partnerID, promotionID); err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequest(http.MethodGet, promotionsPath(partnerID)+"/"+seg(promotionID), nil, nil, FamilyPromotions, retryIdempotent)
	return call[Promotion](ctx, s.client, r, err)
}

// Update changes the fields of a promotion that req sets. Setting the same
// fields twice has one effect, so it is retried like a read.
//
// Promotions REST API, "Update promotion":
// PATCH /marketplace/catalog/partners/{partnerId}/promotions/{promotionId}.
func (s *PromotionsService) Update(ctx context.Context, partnerID int64, promotionID string, req *UpdatePromotionRequest) (*Response, error) {
	if err := s.check(partnerID, promotionID); err != nil {
		return nil, err
	}
	if err := requiredBody("req", req); err != nil {
		return nil, err
	}
	r, err := s.client.newRequest(http.MethodPatch, promotionsPath(partnerID)+"/"+seg(promotionID), nil, req, FamilyPromotions, retryIdempotent)
	return callNoContent(ctx, s.client, r, err)
}

// ListCodes reads the single-use codes of a promotion.
//
// Promotions REST API, "Get promotion codes":
// GET /marketplace/catalog/partners/{partnerId}/promotions/{promotionId}/codes.
func (s *PromotionsService) ListCodes(ctx context.Context, partnerID int64, promotionID string) (*PromotionCodes, *Response, error) {
	if err := s.check(partnerID, promotionID); err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequest(http.MethodGet, promotionsPath(partnerID)+"/"+seg(promotionID)+"/codes", nil, nil, FamilyPromotions, retryIdempotent)
	return call[PromotionCodes](ctx, s.client, r, err)
}

// CreateCode creates a single-use code for a promotion. The reference
// documents no answer body; when the API sends the created code it is
// returned, otherwise the code is nil. Retried like Create.
//
// Promotions REST API, "Create promotion code":
// POST /marketplace/catalog/partners/{partnerId}/promotions/{promotionId}/codes.
func (s *PromotionsService) CreateCode(ctx context.Context, partnerID int64, promotionID string) (*PromotionCode, *Response, error) {
	if err := s.check(partnerID, promotionID); err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequest(http.MethodPost, promotionsPath(partnerID)+"/"+seg(promotionID)+"/codes", nil, nil, FamilyPromotions, retryUnsent)
	code, resp, err := call[PromotionCode](ctx, s.client, r, err)
	if err == nil && code.Code == "" {
		code = nil
	}
	return code, resp, err
}

// GetCode reads one single-use code.
//
// Promotions REST API, "Get promotion code":
// GET /marketplace/catalog/partners/{partnerId}/promotions/{promotionId}/codes/{promotionCode}.
func (s *PromotionsService) GetCode(ctx context.Context, partnerID int64, promotionID, promotionCode string) (*PromotionCode, *Response, error) {
	if err := s.checkCode(partnerID, promotionID, promotionCode); err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequest(http.MethodGet, promotionsPath(partnerID)+"/"+seg(promotionID)+"/codes/"+seg(promotionCode), nil, nil, FamilyPromotions, retryIdempotent)
	return call[PromotionCode](ctx, s.client, r, err)
}

// DeleteCode deletes a single-use code. A repeated delete could answer 404
// after a first success, so it is retried only when the API refused it or it
// surely never left.
//
// Promotions REST API, "Delete promotion code":
// DELETE /marketplace/catalog/partners/{partnerId}/promotions/{promotionId}/codes/{promotionCode}.
func (s *PromotionsService) DeleteCode(ctx context.Context, partnerID int64, promotionID, promotionCode string) (*Response, error) {
	if err := s.checkCode(partnerID, promotionID, promotionCode); err != nil {
		return nil, err
	}
	r, err := s.client.newRequest(http.MethodDelete, promotionsPath(partnerID)+"/"+seg(promotionID)+"/codes/"+seg(promotionCode), nil, nil, FamilyPromotions, retryUnsent)
	return callNoContent(ctx, s.client, r, err)
}

// GetStatus reads a promotion's status, such as "ACTIVE".
//
// Promotions REST API, "Get promotion status":
// GET /marketplace/catalog/partners/{partnerId}/promotions/{promotionId}/status.
func (s *PromotionsService) GetStatus(ctx context.Context, partnerID int64, promotionID string) (string, *Response, error) {
	if err := s.check(partnerID, promotionID); err != nil {
		return "", nil, err
	}
	r, err := s.client.newRequest(http.MethodGet, promotionsPath(partnerID)+"/"+seg(promotionID)+"/status", nil, nil, FamilyPromotions, retryIdempotent)
	status, resp, err := call[string](ctx, s.client, r, err)
	if err != nil {
		return "", resp, err
	}
	return *status, resp, nil
}

func (s *PromotionsService) check(partnerID int64, promotionID string) error {
	if err := checkPartner(partnerID); err != nil {
		return err
	}
	return required("promotionID", promotionID)
}

func (s *PromotionsService) checkCode(partnerID int64, promotionID, code string) error {
	if err := s.check(partnerID, promotionID); err != nil {
		return err
	}
	return required("promotionCode", code)
}

// setBool adds a boolean query parameter when it is set.
func setBool(q url.Values, key string, v *bool) {
	if v != nil {
		q.Set(key, strconv.FormatBool(*v))
	}
}
