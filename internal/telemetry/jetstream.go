package telemetry

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/procurement/atlassian-installer/events"
)

// lagTimeout bounds the consumer info request of one metrics scrape.
const lagTimeout = 2 * time.Second

// JetStream decorates js so that every message published through PublishMsg (outcome events
// and dead letters) gets a PRODUCER span "publish {subject}"; one that JetStream reports as a
// duplicate (the same event id) is marked messaging.nats.duplicate. (Journeys are counted by
// their outcomes in ObserveOutcome, which the installer tells.) An outcome event without ce-traceparent (its request had none) is given the producer span's
// context; one with it keeps the request's, as the contract has it. Everything else passes
// through unchanged.
func (t *Telemetry) JetStream(js jetstream.JetStream, s events.Subjects) jetstream.JetStream {
	return &tracedJetStream{JetStream: js, t: t, subjects: s}
}

type tracedJetStream struct {
	jetstream.JetStream
	t        *Telemetry
	subjects events.Subjects
}

func (j *tracedJetStream) PublishMsg(ctx context.Context, m *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	attrs := []attribute.KeyValue{
		attribute.String("messaging.system", "nats"),
		attribute.String("messaging.operation.type", "send"),
		attribute.String("messaging.operation.name", "publish"),
		attribute.String("messaging.destination.name", m.Subject),
	}
	if id := m.Header.Get(events.HeaderMsgID); id != "" {
		attrs = append(attrs, attribute.String("messaging.message.id", id), attribute.String("cloudevents.event_id", id))
	}
	if rid := m.Header.Get(events.HeaderPrefix + "subject"); rid != "" {
		attrs = append(attrs, attribute.String(attrRequestID, rid))
	}
	ctx, span := j.t.tracer.Start(ctx, "publish "+m.Subject, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
	defer span.End()

	outcome := j.subjects.IsOutcome(m.Subject)
	if outcome && m.Header.Get(events.HeaderPrefix+events.ExtensionTraceparent) == "" {
		c := propagation.MapCarrier{}
		j.t.prop.Inject(ctx, c)
		if tp := c.Get("traceparent"); tp != "" {
			m.Header.Set(events.HeaderPrefix+events.ExtensionTraceparent, tp)
		}
	}
	ack, err := j.JetStream.PublishMsg(ctx, m, opts...)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		return ack, err
	}
	if ack != nil && ack.Duplicate {
		span.SetAttributes(attribute.Bool("messaging.nats.duplicate", true))
	}
	return ack, nil
}

// ObserveConsumer reports the durable consumer's lag at every metrics collection:
// installer_consumer_pending_messages (NumPending: request messages not yet delivered) and
// installer_consumer_ack_pending_messages (delivered, not settled; waiting journeys included).
// A collection that cannot reach the server reports nothing rather than a stale value, and
// while a shared quota runs (ObserveQuota), only its leader reports.
func (t *Telemetry) ObserveConsumer(js jetstream.JetStream, stream, consumer string) error {
	pending, err := t.meter.Int64ObservableGauge(metricPending,
		metric.WithDescription("Request messages not yet delivered to the installer's consumer (consumer lag)."))
	if err != nil {
		return fmt.Errorf("consumer lag gauge: %w", err)
	}
	ackPending, err := t.meter.Int64ObservableGauge(metricAckPending,
		metric.WithDescription("Request messages delivered and not yet settled (journeys in flight, all instances)."))
	if err != nil {
		return fmt.Errorf("consumer lag gauge: %w", err)
	}
	labels := metric.WithAttributes(attribute.String("consumer", consumer))
	_, err = t.meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		if leader := t.leader.Load(); leader != nil && !(*leader)() {
			return nil // the quota's leader reports the cluster's figures
		}
		ctx, cancel := context.WithTimeout(ctx, lagTimeout)
		defer cancel()
		c, err := js.Consumer(ctx, stream, consumer)
		if err != nil {
			return nil // not created yet, or the server is away: nothing to report
		}
		info, err := c.Info(ctx)
		if err != nil {
			return nil
		}
		o.ObserveInt64(pending, int64(info.NumPending), labels)
		o.ObserveInt64(ackPending, int64(info.NumAckPending), labels)
		return nil
	}, pending, ackPending)
	if err != nil {
		return fmt.Errorf("consumer lag callback: %w", err)
	}
	return nil
}
