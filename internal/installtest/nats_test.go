package installtest_test

import (
	"testing"

	"github.com/procurement/atlassian-installer/internal/installtest"
	"github.com/procurement/atlassian-installer/internal/natstest"
)

// A process under test is reached by its URL alone, and its terminal events are awaited
// without touching its clock.
func TestDialAndAwaitTerminal(t *testing.T) {
	e := installtest.New(t)
	e.StartDefault()
	_, js := natstest.Dial(t, e.Server.ClientURL())
	for _, id := range []string{"req-1", "req-2"} {
		if _, err := js.PublishMsg(t.Context(), installtest.BinaryMsg(t, installtest.Subjects.Requested(),
			installtest.RequestEvent(t, id, map[string]any{"hello": "world"}))); err != nil {
			t.Fatal(err)
		}
	}
	got := installtest.AwaitTerminal(t, js, installtest.Timeout, "req-1", "req-2")
	for _, id := range []string{"req-1", "req-2"} {
		if m := got[id]; m.Type != installtest.Subjects.Failed() || m.Data["code"] != "invalid_request" {
			t.Errorf("%s: %s %v", id, m.Type, m.Data)
		}
	}
}
