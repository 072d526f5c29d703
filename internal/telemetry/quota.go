package telemetry

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/procurement/atlassian-installer/client"
)

// QuotaTurn counts a turn of the shared quota and the time its call waited for it
// (installer_quota_turns_total, installer_quota_wait_seconds).
func (t *Telemetry) QuotaTurn(f client.Family, p client.Priority, waited time.Duration) {
	attrs := metricAttrs("family", string(f), "priority", p.String())
	t.m.quotaTurns.Add(context.Background(), 1, attrs)
	t.m.quotaWait.Record(context.Background(), waited.Seconds(), attrs)
}

// QuotaPause counts a 429 that paused a family on every instance (installer_quota_pauses_total).
func (t *Telemetry) QuotaPause(f client.Family, _ time.Duration) {
	t.m.quotaPauses.Add(context.Background(), 1, metricAttrs("family", string(f)))
}

// ObserveQuota reports installer_quota_leader (1 while leader says this instance hands out the
// shared quota's turns), and from then on the consumer's gauges only while it does: they are
// the cluster's figures, which a sum over instances would otherwise multiply.
func (t *Telemetry) ObserveQuota(leader func() bool) error {
	t.leader.Store(&leader)
	g, err := t.meter.Int64ObservableGauge(metricQuotaLeader,
		metric.WithDescription("1 on the instance that hands out the turns of the Atlassian API quota shared by every instance, 0 on the others."))
	if err != nil {
		return fmt.Errorf("quota leader gauge: %w", err)
	}
	_, err = t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		v := int64(0)
		if leader() {
			v = 1
		}
		o.ObserveInt64(g, v)
		return nil
	}, g)
	if err != nil {
		return fmt.Errorf("quota leader gauge: %w", err)
	}
	return nil
}
