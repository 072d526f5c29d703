package natstest_test

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/internal/natstest"
)

func TestRunServer(t *testing.T) {
	s, nc, js := natstest.RunServer(t)
	if !s.JetStreamEnabled() {
		t.Fatal("JetStream is not enabled")
	}
	if !nc.IsConnected() {
		t.Fatal("client is not connected")
	}
	ctx := t.Context()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}}); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	ack, err := js.Publish(ctx, "t.x", []byte("hello"))
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if ack.Stream != "T" || ack.Sequence != 1 {
		t.Fatalf("ack = %+v, want stream T seq 1", ack)
	}
}

func TestServerWithStoreKeepsData(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s1 := natstest.StartServerWithStore(t, dir)
	_, js1 := natstest.Connect(t, s1)
	if _, err := js1.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}}); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	if _, err := js1.Publish(ctx, "t.x", []byte("kept")); err != nil {
		t.Fatalf("publish: %v", err)
	}
	s1.Shutdown()
	s1.WaitForShutdown()

	s2 := natstest.StartServerWithStore(t, dir)
	_, js2 := natstest.Connect(t, s2)
	st, err := js2.Stream(ctx, "T")
	if err != nil {
		t.Fatalf("stream after restart: %v", err)
	}
	if n := st.CachedInfo().State.Msgs; n != 1 {
		t.Fatalf("messages after restart = %d, want 1", n)
	}
}
