package deploy

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkFileStreamSync measures what sync_interval: always costs: publishes to an R1 file
// stream with fsync on every write against the server's default (fsync every two minutes), one
// publish at a time as the installer's journey steps do, and pipelined with up to 256 in flight
// as a busy producer would.
//
//	go test ./deploy -run '^$' -bench FileStreamSync -benchtime 5000x
func BenchmarkFileStreamSync(b *testing.B) {
	for _, always := range []bool{false, true} {
		for _, inFlight := range []int{1, 256} {
			name := fmt.Sprintf("sync_always=%v/in_flight=%d", always, inFlight)
			b.Run(name, func(b *testing.B) { benchPublish(b, always, inFlight) })
		}
	}
}

func benchPublish(b *testing.B, syncAlways bool, inFlight int) {
	s, err := server.NewServer(&server.Options{
		ServerName: "sync-bench",
		Host:       "127.0.0.1",
		Port:       -1,
		JetStream:  true,
		StoreDir:   b.TempDir(),
		SyncAlways: syncAlways,
		NoLog:      true,
		NoSigs:     true,
	})
	if err != nil {
		b.Fatal(err)
	}
	go s.Start()
	defer func() { s.Shutdown(); s.WaitForShutdown() }()
	if !s.ReadyForConnections(10 * time.Second) {
		b.Fatal("server not ready")
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(inFlight))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "BENCH", Subjects: []string{"bench.>"}, Storage: jetstream.FileStorage, Replicas: 1,
	}); err != nil {
		b.Fatal(err)
	}
	// A request event's size: a few hundred bytes of JSON.
	payload := make([]byte, 512)

	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	start := time.Now()
	if inFlight == 1 {
		for i := range b.N {
			if _, err := js.Publish(ctx, fmt.Sprintf("bench.%d", i%16), payload); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		for i := range b.N {
			if _, err := js.PublishAsync(fmt.Sprintf("bench.%d", i%16), payload); err != nil {
				b.Fatal(err)
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(time.Minute):
			b.Fatal("publish acks not received within a minute")
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
