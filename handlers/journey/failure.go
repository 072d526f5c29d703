package journey

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
)

// Failure ends a journey: where it stopped (a contract stage), why (a contract code) and
// what to tell the requester. Steps build it with fail or apiFailure and adjust it with its
// methods; outcomeFailed alone turns it into the failed event. cause, when set, is the
// error behind it, for the log only.
type Failure struct {
	stage, code, message string
	retryable            bool
	httpStatus           int // the Atlassian API's answer behind it, 0 when none
	cause                error
	// invalid is, for a request that did not validate, the error naming its wrong fields,
	// and orgID the request's organization when it could be read.
	invalid error
	orgID   string
}

func (f *Failure) Error() string {
	return fmt.Sprintf("%s/%s: %s", f.stage, f.code, f.message)
}

// fail builds a failure that carries no HTTP answer.
func fail(stage, code string, retryable bool, format string, args ...any) *Failure {
	return &Failure{stage: stage, code: code, retryable: retryable, message: fmt.Sprintf(format, args...)}
}

// invalidRequest builds the failure of a request that did not validate: err is the error of
// events.RequestFromEvent or of the check that its outcomes can be carried; orgID is the
// request's, when it could be read.
func invalidRequest(orgID string, err error) *Failure {
	return &Failure{stage: events.StageValidation, code: events.CodeInvalidRequest, message: err.Error(), invalid: err, orgID: orgID}
}

// withStatus records the HTTP status of the API's answer behind f.
func (f *Failure) withStatus(status int) *Failure {
	f.httpStatus = status
	return f
}

// explain adds to f's message what else the requester should know.
func (f *Failure) explain(more string) *Failure {
	f.message += more
	return f
}

// apiFailure maps an error of an Atlassian call to the contract's codes. A 429 that the
// client's own retries did not get past is rate_limited; 5xx and transport errors are
// api_error and retryable, since a new request may well succeed. The message says what
// the API answered (see describe); a look-up's failure says that nothing was provisioned
// or ordered, since look-ups come first.
func apiFailure(stage string, err error) *Failure {
	msg := describe(err)
	if stage == events.StageLookup {
		msg += "; nothing was provisioned or ordered"
	}
	f := &Failure{stage: stage, message: msg, code: events.CodeAPIError, retryable: transient(err), cause: err}
	var rl *client.RateLimitError
	var er *client.ErrorResponse
	switch {
	case errors.As(err, &rl):
		f.code, f.httpStatus = events.CodeRateLimited, http.StatusTooManyRequests
	case errors.As(err, &er):
		f.httpStatus = er.StatusCode
		switch er.StatusCode {
		case http.StatusUnauthorized:
			f.code = events.CodeUnauthorized
		case http.StatusForbidden:
			f.code = events.CodeForbidden
		case http.StatusNotFound:
			f.code = events.CodeNotFound
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

// apiMessage is the API's own explanation of a refusal, or else describe's.
func apiMessage(err error) string {
	var er *client.ErrorResponse
	if errors.As(err, &er) && er.Message != "" {
		return clip(er.Message)
	}
	return describe(err)
}

// maxAPIText bounds what a failed event repeats of an error answer: its message, the
// problems it lists. The whole answer is in the log.
const maxAPIText = 1024

// describe says what became of an Atlassian call, for a failed event's message: what the
// API answered, or that no answer came. A failed event goes to every subscriber, so it
// never carries the call's URL, the API's address or a Go error chain; those are in the
// installer's log, with the journey's request id.
func describe(err error) string {
	var rl *client.RateLimitError
	var er *client.ErrorResponse
	switch {
	case errors.As(err, &rl):
		s := "the API kept answering 429 Too Many Requests"
		if rl.RetryAfter > 0 {
			s += fmt.Sprintf(" (it asked to wait %s)", rl.RetryAfter)
		}
		return s + apiSaid(&rl.ErrorResponse)
	case errors.As(err, &er):
		return fmt.Sprintf("the API answered %d %s", er.StatusCode, http.StatusText(er.StatusCode)) + apiSaid(er)
	case errors.Is(err, client.ErrUntrustedStatusURL):
		return "the provisioning statusUrl does not point at the configured Atlassian API, so it was not called"
	case errors.Is(err, client.ErrInvalidArgument):
		return "the installer refused to send the request as it was: " + localReason(err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "no answer from the API in time"
	}
	return "no answer from the API: the connection failed or was cut"
}

// apiSaid is what an error answer explained, when it explained anything, and the id that
// Atlassian support asks for.
func apiSaid(er *client.ErrorResponse) string {
	var b strings.Builder
	if er.Message != "" {
		b.WriteString(": " + er.Message)
	}
	for _, d := range er.Errors {
		if s := d.String(); s != "" && s != er.Message {
			b.WriteString("; " + s)
		}
	}
	s := clip(b.String())
	if er.RequestID != "" {
		s += " (request id " + clip(er.RequestID) + ")"
	}
	return s
}

// localReason is the part of a client's local refusal after its sentinel: the client
// names the argument or header there, never a URL.
func localReason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, client.ErrInvalidArgument.Error()+": "); i >= 0 {
		msg = msg[i+len(client.ErrInvalidArgument.Error())+2:]
	}
	return clip(msg)
}

// clip cuts s to maxAPIText bytes on a character boundary.
func clip(s string) string {
	if len(s) <= maxAPIText {
		return s
	}
	cut := maxAPIText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
