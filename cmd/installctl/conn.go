package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/internal/natsconn"
	"github.com/procurement/atlassian-installer/internal/redact"
)

// conn is an open NATS connection with its JetStream context.
type conn struct {
	nc *nats.Conn
	js jetstream.JetStream
}

func (c *conn) Close() { c.nc.Close() }

// connect opens the connection the global flags describe. Paths of files may appear in
// errors; their content never does, nor a context's password or token.
func (a *app) connect() (*conn, error) {
	s, err := a.natsSettings()
	if err != nil {
		return nil, err
	}
	opts, err := s.Options()
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(s.URL, append(opts, nats.Name("installctl"))...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", redact.URL(s.URL), err)
	}
	js, err := s.JetStream(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	return &conn{nc: nc, js: js}, nil
}

// natsFlags name the flag of each connection setting, for errors.
var natsFlags = map[string]string{
	"creds": "--creds", "nkey": "--nkey", "ca": "--tlsca", "cert": "--tlscert", "key": "--tlskey",
	"inbox_prefix": "--inbox-prefix",
}

// natsSettings are the flags' settings over the nats CLI context: the one --context names, or
// the one selected with `nats context select`; without either, the flags alone, and
// defaultNATSURL when no URL is given.
func (a *app) natsSettings() (natsconn.Settings, error) {
	explicit := a.nats
	explicit.URL = a.natsURL
	if explicit.URL == "" {
		explicit.URL = a.env("NATS_URL", "")
	}
	if _, err := explicit.Options(); err != nil {
		var fe *natsconn.Error
		if errors.As(err, &fe) && natsFlags[fe.Field] != "" {
			return natsconn.Settings{}, fmt.Errorf("%s: %w", natsFlags[fe.Field], fe.Err)
		}
		return natsconn.Settings{}, err
	}
	ctx, path, err := natsconn.LoadContext(a.natsContext, a.getenv)
	if err != nil {
		return natsconn.Settings{}, fmt.Errorf("--context: %w", err)
	}
	s := explicit.Over(ctx)
	if s.URL == "" {
		s.URL = defaultNATSURL
	}
	// The flags' settings are sound, so what fails comes from the context.
	if _, err := s.Options(); err != nil {
		return natsconn.Settings{}, fmt.Errorf("--context: %s: %w", path, err)
	}
	return s, nil
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
