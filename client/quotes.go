package client

import (
	"context"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// QuotesService reads and downloads commerce quotes (Commerce REST API,
// Quotes: https://developer.atlassian.com/platform/commerce/rest/api-group-quotes/).
type QuotesService service

// Get reads a quote. transactionAccountID is sent as X-Transaction-Account,
// which the reference requires. Limited client-side to 600 requests a minute
// by default (FamilyQuotes).
//
// Commerce REST API, Quotes, "Get quote by ID": GET /commerce/api/v2/quotes/{id}.
func (s *QuotesService) Get(ctx context.Context, quoteID, transactionAccountID string) (*Quote, *Response, error) {
	if err := required("quoteID", quoteID); err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequest(http.MethodGet, "commerce/api/v2/quotes/"+seg(quoteID),
		nil, nil, FamilyQuotes, retryIdempotent)
	r, err = withHeader(r, err, headerTransactionAccount, transactionAccountID)
	return call[Quote](ctx, s.client, r, err)
}

// List reads one page of the transaction account's quotes; opts may be nil.
//
// Commerce REST API, Quotes, "Get quotes": GET /commerce/api/v1/quotes.
func (s *QuotesService) List(ctx context.Context, transactionAccountID string, opts *QuoteListOptions) (*QuoteList, *Response, error) {
	q := url.Values{}
	if opts != nil {
		if opts.PageSize < 0 {
			return nil, nil, fmt.Errorf("%w: opts.PageSize must not be negative", ErrInvalidArgument)
		}
		setInt(q, "pageSize", opts.PageSize)
		setString(q, "startId", opts.StartID)
		setString(q, "status", opts.Status)
		setString(q, "sortBy", opts.SortBy)
	}
	r, err := s.client.newRequest(http.MethodGet, "commerce/api/v1/quotes", q, nil, FamilyQuotes, retryIdempotent)
	r, err = withHeader(r, err, headerTransactionAccount, transactionAccountID)
	return call[QuoteList](ctx, s.client, r, err)
}

// ListIter yields every quote, following nextId from page to page. It stops at
// the first error, which it yields.
func (s *QuotesService) ListIter(ctx context.Context, transactionAccountID string, opts QuoteListOptions) iter.Seq2[Quote, error] {
	return func(yield func(Quote, error) bool) {
		for {
			page, _, err := s.List(ctx, transactionAccountID, &opts)
			if err != nil {
				yield(Quote{}, err)
				return
			}
			for _, q := range page.Data {
				if !yield(q, nil) {
					return
				}
			}
			if page.NextID == "" || len(page.Data) == 0 {
				return
			}
			if page.NextID == opts.StartID {
				yield(Quote{}, fmt.Errorf("%w: quotes nextId %q", ErrPaginationLoop, page.NextID))
				return
			}
			opts.StartID = page.NextID
		}
	}
}

// Download streams a quote as PDF (Accept: application/pdf); the caller reads
// and closes the body. Nothing is buffered, so a large PDF costs no memory.
//
// Commerce REST API, Quotes, "Download quote":
// GET /commerce/api/v3/quotes/{id}/download?transactionAccountId=.
func (s *QuotesService) Download(ctx context.Context, quoteID, transactionAccountID string) (io.ReadCloser, *Response, error) {
	if err := required("quoteID", quoteID, "transactionAccountID", transactionAccountID); err != nil {
		return nil, nil, err
	}
	r, err := s.client.newRequest(http.MethodGet, "commerce/api/v3/quotes/"+seg(quoteID)+"/download",
		url.Values{"transactionAccountId": {transactionAccountID}}, nil, FamilyQuotes, retryIdempotent)
	r, err = withHeader(r, err, headerTransactionAccount, transactionAccountID)
	if err != nil {
		return nil, nil, err
	}
	r.header.Set("Accept", "application/pdf")
	return s.client.stream(ctx, r)
}

// setInt adds a positive integer query parameter.
func setInt(q url.Values, key string, v int) {
	if v > 0 {
		q.Set(key, strconv.Itoa(v))
	}
}

// setString adds a non-empty query parameter.
func setString(q url.Values, key, v string) {
	if v != "" {
		q.Set(key, v)
	}
}
