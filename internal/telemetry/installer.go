package telemetry

import (
	"context"
	"fmt"
	"net/http"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
)

// ClientOptions gives the Atlassian client its CLIENT spans, call metrics and retry counts,
// sending through base (see HTTPClient).
func (t *Telemetry) ClientOptions(base *http.Client) []client.Option {
	return []client.Option{client.WithHTTPClient(t.HTTPClient(base)), client.WithOnRetry(t.OnRetry)}
}

// Instrument wraps what an installer is built from: a span and metrics per delivery and per
// step, faulty deliveries, the provisioning-to-order gap, producer spans for published events,
// and consumer lag.
// The journeys, the Atlassian client and the JetStream publisher know nothing of it.
func (t *Telemetry) Instrument(js jetstream.JetStream, api handlers.API, cfg handlers.Config) (jetstream.JetStream, handlers.API, handlers.Config, error) {
	consumer := cfg.Consumer
	if consumer == "" {
		consumer = handlers.DefaultConsumer
	}
	if err := t.ObserveConsumer(js, events.StreamRequests, consumer); err != nil {
		return nil, handlers.API{}, cfg, fmt.Errorf("telemetry: %w", err)
	}
	cfg.Middleware = append([]handlers.Middleware{t.Middleware(consumer)}, cfg.Middleware...)
	cfg.Observe = t.ObserveStep
	cfg.OnFault = t.ObserveFault
	cfg.OnOutcome = t.ObserveOutcome
	return t.JetStream(js, cfg.Subjects), t.API(api), cfg, nil
}

// ObserveFault is the handlers.FaultObserver of the installer (handlers.Config.OnFault):
// installer_delivery_faults_total by result.
func (t *Telemetry) ObserveFault(ctx context.Context, result string) {
	t.m.faults.Add(ctx, 1, metricAttrs("result", result))
}

// ObserveOutcome is the handlers.OutcomeObserver of the installer (handlers.Config.OnOutcome):
// installer_journeys_succeeded_total, installer_journeys_failed_total by code and stage,
// installer_journeys_ordered_total and installer_dead_letters_total.
func (t *Telemetry) ObserveOutcome(ctx context.Context, o handlers.OutcomeInfo) {
	switch o.Kind {
	case handlers.OutcomeProvisioned:
		t.m.succeeded.Add(ctx, 1)
	case handlers.OutcomeOrdered:
		t.m.ordered.Add(ctx, 1)
	case handlers.OutcomeDeadLettered:
		t.m.deadLetters.Add(ctx, 1)
	case handlers.OutcomeFailed:
		code := o.Code
		if code == "" {
			code = "unknown"
		}
		t.m.failed.Add(ctx, 1, metricAttrs("code", code, "stage", o.Stage))
	}
}
