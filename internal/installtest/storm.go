package installtest

import (
	"fmt"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// StormTally counts, after a run of journeys under lost answers and lagging reads, what the
// money rules of the contract forbid, beside how the journeys ended.
type StormTally struct {
	Journeys, Provisioned, Failed, FailedRetryable, Ordered, Orders int
	// OrdersWithoutOrdered: orders Atlassian accepted that no ordered event announced.
	OrdersWithoutOrdered int
	// OrderedTwice: requests with more than one accepted order or ordered event, and orders
	// of no known request.
	OrderedTwice int
	// RetryableAfterOrder: retryable failed events of requests with an order or an orderId.
	RetryableAfterOrder int
	// TerminalNotOne: requests without exactly one terminal event.
	TerminalNotOne int
}

// TallyStorm counts over the events of INSTALL_EVENTS, the request ids published and the
// orders the sandbox accepted (Server.Orders).
func TallyStorm(evs []Message, ids []string, orders []client.OrderRequest) StormTally {
	s := StormTally{Journeys: len(ids), Orders: len(orders)}
	byOrderID := make(map[string]string, len(ids))
	for _, id := range ids {
		byOrderID[record.OrderID(id)] = id
	}
	terminals, ordered, placed := map[string]int{}, map[string]int{}, map[string]int{}
	for _, o := range orders {
		id, ok := byOrderID[o.OrderID]
		if !ok {
			s.OrderedTwice++
			continue
		}
		placed[id]++
	}
	for _, m := range evs {
		switch m.Type {
		case Subjects.Ordered():
			ordered[m.Subject]++
			s.Ordered++
		case Subjects.Provisioned():
			terminals[m.Subject]++
			s.Provisioned++
		case Subjects.Failed():
			terminals[m.Subject]++
			s.Failed++
			if m.Data["retryable"] == true {
				s.FailedRetryable++
				if placed[m.Subject] > 0 || m.Data["orderId"] != nil {
					s.RetryableAfterOrder++
				}
			}
		}
	}
	for _, id := range ids {
		if terminals[id] != 1 {
			s.TerminalNotOne++
		}
		if placed[id] > 0 && ordered[id] == 0 {
			s.OrdersWithoutOrdered++
		}
		if placed[id] > 1 || ordered[id] > 1 {
			s.OrderedTwice++
		}
	}
	return s
}

// Violations lists the broken rules; empty when the run kept them all.
func (s StormTally) Violations() []string {
	var out []string
	for _, v := range []struct {
		n    int
		rule string
	}{
		{s.OrdersWithoutOrdered, "orders without ordered"},
		{s.OrderedTwice, "requests ordered twice"},
		{s.RetryableAfterOrder, "retryable failures after an order"},
		{s.TerminalNotOne, "requests without exactly one terminal event"},
	} {
		if v.n != 0 {
			out = append(out, fmt.Sprintf("%d %s", v.n, v.rule))
		}
	}
	return out
}

func (s StormTally) String() string {
	return fmt.Sprintf("%d journeys: %d provisioned, %d failed (%d retryable); %d orders, %d ordered events; "+
		"%d orders without ordered, %d requests ordered twice, %d retryable failures after an order, %d requests without exactly one terminal event",
		s.Journeys, s.Provisioned, s.Failed, s.FailedRetryable, s.Orders, s.Ordered,
		s.OrdersWithoutOrdered, s.OrderedTwice, s.RetryableAfterOrder, s.TerminalNotOne)
}
