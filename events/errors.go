package events

import "errors"

var (
	// ErrNotCloudEvent is returned by FromNATS, wrapped with the reason, when a message is not a
	// CloudEvent in either content mode. Such a message belongs on the dead-letter subject.
	ErrNotCloudEvent = errors.New("events: not a CloudEvent")

	// ErrInvalidRequest is matched (errors.Is) by every *ValidationError, so callers can tell bad
	// request data from infrastructure failures without a type assertion.
	ErrInvalidRequest = errors.New("events: invalid request")

	// ErrInvalidEvent is returned by ToNATS and the Publisher when an outbound event would break
	// the CloudEvents specification.
	ErrInvalidEvent = errors.New("events: invalid event")

	// ErrUnknownEventType is returned by PublishOutcome for a type that is not one of the outcome
	// subjects (ordered, provisioned, failed): no stream would keep it.
	ErrUnknownEventType = errors.New("events: unknown outcome event type")

	// ErrInvalidOption is returned, wrapped with the offending value, for bad configuration: a
	// subject prefix that is not a valid NATS subject, a replica count below one, an empty source.
	ErrInvalidOption = errors.New("events: invalid option")
)
