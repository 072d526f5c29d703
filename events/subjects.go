package events

import (
	"fmt"
	"strings"
)

// Stream names. They do not carry the subject prefix: one NATS account holds one installer.
const (
	// StreamRequests holds the install requests published by procurement systems.
	StreamRequests = "INSTALL_REQUESTS"
	// StreamEvents holds the outcomes (ordered, provisioned, failed, planned) for any number of
	// subscribers.
	StreamEvents = "INSTALL_EVENTS"
	// StreamDeadLetter holds, byte for byte, the messages that were not CloudEvents.
	StreamDeadLetter = "INSTALL_DEADLETTER"
)

// DefaultSubjectPrefix is the first token of every subject when none is configured.
const DefaultSubjectPrefix = "atlassian"

// Subjects names the installer's subjects under a configurable prefix. Each subject is also the
// CloudEvent type of the events travelling on it. The zero value uses DefaultSubjectPrefix.
type Subjects struct {
	// Prefix is prepended to every subject, e.g. "atlassian" gives "atlassian.install.requested".
	// It may span several tokens ("acme.atlassian").
	Prefix string
}

// NewSubjects returns the subjects under prefix; an empty prefix means DefaultSubjectPrefix.
func NewSubjects(prefix string) Subjects {
	return Subjects{Prefix: prefix}
}

// Validate reports (wrapping ErrInvalidOption) a prefix that would make an invalid or wildcard
// subject, so a configuration mistake stops start-up instead of matching the wrong messages.
func (s Subjects) Validate() error {
	p := s.prefix()
	for _, tok := range strings.Split(p, ".") {
		if tok == "" {
			return fmt.Errorf("%w: subject prefix %q has an empty token", ErrInvalidOption, p)
		}
		if tok == "*" || tok == ">" {
			return fmt.Errorf("%w: subject prefix %q contains a wildcard", ErrInvalidOption, p)
		}
		if strings.ContainsAny(tok, " \t\r\n*>") {
			return fmt.Errorf("%w: subject prefix %q contains whitespace or a wildcard", ErrInvalidOption, p)
		}
	}
	return nil
}

func (s Subjects) prefix() string {
	if s.Prefix == "" {
		return DefaultSubjectPrefix
	}
	return s.Prefix
}

func (s Subjects) name(last string) string { return s.prefix() + ".install." + last }

// Requested is the subject and event type of install requests.
func (s Subjects) Requested() string { return s.name("requested") }

// Ordered is the subject and event type published once the order was accepted.
func (s Subjects) Ordered() string { return s.name("ordered") }

// Provisioned is the subject and event type published when provisioning and every order item
// succeeded.
func (s Subjects) Provisioned() string { return s.name("provisioned") }

// Failed is the subject and event type published when a journey ended without success.
func (s Subjects) Failed() string { return s.name("failed") }

// Planned is the subject and event type published when a dry run's look-ups succeeded: what
// the journey would have sent.
func (s Subjects) Planned() string { return s.name("planned") }

// DeadLetter is the subject of messages that could not be read as a CloudEvent.
func (s Subjects) DeadLetter() string { return s.name("deadletter") }

// Outcomes returns the subjects of the events stream, in the order a journey produces them.
func (s Subjects) Outcomes() []string {
	return []string{s.Ordered(), s.Provisioned(), s.Failed(), s.Planned()}
}

// IsOutcome reports whether eventType is one of the outcome types.
func (s Subjects) IsOutcome(eventType string) bool {
	for _, o := range s.Outcomes() {
		if o == eventType {
			return true
		}
	}
	return false
}
