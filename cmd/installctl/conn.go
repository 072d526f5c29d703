package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/internal/redact"
)

// conn is an open NATS connection with its JetStream context.
type conn struct {
	nc *nats.Conn
	js jetstream.JetStream
}

func (c *conn) Close() { c.nc.Close() }

// connect opens the connection the global flags describe. The credentials file's path may
// appear in errors; its content never does.
func (a *app) connect() (*conn, error) {
	opts := []nats.Option{nats.Name("installctl")}
	if a.creds != "" {
		opts = append(opts, nats.UserCredentials(a.creds))
	}
	url := a.natsURL
	if url == "" {
		url = a.env("NATS_URL", defaultNATSURL)
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", redact.URL(url), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	return &conn{nc: nc, js: js}, nil
}

// subjects are the installer's subjects under the configured prefix.
func (a *app) subjects() events.Subjects { return events.NewSubjects(a.prefix) }

// stream opens one of the installer's streams, explaining a missing one: the installer
// creates its streams when it starts.
func (c *conn) stream(ctx context.Context, name string) (jetstream.Stream, error) {
	s, err := c.js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("stream %s not found: is the installer running? It creates its streams at start-up: %w", name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", name, err)
	}
	return s, nil
}
