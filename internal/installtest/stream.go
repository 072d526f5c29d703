package installtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/eventschema"
)

// Message is a message read back from a stream, decoded when it is a CloudEvent.
type Message struct {
	Header nats.Header
	Raw    []byte             // the body as stored
	Event  *cloudevents.Event // nil when the message is not a CloudEvent
	// Type, ID and Subject are the event's; Data its JSON data as an object.
	Type, ID, Subject string
	Data              map[string]any
}

// Decode reads a stored message as a Message, decoding the CloudEvent it holds.
func Decode(h nats.Header, data []byte) Message {
	m := Message{Header: h, Raw: data}
	if ev, err := events.FromNATS(h, data); err == nil {
		m.Event = ev
		m.Type, m.ID, m.Subject = ev.Type(), ev.ID(), ev.Subject()
		_ = json.Unmarshal(ev.Data(), &m.Data)
	}
	return m
}

// CheckOutcome holds a message of INSTALL_EVENTS to the published API: a CloudEvent whose
// dataschema names the schema of its type, and whose data that schema accepts.
func CheckOutcome(h nats.Header, data []byte) error {
	m := Decode(h, data)
	if m.Event == nil {
		return fmt.Errorf("outcome %s is not a CloudEvent", m.Raw)
	}
	if got, want := m.Event.DataSchema(), events.DataSchema(m.Type); got != want {
		return fmt.Errorf("%s of %s: dataschema %q, want %q", m.Type, m.Subject, got, want)
	}
	if err := eventschema.Validate(m.Type, m.Event.Data()); err != nil {
		return fmt.Errorf("%s of %s does not match its schema: %w\n%s", m.Type, m.Subject, err, m.Event.Data())
	}
	return nil
}

// ReadStream returns every message of a stream so far, in order; none when the stream
// does not exist yet. Every event of INSTALL_EVENTS must pass CheckOutcome, or the test fails.
func ReadStream(t testing.TB, js jetstream.JetStream, name string) []Message {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, name)
	if err != nil {
		return nil
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	var out []Message
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("get %s %d: %v", name, seq, err)
		}
		msg := Decode(m.Header, m.Data)
		if name == events.StreamEvents {
			if err := CheckOutcome(m.Header, m.Data); err != nil {
				t.Error(err)
			}
		}
		out = append(out, msg)
	}
	return out
}

// Stream is ReadStream on the Env's connection.
func (e *Env) Stream(name string) []Message {
	e.T.Helper()
	return ReadStream(e.T, e.JS, name)
}

// collector gathers INSTALL_EVENTS with an ordered consumer started on first use, so that
// frequent checks do not read the stream again each time.
type collector struct {
	mu   sync.Mutex
	msgs []Message
	bad  []error // CheckOutcome's, reported when the test ends
	cc   jetstream.ConsumeContext
}

// Outcomes returns every event of INSTALL_EVENTS so far, in order. Each must pass CheckOutcome,
// or the test fails when it ends.
func (e *Env) Outcomes() []Message {
	e.T.Helper()
	c := &e.outcomes
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cc == nil {
		oc, err := e.JS.OrderedConsumer(context.Background(), events.StreamEvents, jetstream.OrderedConsumerConfig{})
		if err != nil {
			return nil // not created yet
		}
		cc, err := oc.Consume(func(m jetstream.Msg) {
			msg := Decode(m.Headers(), m.Data())
			err := CheckOutcome(m.Headers(), m.Data())
			c.mu.Lock()
			c.msgs = append(c.msgs, msg)
			if err != nil {
				c.bad = append(c.bad, err)
			}
			c.mu.Unlock()
		})
		if err != nil {
			e.T.Fatalf("collect events: %v", err)
		}
		c.cc = cc
		// Cleanups run last first: the consumer stops, then what it saw is reported.
		e.T.Cleanup(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			for _, err := range c.bad {
				e.T.Error(err)
			}
		})
		e.T.Cleanup(cc.Stop)
	}
	return append([]Message(nil), c.msgs...)
}

// Of returns the events of one request.
func Of(all []Message, requestID string) []Message {
	var out []Message
	for _, m := range all {
		if m.Subject == requestID {
			out = append(out, m)
		}
	}
	return out
}

// IsTerminal reports whether m ends a journey (default subjects): provisioned or failed, or
// planned for a dry run.
func IsTerminal(m Message) bool {
	return m.Type == Subjects.Provisioned() || m.Type == Subjects.Failed() || m.Type == Subjects.Planned()
}

// Terminal waits for the request's terminal event and returns it. A failed event whose
// message names an address fails the test: see CheckFailedMessage.
func (e *Env) Terminal(requestID string) Message {
	e.T.Helper()
	var got Message
	e.Eventually("terminal event of "+requestID, func() bool {
		for _, m := range Of(e.Outcomes(), requestID) {
			if IsTerminal(m) {
				got = m
				return true
			}
		}
		return false
	})
	if got.Type == Subjects.Failed() {
		CheckFailedMessage(e.T, got, e.Sandbox.URL)
	}
	return got
}

// CheckFailedMessage fails the test when a failed event's message carries what belongs in
// the installer's logs only: a URL, the API's address, or a Go network error. baseURL, when
// known, is the Atlassian API's.
func CheckFailedMessage(t testing.TB, m Message, baseURL string) {
	t.Helper()
	msg, _ := m.Data["message"].(string)
	host := strings.TrimPrefix(strings.TrimPrefix(baseURL, "http://"), "https://")
	for _, bad := range []string{baseURL, host, "http://", "https://", "dial tcp", "127.0.0.1", "read tcp", "write tcp", "connection refused", "EOF"} {
		if bad != "" && strings.Contains(msg, bad) {
			t.Errorf("failed event of %s: message %q carries %q", m.Subject, msg, bad)
		}
	}
}

// Settled waits until the default consumer holds no message: every delivery was settled.
func (e *Env) Settled() {
	e.T.Helper()
	e.Eventually("every request message settled", func() bool {
		c, err := e.JS.Consumer(context.Background(), events.StreamRequests, handlers.DefaultConsumer)
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		return err == nil && info.NumAckPending == 0 && info.NumPending == 0
	})
}
