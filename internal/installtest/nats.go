package installtest

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/events"
)

// AwaitTerminal waits, at most limit, until INSTALL_EVENTS read over js holds a terminal
// event of every request, and returns those events by request id (each id given once). It only reads: the
// installer under test runs on its own clock, as a separate process does. A failed event
// whose message names an address fails the test (CheckFailedMessage).
func AwaitTerminal(t testing.TB, js jetstream.JetStream, limit time.Duration, requestIDs ...string) map[string]Message {
	t.Helper()
	got := make(map[string]Message, len(requestIDs))
	poll(t, limit, nil, 0, "terminal events of "+strings.Join(requestIDs, ", "), func() bool {
		all := ReadStream(t, js, events.StreamEvents)
		for _, id := range requestIDs {
			if _, ok := got[id]; ok {
				continue
			}
			for _, m := range Of(all, id) {
				if IsTerminal(m) {
					got[id] = m
					break
				}
			}
		}
		return len(got) == len(requestIDs)
	})
	for _, m := range got {
		if m.Type == Subjects.Failed() {
			CheckFailedMessage(t, m, "")
		}
	}
	return got
}
