package installtest

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/events"
)

// Dial connects over TCP to a NATS server the test knows only by URL, such as the embedded
// server of an installer process under test; the connection closes when the test ends.
func Dial(t testing.TB, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url, nats.Name("installtest"))
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return js
}

// AwaitTerminal waits, at most limit, until INSTALL_EVENTS read over js holds a terminal
// event of every request, and returns those events by request id (each id given once). It only reads: the
// installer under test runs on its own clock, as a separate process does.
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
	return got
}
