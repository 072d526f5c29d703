package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/calls"
	"github.com/procurement/atlassian-installer/handlers/journey"
	"github.com/procurement/atlassian-installer/internal/servertime"
	"github.com/procurement/atlassian-installer/internal/waits"
)

// API groups the Atlassian services the journeys call (see journey.API).
type API = journey.API

// ClientAPI is the API of the Atlassian client c.
func ClientAPI(c *client.Client) API { return journey.ClientAPI(c) }

// Installer consumes INSTALL_REQUESTS and runs a journey for each request.
type Installer struct {
	js       jetstream.JetStream
	api      API
	cfg      Config
	clock    clockwork.Clock
	server   ServerClock
	sampled  *servertime.Clock // the estimate server is, unless Config gave one
	log      *slog.Logger
	subjects events.Subjects
	pub      *events.Publisher
	instance string // tells this process's deliveries apart in leases
	handler  Handler
	journeys *journey.Journey

	store    *store
	requests jetstream.Stream
	slots    chan struct{}
	draining chan struct{}
	ready    atomic.Bool
	running  atomic.Bool
	ackWait  atomic.Int64 // the consumer's, which may differ from cfg.AckWait
	// unstarted counts the messages fetched whose journeys have not begun a step; roomMade
	// wakes the fetch when they begin or slots are given back.
	unstarted atomic.Int64
	// quotaWaits counts the steps whose calls wait for a turn of the API's quota, their slots
	// given back: they make no room for more messages.
	quotaWaits atomic.Int64
	roomMade   chan struct{}

	heldMu sync.Mutex
	held   map[*Delivery]struct{} // delivered and not settled: the heartbeat marks them
	// waits holds the deliveries whose journeys wait for a time, and runs each when due.
	waits *waits.Queue[*Delivery]
	// work counts the deliveries being handled or waiting: Run returns once none is left.
	work sync.WaitGroup
	// resumed runs a continuation under the Recover middleware.
	resumed Handler
}

// NewInstaller checks the configuration; Run does the work. It returns an error wrapping
// ErrInvalidOption that names a bad field.
func NewInstaller(js jetstream.JetStream, api API, cfg Config) (*Installer, error) {
	if js == nil {
		return nil, invalidOption("JetStream is nil")
	}
	if s := api.Missing(); s != "" {
		return nil, invalidOption("API." + s + " is nil")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	in := &Installer{
		js:       js,
		api:      api,
		cfg:      cfg,
		clock:    cfg.Clock,
		server:   cfg.ServerClock,
		log:      cfg.Logger,
		subjects: cfg.Subjects,
		pub:      events.NewPublisher(js, cfg.Subjects, cfg.Source, events.WithClock(cfg.Clock)),
		instance: uuid.NewString()[:8],
		slots:    make(chan struct{}, cfg.Concurrency),
		draining: make(chan struct{}),
		roomMade: make(chan struct{}, 1),
		held:     map[*Delivery]struct{}{},
	}
	if in.server == nil {
		in.sampled = servertime.New(js, cfg.Clock, "KV_"+cfg.Bucket, servertime.WithLogger(cfg.Logger))
		in.server = in.sampled
	}
	in.journeys = journey.New(api, journey.Config{
		Subjects: cfg.Subjects,
		CheckOutcomes: func(requestID string, r *events.Request) error {
			return calls.CheckOutcomes(in.pub, requestID, r)
		},
		OrderWindow:     cfg.OrderWindow,
		OrderRetry:      cfg.OrderRetry,
		PollInterval:    cfg.PollInterval,
		MaxPollInterval: cfg.MaxPollInterval,
		JourneyTimeout:  cfg.JourneyTimeout,
		Credentials:     cfg.Credentials,
		Limiter:         cfg.Limiter,
		Clock:           cfg.Clock,
		Now:             in.now,
	})
	h := Handler(in.handleMessage)
	for i := len(cfg.Middleware) - 1; i >= 0; i-- {
		h = cfg.Middleware[i](h)
	}
	in.handler = Recover(in.log)(h)
	in.waits = waits.New(cfg.Clock, in.resume)
	in.resumed = Recover(in.log)(func(_ context.Context, d *Delivery) error {
		next := d.next
		d.next = nil
		return next.run(next.ctx)
	})
	return in, nil
}

// Ready reports whether the installer is connected and consuming (for /readyz).
func (in *Installer) Ready() bool {
	return in.ready.Load() && in.js.Conn().IsConnected()
}

// now is the time on the NATS server's clock: every time a journey records or compares.
// Waits and call deadlines are durations on the local clock (in.clock).
// isDraining reports whether Run's context has ended: no step starts any more.
func (in *Installer) isDraining() bool {
	select {
	case <-in.draining:
		return true
	default:
		return false
	}
}

func (in *Installer) now() time.Time { return in.server.Now().UTC() }

// ackWaitOf is the ack wait of the consumer, which heartbeats and leases keep to.
func (in *Installer) ackWaitOf() time.Duration { return time.Duration(in.ackWait.Load()) }

// Run creates the streams, the journey bucket and the durable consumer when missing
// (existing ones are left as they are), trying again while JetStream is not ready to
// answer (a cluster starting or electing leaders; Ready reports false meanwhile), reads
// the NATS server's clock unless Config.ServerClock is set, then consumes until ctx
// ends. It then stops
// fetching, lets running steps finish within DrainTimeout, hands waiting journeys back
// to JetStream (another instance resumes them from their recorded state), and returns
// nil. A provisioning or order POST under way is never cut, even past DrainTimeout (the
// next instance would send it again): Run waits for its answer to be recorded, at most
// the call's own timeout (the client's, OrderRetry.CallTimeout) and a state write more. While it runs, a consumer that stops delivering (its pull requests no longer
// answered after a node was lost, or the consumer deleted) is obtained again, and created
// again if missing; Ready reports false until it delivers again.
// It returns an error when setting up fails for good (a stream whose subjects
// overlap another's, a permission denied, a server that does not stamp its answers with
// its time), when ctx ends before it is set up (wrapping
// ctx's error), or when the NATS connection is closed under it (wrapping
// nats.ErrConnectionClosed).
func (in *Installer) Run(ctx context.Context) error {
	if !in.running.CompareAndSwap(false, true) {
		return errors.New("installer: Run called twice")
	}
	cons, err := in.setupRetrying(ctx)
	if err != nil {
		return err
	}
	stopSampling, err := in.sampleServerClock(ctx)
	if err != nil {
		return err
	}
	defer stopSampling()
	// Steps run on a context that outlives ctx by at most DrainTimeout.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopHeartbeat := make(chan struct{})
	heartbeatDone := make(chan struct{})
	go func() { in.heartbeat(stopHeartbeat); close(heartbeatDone) }()
	defer func() { close(stopHeartbeat); <-heartbeatDone }()
	runErr := in.consume(ctx, cons, func(msg jetstream.Msg) {
		in.work.Go(func() { in.deliver(work, msg) })
	})
	in.ready.Store(false)
	close(in.draining)
	in.log.Info("draining", "timeout", in.cfg.DrainTimeout)
	// Every waiting journey's message is handed back at once.
	for _, d := range in.waits.Drain() {
		in.nak(d, 0)
		in.work.Done()
	}
	finished := make(chan struct{})
	go func() { in.work.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-in.clock.After(in.cfg.DrainTimeout):
		in.log.Warn("drain timeout: cutting look-ups, polls and waits; their messages will be redelivered. " +
			"Provisioning and order POSTs under way are waited for, until their answers are recorded")
		cancelWork()
		<-finished
	}
	return runErr
}

// deliver runs the handler on one message and settles whatever the handler left.
func (in *Installer) deliver(ctx context.Context, msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		in.log.Error("message without JetStream metadata", "subject", msg.Subject(), "error", err)
		_ = msg.Term()
		in.unstarted.Add(-1)
		in.makeRoom()
		return
	}
	d := &Delivery{Msg: msg, meta: meta, in: in}
	in.hold(d)
	in.settleRest(ctx, d, in.handler(ctx, d))
}

// resume runs the rest of a delivery's journey once its wait is over (the waits queue's
// dispatch), and settles whatever it left, as deliver does.
func (in *Installer) resume(d *Delivery) {
	defer in.work.Done()
	ctx := d.next.ctx
	in.settleRest(ctx, d, in.resumed(ctx, d))
}

// settleRest settles what a handler (or the rest of its journey, after a wait) left of a
// delivery: a journey that waits for a time goes to the queue of waits, counted in work
// until it runs or is handed back; anything else unsettled is settled by err.
func (in *Installer) settleRest(ctx context.Context, d *Delivery, err error) {
	d.begin()
	meta := d.meta
	if next := d.next; next != nil {
		if err == nil && !d.Settled() {
			d.forgetEvent()
			in.work.Add(1)
			if in.waits.After(next.after, d) {
				return
			}
			in.work.Done()
			err = ErrDraining
		}
		d.next = nil
	}
	defer in.release(d)
	if d.Settled() {
		if err != nil {
			in.log.Warn("after settling", "seq", meta.Sequence.Stream, "error", err)
		}
		return
	}
	switch {
	case errors.Is(err, ErrDraining), ctx.Err() != nil:
		// Handed back at once: another instance may resume it from its recorded state.
		in.nak(d, 0)
	case err != nil && in.outage(err):
		delay := in.retryDelay(meta.NumDelivered)
		in.log.Warn("delivery will be retried", "seq", meta.Sequence.Stream, "delivery", meta.NumDelivered, "after", delay, "error", err)
		in.nak(d, delay)
	case err != nil:
		in.fault(ctx, d, err)
	default:
		in.fault(ctx, d, errors.New("the handler left its message unsettled"))
	}
}

// retryDelay backs off redeliveries of a message that keeps failing, as the order's retry
// policy backs off the calls of a journey (a journey at its order is among them).
func (in *Installer) retryDelay(delivered uint64) time.Duration {
	return in.cfg.OrderRetry.BackoffAfter(delivered)
}

// handleMessage is the innermost handler: it reads the message as a CloudEvent and runs
// its journey, or dead-letters it.
func (in *Installer) handleMessage(ctx context.Context, d *Delivery) error {
	ev, err := d.Event()
	if err != nil {
		return in.deadLetter(ctx, d, err.Error())
	}
	if ev.Type() != in.subjects.Requested() {
		return in.deadLetter(ctx, d, fmt.Sprintf("event type %q is not %q", ev.Type(), in.subjects.Requested()))
	}
	if err := events.CheckRequestEvent(ev); err != nil {
		return in.deadLetter(ctx, d, err.Error())
	}
	return in.runJourney(ctx, d, ev)
}

// deadLetter copies the message to the dead-letter subject byte for byte and terminates
// it; if the copy fails, the message is naked and tried again.
func (in *Installer) deadLetter(ctx context.Context, d *Delivery, reason string) error {
	if err := in.pub.DeadLetter(ctx, d.Msg.Headers(), d.Msg.Data(), reason); err != nil {
		return fmt.Errorf("dead-letter message %d: %w", d.meta.Sequence.Stream, err)
	}
	in.observeOutcome(ctx, OutcomeInfo{Kind: OutcomeDeadLettered})
	in.log.Warn("dead-lettered a message", "seq", d.meta.Sequence.Stream, "reason", reason)
	return d.Term(reason)
}

// messageExists reports whether the request message at seq is still in the stream, i.e.
// will be delivered again until its journey ends.
func (in *Installer) messageExists(ctx context.Context, seq uint64) (bool, error) {
	_, err := in.requests.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up request message %d: %w", seq, err)
	}
	return true, nil
}
