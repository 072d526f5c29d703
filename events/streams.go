package events

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DuplicateWindow is how long the requests and events streams remember a Nats-Msg-Id. Outcomes
// carry their deterministic event id as Nats-Msg-Id, so an outcome re-published after a crash
// and restart within this window is stored once.
const DuplicateWindow = 10 * time.Minute

// Retention is how long the outcome and dead-letter streams keep a message; zero keeps it
// forever. Requests need none: INSTALL_REQUESTS is a work queue, and a request is deleted once
// the installer acknowledges it.
type Retention struct {
	Events     time.Duration
	DeadLetter time.Duration
}

// DefaultRetention keeps outcomes 30 days, for subscribers to catch up and operators to look
// back, and dead letters 90 days, for a person to mend them.
var DefaultRetention = Retention{Events: 30 * 24 * time.Hour, DeadLetter: 90 * 24 * time.Hour}

// StreamConfigs returns the configurations EnsureStreams creates: file storage, the given
// replicas, a duplicate window on the streams that take Nats-Msg-Id (no longer than the
// stream keeps its messages), work-queue retention on the requests and the given max ages on
// the others.
func StreamConfigs(s Subjects, replicas int, r Retention) []jetstream.StreamConfig {
	window := func(maxAge time.Duration) time.Duration {
		if maxAge > 0 {
			return min(DuplicateWindow, maxAge)
		}
		return DuplicateWindow
	}
	return []jetstream.StreamConfig{
		{
			Name:        StreamRequests,
			Description: "Atlassian install requests (CloudEvents)",
			Subjects:    []string{s.Requested()},
			Retention:   jetstream.WorkQueuePolicy,
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
			MaxAge:      r.Events,
			Duplicates:  window(r.Events),
		},
		{
			Name:        StreamDeadLetter,
			Description: "messages on the request subject that were not CloudEvents, unchanged, reason in header Installer-Error",
			Subjects:    []string{s.DeadLetter()},
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
			MaxAge:      r.DeadLetter,
		},
	}
}

// MissingLimits says what an existing stream keeps forever that the installer would have
// limited: acknowledged requests on a requests stream that is not a work queue, any message on
// a stream with no max age, message or byte limit. It names the missing limit.
func MissingLimits(cfg jetstream.StreamConfig) []string {
	unlimited := cfg.MaxAge == 0 && cfg.MaxMsgs <= 0 && cfg.MaxBytes <= 0 && cfg.MaxMsgsPerSubject <= 0
	switch {
	case cfg.Name == StreamRequests && cfg.Retention == jetstream.LimitsPolicy && unlimited:
		return []string{"retention: limits with no max_age, max_msgs or max_bytes, so acknowledged requests are never deleted (a new stream is a work queue)"}
	case cfg.Name != StreamRequests && cfg.Retention == jetstream.LimitsPolicy && unlimited:
		return []string{"max_age: none, nor max_msgs or max_bytes, so messages are never deleted"}
	}
	return nil
}

// MissingSubjects returns those of subjects that an existing stream does not take (none of its
// subjects, wildcards included, matches them): a stream created by an older version lacks the
// subjects added since, such as the planned outcome's, and the installer changes no existing
// stream. What is published on a missing subject has no stream to go to.
func MissingSubjects(cfg jetstream.StreamConfig, subjects []string) []string {
	var missing []string
	for _, s := range subjects {
		if !slices.ContainsFunc(cfg.Subjects, func(filter string) bool { return subjectMatches(filter, s) }) {
			missing = append(missing, s)
		}
	}
	return missing
}

// subjectMatches reports whether the literal subject matches filter, a NATS subject with the
// wildcards "*" (one token) and ">" (one or more tokens, last).
func subjectMatches(filter, subject string) bool {
	f, s := strings.Split(filter, "."), strings.Split(subject, ".")
	for i, tok := range f {
		switch {
		case tok == ">":
			return len(s) > i
		case i >= len(s) || tok != "*" && tok != s[i]:
			return false
		}
	}
	return len(f) == len(s)
}

// EnsureStreams creates whichever of the three streams is missing and leaves existing ones as
// they are, whatever their configuration, so operators can tune them. Several instances may call
// it at once: losing the race to create a stream is not an error. A replica count below one or
// a bad prefix returns ErrInvalidOption.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, s Subjects, replicas int) error {
	return EnsureStreamsRetained(ctx, js, s, replicas, DefaultRetention)
}

// EnsureStreamsRetained is EnsureStreams creating the streams with the given retention.
func EnsureStreamsRetained(ctx context.Context, js jetstream.JetStream, s Subjects, replicas int, r Retention) error {
	if replicas < 1 {
		return fmt.Errorf("%w: stream replicas %d, want 1 or more", ErrInvalidOption, replicas)
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if r.Events < 0 || r.DeadLetter < 0 {
		return fmt.Errorf("%w: negative retention %+v", ErrInvalidOption, r)
	}
	for _, cfg := range StreamConfigs(s, replicas, r) {
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
