package telemetry_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/internal/natstest"
	"github.com/procurement/atlassian-installer/internal/telemetry"
)

// The shared quota's metrics, and the consumer's gauges reported by its leader alone: summed
// over the instances, the cluster's lag counts once.
func TestQuotaMetrics(t *testing.T) {
	ctx := context.Background()
	_, _, js := natstest.RunServer(t)
	subjects := events.NewSubjects("")
	if err := events.EnsureStreams(ctx, js, subjects, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, events.StreamRequests, jetstream.ConsumerConfig{Durable: "installer", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	tel, err := telemetry.New(ctx, telemetry.Config{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(ctx) })
	var leader atomic.Bool
	if err := tel.ObserveQuota(leader.Load); err != nil {
		t.Fatal(err)
	}
	if err := tel.ObserveConsumer(js, events.StreamRequests, "installer"); err != nil {
		t.Fatal(err)
	}
	tel.QuotaTurn(client.FamilyOrders, client.PriorityCreate, 250*time.Millisecond)
	tel.QuotaTurn(client.FamilyOrders, client.PriorityRead, 0)
	tel.QuotaPause(client.FamilyOrders, time.Second)
	scrape := func() string {
		srv := httptest.NewServer(tel.MetricsHandler())
		defer srv.Close()
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	text := scrape()
	for series, want := range map[string]float64{
		`installer_quota_turns_total{family="orders",priority="create"}`:        1,
		`installer_quota_turns_total{family="orders",priority="read"}`:          1,
		`installer_quota_wait_seconds_count{family="orders",priority="create"}`: 1,
		`installer_quota_wait_seconds_sum{family="orders",priority="create"}`:   0.25,
		`installer_quota_pauses_total{family="orders"}`:                         1,
		`installer_quota_leader`: 0,
	} {
		if v, ok := sample(text, series); !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", series, v, ok, want)
		}
	}
	if _, ok := sample(text, `installer_consumer_pending_messages{consumer="installer"}`); ok {
		t.Error("an instance that does not lead the quota reports the consumer's lag")
	}
	leader.Store(true)
	text = scrape()
	if v, ok := sample(text, `installer_quota_leader`); !ok || v != 1 {
		t.Errorf("installer_quota_leader = %v on the leader", v)
	}
	if _, ok := sample(text, `installer_consumer_pending_messages{consumer="installer"}`); !ok {
		t.Error("the quota's leader does not report the consumer's lag")
	}
}
