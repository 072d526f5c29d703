package journeysim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/procurement/atlassian-installer/events"
)

// Scenario is what a seed draws for a run: the request, the configuration, and the chances
// of every fault.
type Scenario struct {
	Request string // which request shape (see requestShapes)
	DryRun  bool

	OrderWindow, JourneyTimeout time.Duration
	Atlassian                   Faults
	// StoreConflicts is the chance that a record update meets another writer first;
	// StoreErrors that a write fails (half of them applied all the same, the answer lost).
	StoreConflicts, StoreErrors float64
	// PublishErrors is the chance that a publication fails (half of them stored all the
	// same, the acknowledgement lost).
	PublishErrors float64
	// Crash is the chance of a crash at each crash point (before and after every record
	// write and publication, and inside every effect, once Atlassian applied it);
	// CrashAt, when positive, crashes at that crash point only (counted from 1).
	Crash   float64
	CrashAt int
	// Stall is the chance that an instance stops for a while before an action (a pause,
	// a partition), up to three times the ack wait, a few times a run: its message is then
	// delivered again elsewhere while it still holds it.
	Stall float64
	// Drain is the chance that an instance begins to drain before an action, once a run.
	Drain float64
	// Duplicate: a second request message with the same id, published at DuplicateAt.
	Duplicate   bool
	DuplicateAt time.Duration
}

var requestShapes = []string{
	"products, new site, billing given",
	"products, new site, billing of the parent entitlement",
	"products, existing site with a Jira family container",
	"app, host found on the site",
	"app, host ARI given",
}

func pick[T any](rnd *rand.Rand, xs ...T) T { return xs[rnd.IntN(len(xs))] }

// drawScenario draws a run's scenario.
func drawScenario(rnd *rand.Rand) Scenario {
	s := Scenario{
		Request:        pick(rnd, requestShapes...),
		DryRun:         rnd.IntN(10) == 0,
		OrderWindow:    pick(rnd, 10*time.Minute, 10*time.Minute, 3*time.Minute),
		JourneyTimeout: pick(rnd, 2*time.Hour, 2*time.Hour, 20*time.Minute),
		Atlassian: Faults{
			Call:           pick(rnd, 0, 0.02, 0.1, 0.3),
			ReadLag:        pick(rnd, 0, 5*time.Second, time.Minute),
			ProvisionFails: pick(rnd, 0, 0, 0.3),
			ItemsFail:      pick(rnd, 0, 0, 0.3),
			ProvisionDelay: pick(rnd, 10*time.Second, 3*time.Minute),
			OrderDelay:     pick(rnd, 10*time.Second, 2*time.Minute),
		},
		StoreConflicts: pick(rnd, 0, 0.05, 0.2),
		StoreErrors:    pick(rnd, 0, 0, 0.05),
		PublishErrors:  pick(rnd, 0, 0, 0.1),
		Stall:          pick(rnd, 0, 0, 0.02, 0.1),
		Drain:          pick(rnd, 0, 0, 0.05),
		Duplicate:      rnd.IntN(5) == 0,
	}
	switch rnd.IntN(3) {
	case 0:
		s.Crash = pick(rnd, 0.02, 0.1)
	case 1:
		s.CrashAt = 1 + rnd.IntN(20)
	}
	if s.Duplicate {
		s.DuplicateAt = time.Duration(rnd.Int64N(int64(15 * time.Minute)))
	}
	return s
}

// requestEvent is the request event of a scenario.
func (s Scenario) requestEvent(id string, subjects events.Subjects, at time.Time) *cloudevents.Event {
	type obj = map[string]any
	r := obj{"orgId": OrgID, "adminEmail": "admin@example.com"}
	newSite := obj{"name": SiteName, "create": true, "timezone": "Europe/Berlin"}
	existing := obj{"name": SiteName, "create": false}
	jira := obj{"offeringId": "jira-standard", "family": events.FamilyJira, "chargeElement": "user", "quantity": 10}
	app := obj{"appKey": "com.vendor.app", "offeringId": "app-offering", "chargeElement": "user", "quantity": 10}
	billing := obj{"transactionAccountId": TxAccountID, "invoiceGroupId": InvoiceGroupID}
	switch s.Request {
	case requestShapes[0]:
		r["site"], r["products"], r["billing"] = newSite, []obj{jira}, billing
	case requestShapes[1]:
		jira["parentEntitlementId"] = ParentEntitlementID
		r["site"], r["products"] = newSite, []obj{jira}
	case requestShapes[2]:
		r["site"], r["products"], r["billing"] = existing, []obj{jira}, billing
	case requestShapes[3]:
		app["hostProduct"] = "confluence"
		r["site"], r["app"] = existing, app
	case requestShapes[4]:
		app["productAri"] = jiraARI
		r["site"], r["app"] = existing, app
	}
	if s.DryRun {
		r["dryRun"] = true
	}
	ev := cloudevents.NewEvent()
	ev.SetID(id)
	ev.SetSource("/sim/procurement")
	ev.SetType(subjects.Requested())
	ev.SetTime(at)
	b, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	if err := ev.SetData(cloudevents.ApplicationJSON, b); err != nil {
		panic(fmt.Sprintf("journeysim: request event: %v", err))
	}
	return &ev
}
