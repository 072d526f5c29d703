package handlers_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats.go"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
)

// tickerCounter is a clock that counts the tickers made on it.
type tickerCounter struct {
	clockwork.Clock
	n atomic.Int64
}

func (c *tickerCounter) NewTicker(d time.Duration) clockwork.Ticker {
	c.n.Add(1)
	return c.Clock.NewTicker(d)
}

// acks records, per request message, what the installer told JetStream of it, in order:
// "+WPI" (in progress), "+ACK", "-NAK", "+TERM".
type acks struct {
	mu  sync.Mutex
	log map[string][]string // stream sequence -> acks
}

func watchAcks(t *testing.T, nc *nats.Conn) *acks {
	t.Helper()
	a := &acks{log: map[string][]string{}}
	sub, err := nc.Subscribe("$JS.ACK."+events.StreamRequests+".>", func(m *nats.Msg) {
		tok := strings.Split(m.Subject, ".")
		if len(tok) < 9 {
			return
		}
		seq := tok[len(tok)-4] // $JS.ACK.<stream>.<consumer>.<delivered>.<seq>.<cseq>.<ts>.<pending>
		kind, _, _ := strings.Cut(string(m.Data), " ")
		a.mu.Lock()
		a.log[seq] = append(a.log[seq], kind)
		a.mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return a
}

// marked counts the in-progress marks of each message; settled those of them settled.
func (a *acks) marked() (marks map[string]int, settled int, markedAfterSettling []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	marks = map[string]int{}
	for seq, kinds := range a.log {
		done := false
		for _, k := range kinds {
			switch {
			case k == "+WPI" && done:
				markedAfterSettling = append(markedAfterSettling, seq)
			case k == "+WPI":
				marks[seq]++
			default:
				done = true
			}
		}
		if done {
			settled++
		}
	}
	return marks, settled, markedAfterSettling
}

// TestHeldMessagesShareOneHeartbeat: however many messages an installer holds, one ticker
// marks them all in progress, every third of the ack wait; none is redelivered while its
// journey waits, and a settled message is never marked again.
func TestHeldMessagesShareOneHeartbeat(t *testing.T) {
	e := newEnv(t, atlassiantest.WithProvisionDelay(2*time.Minute))
	clock := &tickerCounter{Clock: e.Clock}
	cfg := e.Config()
	cfg.Clock = clock
	cfg.Concurrency = 2
	cfg.AckWait = 3 * time.Second // in progress every second of fake time
	cfg.MaxPollInterval = 20 * time.Second
	a := watchAcks(t, e.NC)
	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)

	const n = 20
	for i := range n {
		id := fmt.Sprintf("held-%02d", i)
		e.Publish(id, jiraOnNewSite(id))
	}
	e.EventuallyStep("every journey ordered", 100*time.Millisecond, func() bool {
		k := 0
		for _, o := range e.Outcomes() {
			if o.Type == subjects.Ordered() {
				k++
			}
		}
		return k == n
	})
	e.EventuallyStep("every held message marked in progress twice", 100*time.Millisecond, func() bool {
		marks, _, _ := a.marked()
		for i := range n {
			if marks[fmt.Sprint(i+1)] < 2 {
				return false
			}
		}
		return true
	})
	if got := clock.n.Load(); got != 1 {
		t.Errorf("%d tickers for %d held messages, want 1", got, n)
	}

	e.EventuallyStep("every journey ended", time.Second, func() bool {
		_, settled, _ := a.marked()
		return settled == n
	})
	for range 10 { // ten heartbeats more: none for a settled message
		e.Clock.Advance(time.Second)
		if err := e.NC.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, after := a.marked(); len(after) > 0 {
		t.Errorf("messages %v marked in progress after they were settled", after)
	}
	info := e.consumerInfo()
	if info.NumRedelivered != 0 {
		t.Errorf("%d messages redelivered while their journeys waited", info.NumRedelivered)
	}
}
