package journeysim

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/procurement/atlassian-installer/client"
)

// faultKind is how a call to the simulated Atlassian goes wrong, as the journey sees it
// once the client's own retries are spent.
type faultKind int

const (
	faultRateLimited faultKind = iota // 429 at every attempt: nothing was processed
	faultUnavailable                  // 503 with Retry-After
	faultServerError                  // 500
	faultNotSent                      // no connection: nothing was sent
	faultAnswerLost                   // the connection was cut after the request
	faultHang                         // no answer until the call's deadline
	faultCanceled                     // the caller's context had ended: nothing was sent
	faultKinds       = faultCanceled
)

var faultNames = [...]string{"429", "503", "500", "not sent", "answer lost", "hang", "canceled"}

// fault is a failure drawn for one call; applied says whether a POST's effect happens all
// the same.
type fault struct {
	kind    faultKind
	applied bool
	wait    time.Duration // Retry-After
}

// mayBeProcessed reports whether the API may have acted on the call.
func (f *fault) mayBeProcessed() bool {
	switch f.kind {
	case faultRateLimited, faultNotSent, faultCanceled:
		return false
	}
	return true
}

// draw decides whether the call fails, and how.
func (a *Atlassian) draw(ctx context.Context, what string, post bool) *fault {
	if ctx.Err() != nil {
		return &fault{kind: faultCanceled}
	}
	if !a.chance(a.faults.Call) {
		return nil
	}
	f := &fault{kind: faultKind(a.rnd.IntN(int(faultKinds)))}
	switch f.kind {
	case faultRateLimited, faultUnavailable:
		f.wait = time.Duration(a.rnd.IntN(31)) * time.Second
	}
	if post {
		switch f.kind {
		case faultAnswerLost:
			f.applied = true
		case faultUnavailable, faultServerError, faultHang:
			f.applied = a.rnd.IntN(2) == 0
		}
	}
	a.trace.Add(a.clock.Now(), "atlassian: %s fails: %s (applied: %t)", what, faultNames[f.kind], f.applied)
	return f
}

// fail answers a call with its fault, as the real client reports it: the client itself
// makes the error from the answer (real calls it with a transport that gives the answer).
func (a *Atlassian) fail(ctx context.Context, f *fault, real func(context.Context, *client.Client) error) error {
	m := a.errs
	switch f.kind {
	case faultRateLimited:
		m.answer(http.StatusTooManyRequests, f.wait)
	case faultUnavailable:
		m.answer(http.StatusServiceUnavailable, f.wait)
	case faultServerError:
		m.answer(http.StatusInternalServerError, 0)
	case faultNotSent:
		m.cut(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")})
	case faultAnswerLost:
		m.cut(io.ErrUnexpectedEOF)
	case faultHang:
		deadline, ok := ctx.Deadline()
		if !ok || deadline.Before(a.clock.Now()) {
			deadline = a.clock.Now().Add(client.DefaultTimeout)
		}
		a.clock.AdvanceTo(deadline)
		m.cut(context.DeadlineExceeded)
		ctx = context.WithoutCancel(ctx) // the request was sent before the deadline
	}
	return real(ctx, m.client)
}

// refuse answers a call with an error status.
func (a *Atlassian) refuse(ctx context.Context, status int, real func(context.Context, *client.Client) error) error {
	if ctx.Err() != nil {
		return real(ctx, a.errs.client)
	}
	a.errs.answer(status, 0)
	return real(ctx, a.errs.client)
}

// errorMint is a real client over a transport that gives the answer set last: its errors
// are the real client's, Unprocessed and Retry-After included.
type errorMint struct {
	client *client.Client
	rt     *cannedTransport
}

func newErrorMint() *errorMint {
	rt := &cannedTransport{}
	c, err := client.NewClient(client.WithHTTPClient(&http.Client{Transport: rt}),
		client.WithRetry(1, time.Second), client.WithLimiter(client.NewLocalLimiter(nil)))
	if err != nil {
		panic(err)
	}
	return &errorMint{client: c, rt: rt}
}

func (m *errorMint) answer(status int, retryAfter time.Duration) {
	m.rt.status, m.rt.retryAfter, m.rt.err = status, retryAfter, nil
}

func (m *errorMint) cut(err error) { m.rt.err = err }

type cannedTransport struct {
	status     int
	retryAfter time.Duration
	err        error
}

func (t *cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	if t.err != nil {
		return nil, t.err
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if t.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int(t.retryAfter/time.Second)))
	}
	body := `{"message":"` + http.StatusText(t.status) + ` (simulated)"}`
	return &http.Response{StatusCode: t.status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}
