package events

import "errors"

var (
	// ErrNotCloudEvent is returned by FromNATS, wrapped with the reason, when a message is not a
	// CloudEvent in either content mode. Such a message belongs on the dead-letter subject. Its
	// text has no package prefix because it reaches the Installer-Error header as it is.
	ErrNotCloudEvent = errors.New("not a CloudEvent")

	// ErrUnanswerable is returned by CheckRequestEvent, wrapped with the reason, for a request
	// whose id or source no outcome event could carry. Such a message belongs on the
	// dead-letter subject; its text reaches the Installer-Error header as it is.
	ErrUnanswerable = errors.New("no outcome could answer this request")

	// ErrInvalidRequest is matched (errors.Is) by every *ValidationError, so callers can tell bad
	// request data from infrastructure failures without a type assertion. Its text begins the
	// message of failed events, hence no package prefix.
	ErrInvalidRequest = errors.New("invalid request")

	// ErrInvalidEvent is returned by ToNATS and the Publisher when an outbound event would break
	// the CloudEvents specification.
	ErrInvalidEvent = errors.New("events: invalid event")

	// ErrUnknownEventType is returned by PublishOutcome for a type that is not one of the outcome
	// subjects (ordered, provisioned, failed): no stream would keep it.
	ErrUnknownEventType = errors.New("events: unknown outcome event type")

	// ErrSubjectNotInStream is returned by PublishOutcome, wrapped with the stream and subject,
	// when the outcome stream exists but does not take the event's subject (a stream created by
	// an older version, without the planned subject): no retry can publish it until an operator
	// adds the subject (MissingSubjects).
	ErrSubjectNotInStream = errors.New("events: the stream does not take the subject")

	// ErrInvalidOption is returned, wrapped with the offending value, for bad configuration: a
	// subject prefix that is not a valid NATS subject, a replica count below one, an empty source.
	ErrInvalidOption = errors.New("events: invalid option")
)
