package telemetry

import (
	"errors"

	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// Metric names, as OpenTelemetry instruments; /metrics shows them with dots as underscores and
// the Prometheus suffixes (_total for counters, _seconds for durations):
//
//	installer_journeys_started_total                          first deliveries of request messages
//	installer_journeys_succeeded_total                        provisioned events published
//	installer_journeys_failed_total{code,stage}               failed events published, by contract code
//	installer_journeys_ordered_total                          ordered events published
//	installer_journeys_in_flight                              request messages held by this process
//	installer_step_duration_seconds{step,result}              journey steps (result ok or error)
//	installer_provision_order_gap_seconds                     provisioning answer to order sent
//	installer_redeliveries_total                              deliveries with a delivery count above 1
//	installer_dead_letters_total                              messages copied to the dead-letter subject
//	installer_delivery_faults_total{result}                   deliveries that failed other than by an outage
//	installer_consumer_pending_messages{consumer}             request messages not yet delivered (lag)
//	installer_consumer_ack_pending_messages{consumer}         delivered, not yet settled
//	atlassian_client_requests_total{endpoint,method,status}   Atlassian calls (each attempt)
//	atlassian_client_request_duration_seconds{endpoint,method} their latency
//	atlassian_client_retries_total{endpoint,reason}           attempts the client repeats
//	atlassian_client_rate_limited_total{endpoint,family}      429 answers
//	installer_quota_turns_total{family,priority}              turns of the shared API quota taken
//	installer_quota_wait_seconds{family,priority}             time a call waited for its turn
//	installer_quota_pauses_total{family}                      429s with Retry-After that paused a family
//	installer_quota_leader                                    1 on the instance handing out the turns
//
// The consumer's gauges count the whole cluster's messages: while a shared quota runs, only
// its leader reports them, so that a sum over instances counts them once.
//
// endpoint is the route template ("/commerce/api/v2/orders/{orderId}"), never a raw id.
const (
	metricStarted     = "installer.journeys.started"
	metricSucceeded   = "installer.journeys.succeeded"
	metricFailed      = "installer.journeys.failed"
	metricOrdered     = "installer.journeys.ordered"
	metricInFlight    = "installer.journeys.in_flight"
	metricStep        = "installer.step.duration"
	metricGap         = "installer.provision_order_gap"
	metricRedelivered = "installer.redeliveries"
	metricDeadLetters = "installer.dead_letters"
	metricFaults      = "installer.delivery_faults"
	metricPending     = "installer.consumer.pending_messages"
	metricAckPending  = "installer.consumer.ack_pending_messages"
	metricCalls       = "atlassian.client.requests"
	metricCallTime    = "atlassian.client.request.duration"
	metricRetries     = "atlassian.client.retries"
	metricRateLimited = "atlassian.client.rate_limited"
	metricQuotaTurns  = "installer.quota.turns"
	metricQuotaWait   = "installer.quota.wait"
	metricQuotaPauses = "installer.quota.pauses"
	metricQuotaLeader = "installer.quota.leader"
)

// instruments are the installer's metrics.
type instruments struct {
	started, succeeded, failed, ordered metric.Int64Counter
	inFlight                            metric.Int64UpDownCounter
	step, gap                           metric.Float64Histogram
	redelivered, deadLetters, faults    metric.Int64Counter
	calls, retries, rateLimited         metric.Int64Counter
	callTime                            metric.Float64Histogram
	quotaTurns, quotaPauses             metric.Int64Counter
	quotaWait                           metric.Float64Histogram
}

func newInstruments(m metric.Meter) (*instruments, error) {
	var i instruments
	var errs []error
	counter := func(name, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	seconds := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithDescription(desc), metric.WithUnit("s"))
		errs = append(errs, err)
		return h
	}
	i.started = counter(metricStarted, "Request messages delivered for the first time.")
	i.succeeded = counter(metricSucceeded, "Journeys that ended provisioned (provisioned events published).")
	i.failed = counter(metricFailed, "Journeys that ended failed, by the failed event's code and stage.")
	i.ordered = counter(metricOrdered, "Orders accepted (ordered events published).")
	i.redelivered = counter(metricRedelivered, "Deliveries of a request message after its first.")
	i.deadLetters = counter(metricDeadLetters, "Messages copied to the dead-letter subject.")
	i.faults = counter(metricFaults, "Deliveries that failed other than by a NATS outage or the drain (a panic, an outcome that cannot be published), by what became of them: retried, internal_error, dead_lettered.")
	i.calls = counter(metricCalls, "Atlassian API requests sent (every attempt), by route template and HTTP status.")
	i.retries = counter(metricRetries, "Atlassian API attempts the client repeats, by route template and reason.")
	i.rateLimited = counter(metricRateLimited, "Atlassian API answers 429 Too Many Requests, by route template.")
	i.quotaTurns = counter(metricQuotaTurns, "Turns of the Atlassian API quota shared by every instance, by family and priority (create or read).")
	i.quotaPauses = counter(metricQuotaPauses, "429 answers with Retry-After that paused a family of an organization on every instance.")
	i.quotaWait = seconds(metricQuotaWait, "Time an Atlassian call waited for its turn of the shared quota, by family and priority.")
	i.step = seconds(metricStep, "Duration of a journey step, once it holds its concurrency slot.")
	i.gap = seconds(metricGap, "Time from the provisioning answer to sending the order.")
	i.callTime = seconds(metricCallTime, "Duration of an Atlassian API request, by route template.")
	var err error
	i.inFlight, err = m.Int64UpDownCounter(metricInFlight, metric.WithDescription("Request messages this process holds: journeys running or waiting between polls."))
	errs = append(errs, err)
	return &i, errors.Join(errs...)
}

// histogramViews set bucket boundaries that fit what is measured: the gap between the
// provisioning answer and the order is milliseconds; steps and calls reach minutes.
func histogramViews() []sdkmetric.View {
	fine := []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	coarse := []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
	view := func(name string, bounds []float64) sdkmetric.View {
		return sdkmetric.NewView(sdkmetric.Instrument{Name: name},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: bounds}})
	}
	return []sdkmetric.View{view(metricGap, fine), view(metricStep, coarse), view(metricCallTime, coarse), view(metricQuotaWait, coarse)}
}
