package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DuplicateWindow is how long the requests and events streams remember a Nats-Msg-Id. Outcomes
// carry their deterministic event id as Nats-Msg-Id, so an outcome re-published after a crash
// and restart within this window is stored once.
const DuplicateWindow = 10 * time.Minute

// StreamConfigs returns the configurations EnsureStreams creates: file storage, the given
// replicas, and a duplicate window on the streams that take Nats-Msg-Id. Retention is left
// unlimited; operators may set limits on the existing streams, which the installer keeps.
func StreamConfigs(s Subjects, replicas int) []jetstream.StreamConfig {
	return []jetstream.StreamConfig{
		{
			Name:        StreamRequests,
			Description: "Atlassian install requests (CloudEvents)",
			Subjects:    []string{s.Requested()},
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
			Duplicates:  DuplicateWindow,
		},
		{
			Name:        StreamEvents,
			Description: "Atlassian install outcomes (CloudEvents)",
			Subjects:    s.Outcomes(),
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
			Duplicates:  DuplicateWindow,
		},
		{
			Name:        StreamDeadLetter,
			Description: "messages on the request subject that were not CloudEvents, unchanged, reason in header Installer-Error",
			Subjects:    []string{s.DeadLetter()},
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
		},
	}
}

// EnsureStreams creates whichever of the three streams is missing and leaves existing ones as
// they are, whatever their configuration, so operators can tune them. Several instances may call
// it at once: losing the race to create a stream is not an error. A replica count below one or
// a bad prefix returns ErrInvalidOption.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, s Subjects, replicas int) error {
	if replicas < 1 {
		return fmt.Errorf("%w: stream replicas %d, want 1 or more", ErrInvalidOption, replicas)
	}
	if err := s.Validate(); err != nil {
		return err
	}
	for _, cfg := range StreamConfigs(s, replicas) {
		if err := ensureStream(ctx, js, cfg); err != nil {
			return err
		}
	}
	return nil
}

func ensureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) error {
	_, err := js.Stream(ctx, cfg.Name)
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("events: look up stream %s: %w", cfg.Name, err)
	}
	_, err = js.CreateStream(ctx, cfg)
	if err == nil || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return nil
	}
	return fmt.Errorf("events: create stream %s on %v: %w", cfg.Name, cfg.Subjects, err)
}
