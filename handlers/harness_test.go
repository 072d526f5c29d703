package handlers_test

import (
	"context"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

var subjects = installtest.Subjects

// env is the shared test environment with the helpers only the journeys' tests use.
type env struct{ *installtest.Env }

func newEnv(t *testing.T, opts ...atlassiantest.Option) *env {
	t.Helper()
	return &env{installtest.New(t, opts...)}
}

// consumerInfo reads the default consumer's state from the server.
func (e *env) consumerInfo() *jetstream.ConsumerInfo {
	e.T.Helper()
	c, err := e.JS.Consumer(context.Background(), events.StreamRequests, handlers.DefaultConsumer)
	if err != nil {
		e.T.Fatalf("consumer: %v", err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		e.T.Fatalf("consumer info: %v", err)
	}
	return info
}

// counter counts deliveries per request id, as a middleware.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) middleware(next handlers.Handler) handlers.Handler {
	return func(ctx context.Context, d *handlers.Delivery) error {
		if ev, err := events.FromNATS(d.Msg.Headers(), d.Msg.Data()); err == nil {
			c.mu.Lock()
			if c.n == nil {
				c.n = map[string]int{}
			}
			c.n[ev.ID()]++
			c.mu.Unlock()
		}
		return next(ctx, d)
	}
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.n {
		n += v
	}
	return n
}
