package telemetry

import (
	"context"
	"errors"
	"strings"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
)

// Attributes of the installer's own spans, beside the messaging and CloudEvents conventions.
const (
	attrRequestID     = "installer.request_id"
	attrStep          = "installer.step"
	attrDeliveryCount = "messaging.nats.message.delivery_count"
)

// Middleware traces and counts every delivery of a request message. The delivery's CONSUMER
// span "process {subject}" is a child of the request's trace context (ce-traceparent), so a
// request and all the installer does for it form one trace; its context carries the request id
// for the log handler. It also counts first deliveries (journeys started), redeliveries, and
// the messages held (journeys in flight). consumer names the durable consumer in the span.
func (t *Telemetry) Middleware(consumer string) handlers.Middleware {
	return func(next handlers.Handler) handlers.Handler {
		return func(ctx context.Context, d *handlers.Delivery) error {
			ev, _ := d.Event()
			delivered := uint64(1)
			if md := d.Metadata(); md != nil {
				delivered = md.NumDelivered
			}
			subject := d.Msg.Subject()
			attrs := []attribute.KeyValue{
				attribute.String("messaging.system", "nats"),
				attribute.String("messaging.operation.type", "process"),
				attribute.String("messaging.operation.name", "process"),
				attribute.String("messaging.destination.name", subject),
				attribute.String("messaging.consumer.group.name", consumer),
				attribute.Int64(attrDeliveryCount, int64(delivered)),
			}
			request := ev != nil && ev.Type() == subject
			ctx = t.prop.Extract(ctx, traceCarrier(ev, d.Msg.Headers()))
			if ev != nil {
				attrs = append(attrs,
					attribute.String("messaging.message.id", ev.ID()),
					attribute.String("cloudevents.event_id", ev.ID()),
					attribute.String("cloudevents.event_type", ev.Type()),
					attribute.String("cloudevents.event_source", ev.Source()),
				)
				if request {
					attrs = append(attrs, attribute.String(attrRequestID, ev.ID()))
					ctx = WithRequestID(ctx, ev.ID())
				}
			}
			sctx, span := t.tracer.Start(ctx, "process "+subject, trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...))
			defer span.End()

			if request {
				switch {
				case delivered == 1:
					t.m.started.Add(sctx, 1)
				default:
					t.m.redelivered.Add(sctx, 1)
				}
				t.m.inFlight.Add(sctx, 1)
				// Held until settled, waiting journeys included, which outlive the handler.
				d.OnSettled(func() { t.m.inFlight.Add(context.Background(), -1) })
			}
			// The handler sees the span's identity, not the span: a journey waiting between polls
			// keeps its context, and with it no ended span and its attributes.
			err := next(trace.ContextWithSpanContext(ctx, span.SpanContext()), d)
			switch {
			case err == nil:
			case errors.Is(err, handlers.ErrDraining):
				span.AddEvent("handed back: draining")
			default:
				span.RecordError(err)
				span.SetStatus(codes.Error, err.Error())
			}
			return err
		}
	}
}

// traceCarrier reads the distributed-tracing extension of a CloudEvent, whichever content mode
// carried it; for a message that is no CloudEvent, a W3C traceparent header, so that even a
// dead letter stays in its producer's trace.
func traceCarrier(ev *cloudevents.Event, h nats.Header) propagation.MapCarrier {
	c := propagation.MapCarrier{}
	if ev != nil {
		if tp := events.Traceparent(ev); tp != "" {
			c["traceparent"] = tp
		}
		if ts := events.Tracestate(ev); ts != "" {
			c["tracestate"] = ts
		}
		return c
	}
	for k, vs := range h {
		if len(vs) > 0 && (strings.EqualFold(k, "traceparent") || strings.EqualFold(k, "tracestate")) {
			c[strings.ToLower(k)] = vs[0]
		}
	}
	return c
}

// ObserveStep is the handlers.StepObserver of the installer (handlers.Config.Observe): a child
// span "step {name}" of the delivery's span, and installer_step_duration_seconds by step and
// result.
func (t *Telemetry) ObserveStep(ctx context.Context, s handlers.StepInfo) (context.Context, func(error)) {
	start := t.clock.Now()
	ctx, span := t.tracer.Start(ctx, "step "+s.Name, trace.WithAttributes(
		attribute.String(attrStep, s.Name), attribute.String(attrRequestID, s.RequestID)))
	return ctx, func(err error) {
		result := "ok"
		if err != nil {
			result = "error"
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		t.m.step.Record(ctx, t.clock.Now().Sub(start).Seconds(), metricAttrs("step", s.Name, "result", result))
		span.End()
	}
}

// metricAttrs builds a measurement option from key, value pairs.
func metricAttrs(kv ...string) metric.MeasurementOption {
	attrs := make([]attribute.KeyValue, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		attrs = append(attrs, attribute.String(kv[i], kv[i+1]))
	}
	return metric.WithAttributes(attrs...)
}
