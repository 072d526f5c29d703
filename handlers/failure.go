package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
)

// failure ends a journey: it becomes the data of its failed event.
type failure struct {
	ev events.Failed
}

func (f *failure) Error() string {
	return fmt.Sprintf("%s/%s: %s", f.ev.Stage, f.ev.Code, f.ev.Message)
}

// fail builds a failure that carries no HTTP answer.
func fail(stage, code string, retryable bool, format string, args ...any) *failure {
	return &failure{ev: events.Failed{Stage: stage, Code: code, Retryable: retryable, Message: fmt.Sprintf(format, args...)}}
}

// retryLater asks the journey to wait and try the same step again: the step had no
// effect, or repeating it is safe (the order, idempotent by orderId).
type retryLater struct {
	after time.Duration
	err   error
}

func (r *retryLater) Error() string { return fmt.Sprintf("retry in %s: %v", r.after, r.err) }
func (r *retryLater) Unwrap() error { return r.err }

// apiFailure maps an error of an Atlassian call to the contract's codes. A 429 that the
// client's own retries did not get past is rate_limited; 5xx and transport errors are
// api_error and retryable, since a new request may well succeed.
func apiFailure(stage string, err error) *failure {
	f := &failure{ev: events.Failed{Stage: stage, Message: err.Error(), Code: events.CodeAPIError, Retryable: transient(err)}}
	var rl *client.RateLimitError
	var er *client.ErrorResponse
	switch {
	case errors.As(err, &rl):
		f.ev.Code, f.ev.HTTPStatus = events.CodeRateLimited, http.StatusTooManyRequests
	case errors.As(err, &er):
		f.ev.HTTPStatus = er.StatusCode
		switch er.StatusCode {
		case http.StatusUnauthorized:
			f.ev.Code = events.CodeUnauthorized
		case http.StatusForbidden:
			f.ev.Code = events.CodeForbidden
		case http.StatusNotFound:
			f.ev.Code = events.CodeNotFound
		}
	}
	return f
}

// transient reports whether an Atlassian call failed in a way that may pass by itself: a 429
// or 5xx after the client's retries, or a transport error (nothing says the API refused).
// Callers check their own context first: its end is not transient, the journey stops.
func transient(err error) bool {
	var rl *client.RateLimitError
	if errors.As(err, &rl) {
		return true
	}
	var er *client.ErrorResponse
	if errors.As(err, &er) {
		return er.StatusCode >= 500 || er.StatusCode == http.StatusRequestTimeout
	}
	return !errors.Is(err, client.ErrUntrustedStatusURL) && !errors.Is(err, client.ErrInvalidArgument)
}

// retryAfter is the wait the API asked for when it refused a call with 429 or 503
// (Retry-After), zero when it named none: a step tried again later waits at least that.
func retryAfter(err error) time.Duration {
	var rl *client.RateLimitError
	if errors.As(err, &rl) {
		return rl.RetryAfter
	}
	var er *client.ErrorResponse
	if errors.As(err, &er) && er.StatusCode == http.StatusServiceUnavailable && er.Response != nil {
		if s, err := strconv.Atoi(er.Response.Header.Get("Retry-After")); err == nil && s > 0 {
			return time.Duration(s) * time.Second
		}
	}
	return 0
}

// statusOf is the HTTP status of a failed call, 0 when there was no answer.
func statusOf(err error) int {
	var er *client.ErrorResponse
	if errors.As(err, &er) {
		return er.StatusCode
	}
	return 0
}

// apiMessage is the API's own explanation of a refusal, or the error text.
func apiMessage(err error) string {
	var er *client.ErrorResponse
	if errors.As(err, &er) && er.Message != "" {
		return er.Message
	}
	return err.Error()
}
