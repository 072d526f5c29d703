package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/events"
)

// Handler handles one delivery of a request message. It settles the message itself
// (Ack, NakWithDelay, Term); when it returns with the message unsettled, the runtime
// naks it with a delay, so an error is tried again later.
type Handler func(ctx context.Context, d *Delivery) error

// Middleware wraps a Handler: recovery, tracing and metrics live here, not in journeys.
type Middleware func(Handler) Handler

// Delivery is one delivery of a message from INSTALL_REQUESTS. While a handler holds it,
// the runtime marks it in progress every third of the consumer's AckWait, including while the journey waits
// between polls, so JetStream never redelivers a message that is being worked on.
type Delivery struct {
	// Msg is the JetStream message.
	Msg  jetstream.Msg
	meta *jetstream.MsgMetadata
	in   *Installer

	begun bool          // the handler took a slot or returned: the message takes no more fetching room
	next  *continuation // what runs once a wait is over (waitThen); only its runner reads it
	// journey reports that the handler began the message's journey, which may not be
	// recorded yet (a journey is recorded with its provisioning, after its look-ups).
	journey bool

	mu        sync.Mutex
	settled   bool
	onSettled []func()

	ev    *cloudevents.Event // decoded, under mu; forgotten while the journey waits
	evErr error
}

// Event reads the message as a CloudEvent, once for the handler and every middleware.
func (d *Delivery) Event() (*cloudevents.Event, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ev == nil && d.evErr == nil {
		d.ev, d.evErr = events.FromNATS(d.Msg.Headers(), d.Msg.Data())
	}
	return d.ev, d.evErr
}

// forgetEvent drops the decoded event of a journey that waits: its record holds what it
// needs, and Event decodes the message again if asked.
func (d *Delivery) forgetEvent() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ev = nil
}

// Metadata is the message's JetStream metadata (stream sequence, deliveries).
func (d *Delivery) Metadata() *jetstream.MsgMetadata { return d.meta }

// token names this delivery as the holder of a journey's lease.
func (d *Delivery) token() string {
	return fmt.Sprintf("%s/%d/%d", d.in.instance, d.meta.Sequence.Stream, d.meta.NumDelivered)
}

// Settled reports whether the message has been acked, naked or terminated.
func (d *Delivery) Settled() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.settled
}

// OnSettled calls f once the runtime is done with the message: acked, naked or terminated,
// which may be long after the handler returned (a journey waiting for a time is resumed
// without it). f must return quickly and not use the Delivery. Middleware that counts held
// messages hooks in here.
func (d *Delivery) OnSettled(f func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.onSettled = append(d.onSettled, f)
}

// Ack settles a message whose request is done with.
func (d *Delivery) Ack() error { return d.settle(func() error { return d.Msg.Ack() }) }

// NakWithDelay hands the message back to be delivered again after delay.
func (d *Delivery) NakWithDelay(delay time.Duration) error {
	return d.settle(func() error { return d.Msg.NakWithDelay(max(delay, 0)) })
}

// Term settles a message that can never be handled, with the reason for the server's
// advisory.
func (d *Delivery) Term(reason string) error {
	return d.settle(func() error { return d.Msg.TermWithReason(reason) })
}

func (d *Delivery) settle(f func() error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.settled {
		return nil
	}
	d.settled = true
	d.in.release(d)
	if err := f(); err != nil {
		return fmt.Errorf("settle message %d: %w", d.meta.Sequence.Stream, err)
	}
	return nil
}

// step runs one journey step in a concurrency slot, released as soon as the step ends.
// Once the installer drains, no step starts: ErrDraining.
func (d *Delivery) step(ctx context.Context, f func(context.Context) error) error {
	if d.in.isDraining() {
		return ErrDraining
	}
	select {
	case d.in.slots <- struct{}{}:
	case <-d.in.draining:
		return ErrDraining
	case <-ctx.Done():
		return ctx.Err()
	}
	d.begin()
	defer func() {
		<-d.in.slots
		d.in.makeRoom()
	}()
	if d.in.isDraining() {
		return ErrDraining // both were ready: draining wins
	}
	return f(d.slotFreeWhileWaiting(ctx))
}

// begin marks the delivery's journey as begun, the first time: the fetch may take one
// more message in its place. Only the handler's goroutine calls it.
func (d *Delivery) begin() {
	if !d.begun {
		d.begun = true
		d.in.unstarted.Add(-1)
		d.in.makeRoom()
	}
}

// waitThen makes the delivery's journey wait for dur on the installer's clock, holding no
// goroutine and no slot: once the handler returns, the delivery goes to the installer's
// queue of waits, which runs then(ctx) when dur has passed, as if the handler had called it
// (the message settled as the handler's would be), or hands the message back at once when
// the installer drains. The handler returns what waitThen returns, at once.
func (d *Delivery) waitThen(ctx context.Context, dur time.Duration, then func(context.Context) error) error {
	if d.in.isDraining() {
		return ErrDraining
	}
	d.next = &continuation{ctx: ctx, after: max(dur, 0), run: then}
	return nil
}

// continuation is the rest of a delivery's work, run once its wait is over.
type continuation struct {
	ctx   context.Context
	after time.Duration
	run   func(context.Context) error
}

// Recover turns a panic in a handler into an error, so that the consumer keeps running and
// the delivery counts as a fault (see MaxFaults).
func Recover(log *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, d *Delivery) (err error) {
			defer func() {
				if r := recover(); r != nil {
					log.Error("handler panicked", "seq", d.meta.Sequence.Stream, "panic", r, "stack", string(debug.Stack()))
					err = fmt.Errorf("handler panicked: %v", r)
				}
			}()
			return next(ctx, d)
		}
	}
}
