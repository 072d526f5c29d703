package handlers_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
)

// outcomeLog keeps what an OutcomeObserver is told.
type outcomeLog struct {
	mu   sync.Mutex
	seen []handlers.OutcomeInfo
}

func (l *outcomeLog) observe(_ context.Context, o handlers.OutcomeInfo) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, o)
}

func (l *outcomeLog) all() []handlers.OutcomeInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.seen)
}

// TestOutcomeObserver: the observer is told of a failed outcome once, with its stage and
// code, and of nothing when the failed event the installer publishes is one JetStream
// already holds (the same event id, published before the journey ended).
func TestOutcomeObserver(t *testing.T) {
	e := newEnv(t)
	var log outcomeLog
	cfg := e.Config()
	cfg.OnOutcome = log.observe
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)

	noHost := obj{"orgId": atlassiantest.OrgID, "adminEmail": adminEmail,
		"site": obj{"name": atlassiantest.ExistingSiteName, "create": false},
		"app":  obj{"appKey": atlassiantest.AppKey, "offeringId": atlassiantest.AppOfferingID, "hostProduct": "bitbucket", "chargeElement": "user", "quantity": 10}}
	pub := events.NewPublisher(e.JS, subjects, "test")
	earlier := events.Failed{RequestID: "obs-dup", Stage: events.StageLookup, Code: events.CodeNotFound, Message: "published before"}
	if _, err := pub.PublishOutcome(context.Background(), "obs-dup", subjects.Failed(), earlier, ""); err != nil {
		t.Fatal(err)
	}
	e.Publish("obs-dup", noHost)
	e.Publish("obs-1", noHost)
	e.Settled()

	if st := e.Journey("obs-dup"); !st.IsPublished(subjects.Failed()) {
		t.Fatalf("obs-dup: the installer did not publish its failed event (published %v)", st.Published)
	}
	want := []handlers.OutcomeInfo{{Kind: handlers.OutcomeFailed, RequestID: "obs-1", Stage: events.StageLookup, Code: events.CodeNotFound}}
	if got := log.all(); !slices.Equal(got, want) {
		t.Errorf("observer told %+v, want %+v", got, want)
	}
}
