package events

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultSource is the source of every published event when none is configured.
const DefaultSource = "urn:atlassian-installer"

// maxReasonLen bounds the Installer-Error header, which must fit in the message headers.
const maxReasonLen = 1024

// originalHeaderPrefix renames the producer's Nats-* headers on a dead letter: JetStream would
// otherwise act on them (Nats-Expected-Stream would refuse the dead letter, Nats-Msg-Id could
// drop it, Nats-TTL could expire it), yet nothing of the original may be lost.
const originalHeaderPrefix = "Installer-Original-"

// Publisher publishes the installer's outcome events and dead letters to JetStream. It is safe
// for concurrent use.
type Publisher struct {
	js     jetstream.JetStream
	subj   Subjects
	source string
	clock  clockwork.Clock
}

// PublisherOption configures a Publisher.
type PublisherOption func(*Publisher)

// WithClock sets the clock that stamps the events' time; tests pass a fake clock.
func WithClock(c clockwork.Clock) PublisherOption {
	return func(p *Publisher) {
		if c != nil {
			p.clock = c
		}
	}
}

// NewPublisher returns a Publisher of events with the given source (DefaultSource when empty).
func NewPublisher(js jetstream.JetStream, s Subjects, source string, opts ...PublisherOption) *Publisher {
	if source == "" {
		source = DefaultSource
	}
	p := &Publisher{js: js, subj: s, source: source, clock: clockwork.NewRealClock()}
	for _, o := range opts {
		o(p)
	}
	return p
}

// NewOutcome builds, without publishing, the outcome event PublishOutcome would publish: id
// EventID(requestID, eventType), type and NATS subject eventType, subject requestID, the
// publisher's source, time now, data as JSON with its schema as dataschema (DataSchema), and the
// traceparent extension when it is a valid W3C trace context (an invalid one is dropped).
func (p *Publisher) NewOutcome(requestID, eventType string, data any, traceparent string) (*event.Event, error) {
	if !p.subj.IsOutcome(eventType) {
		return nil, fmt.Errorf("%w: %q, want one of %v", ErrUnknownEventType, eventType, p.subj.Outcomes())
	}
	if requestID == "" {
		return nil, fmt.Errorf("%w: empty request id", ErrInvalidEvent)
	}
	e := event.New(specVersion)
	e.SetID(EventID(requestID, eventType))
	e.SetSource(p.source)
	e.SetType(eventType)
	e.SetSubject(requestID)
	e.SetTime(p.clock.Now().UTC())
	e.SetDataSchema(DataSchema(eventType))
	if err := e.SetData(event.ApplicationJSON, data); err != nil {
		return nil, fmt.Errorf("%w: data of %s: %v", ErrInvalidEvent, eventType, err)
	}
	if ValidTraceparent(traceparent) {
		e.SetExtension(ExtensionTraceparent, traceparent)
	}
	return &e, nil
}

// PublishOutcome publishes an outcome event (see NewOutcome) to the events stream and returns
// it. Publishing the same request's outcome again is harmless: the event id is the same, so
// within DuplicateWindow JetStream stores it once. An eventType that is not an outcome returns
// ErrUnknownEventType.
func (p *Publisher) PublishOutcome(ctx context.Context, requestID, eventType string, data any, traceparent string) (*event.Event, error) {
	e, err := p.NewOutcome(requestID, eventType, data, traceparent)
	if err != nil {
		return nil, err
	}
	if _, err := p.Publish(ctx, e); err != nil {
		return nil, err
	}
	return e, nil
}

// Publish publishes an outcome event built by NewOutcome to the events stream. duplicate
// reports that JetStream already held the same event id (DuplicateWindow) and stored nothing.
func (p *Publisher) Publish(ctx context.Context, e *event.Event) (duplicate bool, err error) {
	m, err := ToNATS(e.Type(), e)
	if err != nil {
		return false, err
	}
	ack, err := p.js.PublishMsg(ctx, m, jetstream.WithExpectStream(StreamEvents))
	if err != nil {
		if errors.Is(err, jetstream.ErrNoStreamResponse) {
			if err := p.subjectNotInStream(ctx, e.Type()); err != nil {
				return false, err
			}
		}
		return false, fmt.Errorf("events: publish %s for request %s: %w", e.Type(), e.Subject(), err)
	}
	return ack != nil && ack.Duplicate, nil
}

// subjectNotInStream tells, after a publish that no stream answered, a stream that is there
// but does not take the subject (ErrSubjectNotInStream) from a stream that is away for now
// (nil: an outage, to be retried).
func (p *Publisher) subjectNotInStream(ctx context.Context, subject string) error {
	s, err := p.js.Stream(ctx, StreamEvents)
	if err != nil {
		return nil
	}
	if missing := MissingSubjects(s.CachedInfo().Config, []string{subject}); len(missing) > 0 {
		return fmt.Errorf("%w: stream %s does not take subject %s; add it with nats stream edit %s --subjects",
			ErrSubjectNotInStream, StreamEvents, subject, StreamEvents)
	}
	return nil
}

// DeadLetter publishes a message that could not be read as a CloudEvent to the dead-letter
// subject: the body byte for byte, the original headers, and the reason in header
// Installer-Error. The producer's Nats-* headers are kept under "Installer-Original-Nats-…"
// so that JetStream does not act on them a second time.
func (p *Publisher) DeadLetter(ctx context.Context, header nats.Header, data []byte, reason string) error {
	m := nats.NewMsg(p.subj.DeadLetter())
	for k, vs := range header {
		name := k
		if strings.HasPrefix(strings.ToLower(k), "nats-") {
			name = originalHeaderPrefix + k
		}
		m.Header[name] = append([]string(nil), vs...)
	}
	m.Header.Set(HeaderError, headerValue(reason))
	m.Data = data
	if _, err := p.js.PublishMsg(ctx, m, jetstream.WithExpectStream(StreamDeadLetter)); err != nil {
		return fmt.Errorf("events: publish dead letter: %w", err)
	}
	return nil
}

// ReplayHeader undoes DeadLetter's header changes for publishing a dead letter again: the
// reason is dropped and the producer's Nats-Msg-Id restored. Its other Nats-* headers
// (expected stream, last sequence…) held for its own publish only and are left out, as are
// those the dead-letter publish added.
func ReplayHeader(dead nats.Header) nats.Header {
	h := nats.Header{}
	for k, vs := range dead {
		switch {
		case k == HeaderError:
		case strings.EqualFold(k, originalHeaderPrefix+HeaderMsgID):
			h[HeaderMsgID] = slices.Clone(vs)
		case hasPrefixFold(k, originalHeaderPrefix), hasPrefixFold(k, "Nats-"):
		default:
			h[k] = slices.Clone(vs)
		}
	}
	return h
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// headerValue makes reason safe for a NATS header: one line, bounded length.
func headerValue(reason string) string {
	reason = strings.Join(strings.Fields(reason), " ")
	if reason == "" {
		reason = "not a CloudEvent"
	}
	if len(reason) > maxReasonLen {
		reason = strings.ToValidUTF8(reason[:maxReasonLen], "") + "…"
	}
	return reason
}
