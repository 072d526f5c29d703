package quota

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/procurement/atlassian-installer/client"
)

// noLeaderRetry is how long a request waits before asking again when no leader answers.
const noLeaderRetry = 100 * time.Millisecond

// blockAfter is how long a request may take before it counts as waiting (client.Waiting:
// a journey gives its concurrency slot back meanwhile).
const blockAfter = 10 * time.Millisecond

// takeMsg asks the leader for one turn.
type takeMsg struct {
	Org      string          `json:"org"`
	Family   client.Family   `json:"family"`
	Priority client.Priority `json:"priority"`
	// Age is how long the call has waited already: a request asked again keeps its place.
	Age time.Duration `json:"age"`
	// Wait is how long the caller waits for this answer; Deadline, when not zero, how long
	// until it gives up the turn altogether (the leader refuses at once a turn that cannot
	// come by then).
	Wait     time.Duration `json:"wait"`
	Deadline time.Duration `json:"deadline,omitempty"`
}

// takeReply is the leader's answer: the turn, or Refused when it cannot come in time.
type takeReply struct {
	Refused bool `json:"refused,omitempty"`
}

// Wait blocks until the leader gives the call its turn. A held turn waits only for a pause. A
// turn that cannot come before the context's deadline is refused at once with an error
// wrapping context.DeadlineExceeded.
func (q *Quota) Wait(ctx context.Context, t client.Turn) error {
	if !q.limited(t.Family) {
		return nil
	}
	start := time.Now()
	var done func()
	defer func() {
		if done != nil {
			done()
		}
	}()
	waiting := func() {
		if done == nil {
			done = client.Waiting(ctx)
		}
	}
	l := lane{t.Org, t.Family}
	if t.Held {
		if d := q.pausedFor(l); d > 0 {
			waiting()
			return sleep(ctx, d)
		}
		return nil
	}
	for {
		if d := q.pausedFor(l); d > 0 {
			waiting()
			if err := sleep(ctx, d); err != nil {
				return err
			}
		}
		m := takeMsg{Org: t.Org, Family: t.Family, Priority: t.Priority, Age: time.Since(start), Wait: q.cfg.AskTimeout}
		if deadline, ok := ctx.Deadline(); ok {
			left := time.Until(deadline)
			if left <= 0 {
				return fmt.Errorf("no turn before the deadline: %w", context.DeadlineExceeded)
			}
			m.Deadline, m.Wait = left, min(m.Wait, left)
		}
		r, err := q.ask(ctx, m, waiting)
		switch {
		case err == nil && r.Refused:
			return fmt.Errorf("the next turn comes after the deadline: %w", context.DeadlineExceeded)
		case err == nil:
			if q.cfg.Observe.Turn != nil {
				q.cfg.Observe.Turn(t.Family, t.Priority, time.Since(start))
			}
			return nil
		case ctx.Err() != nil:
			return context.Cause(ctx)
		case errors.Is(err, nats.ErrNoResponders):
			// No leader yet, or a hand-over.
			waiting()
			if err := sleep(ctx, noLeaderRetry); err != nil {
				return err
			}
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
			// Not answered in time: asked again, with its age.
		default:
			q.log.Warn("quota: asking for a turn failed; asking again", "family", t.Family, "error", err)
			waiting()
			if err := sleep(ctx, noLeaderRetry); err != nil {
				return err
			}
		}
	}
}

// ask sends one request for a turn and waits for the answer; if none comes within
// blockAfter, it calls waiting first.
func (q *Quota) ask(ctx context.Context, m takeMsg, waiting func()) (takeReply, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return takeReply{}, err
	}
	// The answer may come a little after Wait, on the leader's time.
	actx, cancel := context.WithTimeout(ctx, m.Wait+m.Wait/10+50*time.Millisecond)
	defer cancel()
	type answer struct {
		msg *nats.Msg
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		msg, err := q.nc.RequestWithContext(actx, q.take, b)
		ch <- answer{msg, err}
	}()
	var a answer
	t := time.NewTimer(blockAfter)
	select {
	case a = <-ch:
		t.Stop()
	case <-t.C:
		waiting()
		a = <-ch
	}
	if a.err != nil {
		return takeReply{}, a.err
	}
	var r takeReply
	if err := json.Unmarshal(a.msg.Data, &r); err != nil {
		return takeReply{}, fmt.Errorf("quota: the leader's answer: %w", err)
	}
	return r, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
