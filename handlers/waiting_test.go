package handlers_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/installtest"
)

// TestWaitingJourneysHoldNoGoroutine: journeys waiting between polls hold no goroutine
// of their own: with n of them waiting, the process runs about as many goroutines as with
// none, then every journey ends.
func TestWaitingJourneysHoldNoGoroutine(t *testing.T) {
	e := newEnv(t, atlassiantest.WithProvisionDelay(2*time.Minute))
	cfg := e.Config()
	cfg.AckWait = 3 * time.Second
	cfg.MaxPollInterval = 20 * time.Second
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)
	ordered := func() int {
		k := 0
		for _, o := range e.Outcomes() {
			if o.Type == subjects.Ordered() {
				k++
			}
		}
		return k
	}
	// The clock stands still until every journey waits: none is due meanwhile.
	e.Publish("first", jiraOnNewSite("first"))
	e.EventuallyStep("the first journey ordered", 0, func() bool { return ordered() == 1 })
	base := runtime.NumGoroutine() // the client's connections, the installer's, NATS's

	const n = 200
	for i := range n {
		id := fmt.Sprintf("idle-%03d", i)
		e.Publish(id, jiraOnNewSite(id))
	}
	e.EventuallyStep("every journey ordered", 0, func() bool { return ordered() == n+1 })
	var got int
	e.EventuallyStep("the goroutines of the steps ended", 0, func() bool {
		got = runtime.NumGoroutine()
		return got-base < n/10
	})
	t.Logf("%d goroutines with 1 journey waiting, %d with %d", base, got, n+1)
	e.EventuallyStep("every journey ended", time.Second, func() bool {
		k := 0
		for _, o := range e.Outcomes() {
			if installtest.IsTerminal(o) {
				k++
			}
		}
		return k == n+1
	})
}
