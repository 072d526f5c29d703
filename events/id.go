package events

import "github.com/google/uuid"

// idNamespace scopes the installer's name-based UUIDs, so they cannot collide with UUIDv5s that
// other systems derive from the same request ids.
var idNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:atlassian-installer:event-id"))

// EventID returns the id of the event of type eventType about request requestID: a UUIDv5, so
// the same request and type always give the same id and a re-published outcome is recognisably
// (and, through Nats-Msg-Id, de-duplicably) the same event.
func EventID(requestID, eventType string) string {
	// The NUL separator keeps ("a", "b.c") and ("ab", ".c") apart.
	return uuid.NewSHA1(idNamespace, []byte(requestID+"\x00"+eventType)).String()
}
