package client

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	// ErrInvalidOption is wrapped by every error NewClient returns for a bad Option.
	ErrInvalidOption = errors.New("atlassian: invalid option")

	// ErrUntrustedStatusURL is wrapped by GetProvisionStatus (and ProvisionRequestID)
	// when a provisioning statusUrl does not point at the configured API: another
	// scheme, host or port, userinfo in the authority, or a path outside
	// /admin/installations/. The client never sends credentials to such a URL.
	ErrUntrustedStatusURL = errors.New("atlassian: untrusted provisioning status URL")

	// ErrInvalidArgument is wrapped when a required argument of a call is empty
	// or malformed; the message names the argument.
	ErrInvalidArgument = errors.New("atlassian: invalid argument")

	// ErrPaginationLoop is returned by an iterator when the API hands back the
	// cursor it was just given, which would otherwise loop forever.
	ErrPaginationLoop = errors.New("atlassian: pagination cursor did not advance")
)

// maxErrorBody bounds how much of an error answer is read and kept.
const maxErrorBody = 64 << 10

// requestIDHeaders are the headers, in order of preference, that carry the id
// Atlassian support asks for when an answer went wrong.
var requestIDHeaders = []string{"X-Request-Id", "Atl-Traceid", "X-Trace-Id", "X-B3-Traceid"}

// ErrorResponse is the error of every non-2xx answer of an Atlassian API (a 429
// is a *RateLimitError, which unwraps to its *ErrorResponse). Callers use
// errors.As. Its text names the method, the URL (never with credentials), the
// status, the API's message and the request id.
type ErrorResponse struct {
	// Response is the answer; its body has been read and closed, and its
	// Request carries no Authorization header.
	Response *http.Response `json:"-"`
	// StatusCode is the HTTP status of the answer.
	StatusCode int `json:"-"`
	// Message is the API's own explanation, from whichever field the API used
	// (message, detail, title, errorMessages…).
	Message string `json:"message,omitempty"`
	// Code is the API's machine-readable error code, when it gave one.
	Code string `json:"code,omitempty"`
	// RequestID is the request or trace id header of the answer, when present.
	RequestID string `json:"-"`
	// Errors are the individual problems the API listed, e.g. one per field.
	Errors []ErrorDetail `json:"errors,omitempty"`
	// Body is the raw answer body (at most 64 KiB).
	Body []byte `json:"-"`
}

// ErrorDetail is one problem listed in an error answer.
type ErrorDetail struct {
	Code    string `json:"code,omitempty"`
	Field   string `json:"field,omitempty"`
	Title   string `json:"title,omitempty"`
	Message string `json:"message,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// Error describes the failed call without any credential.
func (e *ErrorResponse) Error() string {
	var b strings.Builder
	b.WriteString("atlassian: ")
	if e.Response != nil && e.Response.Request != nil && e.Response.Request.URL != nil {
		u := *e.Response.Request.URL
		u.User = nil
		fmt.Fprintf(&b, "%s %s: ", e.Response.Request.Method, u.Redacted())
	}
	fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	for _, d := range e.Errors {
		if s := d.String(); s != "" && s != e.Message {
			fmt.Fprintf(&b, "; %s", s)
		}
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// String renders one listed problem as "field: message".
func (d ErrorDetail) String() string {
	msg := d.Message
	if msg == "" {
		msg = d.Detail
	}
	if msg == "" {
		msg = d.Title
	}
	if msg == "" {
		msg = d.Code
	}
	if d.Field != "" {
		return d.Field + ": " + msg
	}
	return msg
}

// RateLimitError is the error of a 429 answer that retries did not get past.
// RetryAfter is the wait the API asked for (Retry-After in seconds or as an
// HTTP date), zero when it named none.
type RateLimitError struct {
	ErrorResponse
	RetryAfter time.Duration
}

// Error describes the refused call and the wait the API asked for.
func (e *RateLimitError) Error() string {
	s := e.ErrorResponse.Error()
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// Unwrap lets errors.As find the *ErrorResponse of a 429 too.
func (e *RateLimitError) Unwrap() error { return &e.ErrorResponse }

// errorBody is the union of the error shapes the Atlassian APIs use.
type errorBody struct {
	Message       string          `json:"message"`
	ErrorMessage  string          `json:"errorMessage"`
	Detail        string          `json:"detail"`
	Title         string          `json:"title"`
	Code          json.RawMessage `json:"code"`
	Key           string          `json:"key"`
	ErrorMessages []string        `json:"errorMessages"`
	Errors        json.RawMessage `json:"errors"`
}

// checkResponse turns a non-2xx answer into *ErrorResponse or *RateLimitError,
// reading and closing its body. now is used to convert an HTTP-date Retry-After.
func checkResponse(resp *http.Response, now time.Time) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	e := ErrorResponse{Response: resp, StatusCode: resp.StatusCode, Body: body}
	for _, h := range requestIDHeaders {
		if v := resp.Header.Get(h); v != "" {
			e.RequestID = v
			break
		}
	}
	parseErrorBody(&e, body)
	if resp.StatusCode == http.StatusTooManyRequests {
		d, _ := parseRetryAfter(resp.Header.Get("Retry-After"), now)
		return &RateLimitError{ErrorResponse: e, RetryAfter: d}
	}
	return &e
}

func parseErrorBody(e *ErrorResponse, body []byte) {
	var eb errorBody
	if json.Unmarshal(body, &eb) != nil {
		if s := strings.TrimSpace(string(body)); s != "" && len(s) < 300 && !strings.HasPrefix(s, "<") {
			e.Message = s
		}
		return
	}
	e.Message = cmp.Or(eb.Message, eb.ErrorMessage, eb.Detail, eb.Title, strings.Join(eb.ErrorMessages, "; "))
	e.Code = rawString(eb.Code)
	if e.Code == "" {
		e.Code = eb.Key
	}
	if len(eb.Errors) == 0 {
		return
	}
	var list []ErrorDetail
	if json.Unmarshal(eb.Errors, &list) == nil {
		e.Errors = list
		return
	}
	// Jira-style {"field": "message"}.
	var byField map[string]string
	if json.Unmarshal(eb.Errors, &byField) == nil {
		for _, f := range slices.Sorted(maps.Keys(byField)) {
			e.Errors = append(e.Errors, ErrorDetail{Field: f, Message: byField[f]})
		}
	}
}

// rawString reads a JSON string or number as text.
func rawString(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// maxRetryAfterSeconds is the largest Retry-After, in seconds, a Duration can hold.
const maxRetryAfterSeconds = int64(math.MaxInt64 / time.Second)

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		// Beyond the largest Duration the product would overflow, to a negative wait.
		return time.Duration(min(secs, maxRetryAfterSeconds)) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
