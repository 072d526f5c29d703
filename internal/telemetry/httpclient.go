package telemetry

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	noopmetric "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/procurement/atlassian-installer/client"
)

// HTTPClient returns a copy of base (http.DefaultClient's settings when nil) whose transport
// makes a CLIENT span "{METHOD} {route template}" for every request, propagates the trace
// context in the traceparent header, and counts requests by endpoint and status. Give it to
// the Atlassian client with client.WithHTTPClient. No header, and so no credential, is recorded.
func (t *Telemetry) HTTPClient(base *http.Client) *http.Client {
	var c http.Client
	if base != nil {
		c = *base
	}
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	counted := &countingTransport{next: next, m: t.m, clock: t.clock.Now}
	c.Transport = otelhttp.NewTransport(counted,
		otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithPropagators(t.prop),
		// The request metrics below carry the route template; otelhttp's own would not.
		otelhttp.WithMeterProvider(noopmetric.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			return r.Method + " " + Route(r.URL.EscapedPath())
		}),
	)
	return &c
}

// countingTransport records every attempt the client sends, below its retries.
type countingTransport struct {
	next  http.RoundTripper
	m     *instruments
	clock func() time.Time
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	route := Route(r.URL.EscapedPath())
	if s := trace.SpanFromContext(r.Context()); s.IsRecording() {
		s.SetAttributes(attribute.String("url.template", route))
	}
	start := c.clock()
	resp, err := c.next.RoundTrip(r)
	ctx := r.Context()
	where := metric.WithAttributes(attribute.String("endpoint", route), attribute.String("method", r.Method))
	c.m.callTime.Record(ctx, c.clock().Sub(start).Seconds(), where)
	status := "error"
	if err == nil {
		status = strconv.Itoa(resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests {
			c.m.rateLimited.Add(ctx, 1, metric.WithAttributes(attribute.String("endpoint", route), attribute.String("family", string(Family(route)))))
		}
	}
	c.m.calls.Add(ctx, 1, metric.WithAttributes(
		attribute.String("endpoint", route), attribute.String("method", r.Method), attribute.String("status", status)))
	return resp, err
}

// OnRetry counts the attempts the Atlassian client repeats; give it to client.WithOnRetry.
// reason is rate_limited (429), http_{status} for another answer, or transport.
func (t *Telemetry) OnRetry(e client.RetryEvent) {
	route := RouteOther
	if u, err := url.Parse(e.URL); err == nil {
		route = Route(u.EscapedPath())
	}
	t.m.retries.Add(context.Background(), 1, metric.WithAttributes(attribute.String("endpoint", route), attribute.String("reason", retryReason(e.Err))))
}

func retryReason(err error) string {
	var rl *client.RateLimitError
	var er *client.ErrorResponse
	switch {
	case errors.As(err, &rl):
		return "rate_limited"
	case errors.As(err, &er):
		return "http_" + strconv.Itoa(er.StatusCode)
	}
	return "transport"
}
