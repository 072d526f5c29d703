package journeysim

import "time"

// Message is an outcome event in the simulated events stream.
type Message struct {
	At        time.Time
	ID        string // the CloudEvent id, its Nats-Msg-Id
	Type      string
	RequestID string
	Data      any // *events.Ordered, *events.Provisioned, *events.Failed or *events.Planned
}

// EventLog is the simulated outcome stream: a publication whose id was published within
// DupWindow before is dropped as a duplicate, as JetStream does with Nats-Msg-Id.
type EventLog struct {
	DupWindow time.Duration
	Messages  []Message
}

// Publish appends m unless it is a duplicate, which it reports.
func (l *EventLog) Publish(m Message) (duplicate bool) {
	for i := len(l.Messages) - 1; i >= 0; i-- {
		p := l.Messages[i]
		if m.At.Sub(p.At) >= l.DupWindow {
			break
		}
		if p.ID == m.ID {
			return true
		}
	}
	l.Messages = append(l.Messages, m)
	return false
}
