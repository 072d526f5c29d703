package journeysim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/calls"
	"github.com/procurement/atlassian-installer/handlers/journey"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// The runtime's settings, as the installer's defaults.
const (
	ackWait         = 30 * time.Second
	maxFaults       = 5 // handlers.MaxFaults
	pollInterval    = 5 * time.Second
	maxPollInterval = time.Minute
	saveRetryWait   = 250 * time.Millisecond
	instances       = 2
	maxCrashes      = 4
	maxStalls       = 3
	drainTimeout    = 25 * time.Second
	// maxActions bounds a run: a journey takes a few dozen; one that does not end by then
	// loops.
	maxActions = 20000
)

// orderRetry is the installer's default order retry policy, but one attempt per call: the
// simulated API answers each call once, its faults drawn per call.
var orderRetry = calls.OrderRetry{Attempts: 1}.WithDefaults(pollInterval, maxPollInterval)

// Rules of the runtime the simulation itself checks.
const (
	RuleEnds    = "nothing loops forever"
	RuleNoPanic = "no step panics"
)

// RequestID is the id of every run's request.
const RequestID = "req-1"

// Result is what a run did and which rules it broke.
type Result struct {
	Seed       uint64
	Scenario   Scenario
	Violations []Violation
	Trace      *Trace
	Actions    int
	// Crashes are the crash points the run crashed at.
	Crashes []string
	Outcome string // the terminal event's type, "" when none
	Writes  int    // the journey record writes applied
}

// Run simulates the journey of one request from seed: the scenario, every fault, crash and
// interleaving are drawn from it, so that a seed replays exactly.
func Run(seed uint64) Result {
	w := newWorld(seed)
	w.loop()
	vs := append(Check(RequestID, w.subjects, w.scenario.OrderWindow, w.atlassian, w.events), w.problems...)
	out := ""
	for _, m := range w.events.Messages {
		if m.Type != w.subjects.Ordered() {
			out = m.Type
		}
	}
	return Result{Seed: seed, Scenario: w.scenario, Violations: vs, Trace: w.trace, Actions: w.actions, Crashes: w.crashed, Outcome: out, Writes: w.store.Writes}
}

// world is one run: the simulated Atlassian, store, outcome stream and clock, the request
// messages, and the installer instances whose deliveries run the journey.
type world struct {
	scenario  Scenario
	rnd       *rand.Rand // the runtime's choices: scheduling, crashes, stalls
	clock     *Clock
	trace     *Trace
	atlassian *Atlassian
	store     *Store
	events    *EventLog
	subjects  events.Subjects
	journey   *journey.Journey
	request   *cloudevents.Event
	start     time.Time
	log       *slog.Logger

	msgs       []*message
	insts      []*instance
	active     []*delivery
	current    *delivery // the delivery whose step is running
	crashPoint int
	crashed    []string
	stalls     int
	drains     int
	actions    int
	nextInst   int
	nextDeliv  int
	problems   []Violation
}

type msgState int

const (
	msgPending msgState = iota // to be delivered at availableAt
	msgHeld                    // held by a delivery that heartbeats
	msgDone                    // acknowledged
)

type message struct {
	seq         uint64
	state       msgState
	availableAt time.Time
	delivered   int
	holder      *delivery
}

type instance struct {
	name         string
	alive        bool
	restartAt    time.Time
	stalledUntil time.Time
	// ctx ends drainTimeout after the drain begins (Run.Drain closes); the instance exits
	// once it holds no message, or then.
	ctx      context.Context
	cancel   context.CancelFunc
	drain    chan struct{}
	draining bool
}

type phase int

const (
	phLoad phase = iota
	phClaim
	phStep
	phWrite
	phPublishOrdered
	phFinish
)

type then int

const (
	thenClaim   then = iota // take the next step (after a wait when set)
	thenAdvance             // the record announces an effect, due now
	thenFinish              // publish the outcome
)

type delivery struct {
	id       int
	recorded bool // the journey is in the store: a new one is recorded by its first decision's write
	inst     *instance
	msg      *message
	token    string
	run      *journey.Run
	rev      uint64
	phase    phase
	readyAt  time.Time
	// the write under way
	write *record.State
	then  then
	after time.Duration
	// wait is due before the next step, once an accepted order is announced.
	wait time.Duration
}

type crashSignal struct{}

func newWorld(seed uint64) *world {
	start := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	scen := drawScenario(rand.New(rand.NewPCG(seed, 1)))
	w := &world{
		scenario: scen,
		rnd:      rand.New(rand.NewPCG(seed, 2)),
		clock:    NewClock(start),
		trace:    NewTrace(start),
		events:   &EventLog{DupWindow: events.DuplicateWindow},
		start:    start,
		log:      slog.New(slog.DiscardHandler),
	}
	w.atlassian = NewAtlassian(w.clock, rand.New(rand.NewPCG(seed, 3)), scen.Atlassian, scen.OrderWindow, w.trace)
	w.atlassian.afterEffect = w.crashInsideEffect
	w.store = NewStore(w.clock, rand.New(rand.NewPCG(seed, 4)), scen.StoreConflicts, w.trace)
	w.journey = journey.New(journey.API{
		Installations: w.atlassian.Installations(),
		Commerce:      w.atlassian.Commerce(),
		Workspaces:    w.atlassian.Workspaces(),
	}, journey.Config{
		Subjects:        w.subjects,
		CheckOutcomes:   func(string, *events.Request) error { return nil },
		OrderWindow:     scen.OrderWindow,
		OrderRetry:      orderRetry,
		PollInterval:    pollInterval,
		MaxPollInterval: maxPollInterval,
		JourneyTimeout:  scen.JourneyTimeout,
		Clock:           w.clock,
		Now:             w.clock.Now,
	})
	w.request = scen.requestEvent(RequestID, w.subjects, start)
	w.msgs = append(w.msgs, &message{seq: 1, availableAt: start})
	if scen.Duplicate {
		w.msgs = append(w.msgs, &message{seq: 2, availableAt: start.Add(scen.DuplicateAt)})
	}
	for range instances {
		w.insts = append(w.insts, w.newInstance())
	}
	w.trace.Add(start, "scenario: %+v", scen)
	return w
}

func (w *world) newInstance() *instance {
	w.nextInst++
	ctx, cancel := context.WithCancel(context.Background())
	return &instance{name: fmt.Sprintf("i%d", w.nextInst), alive: true, ctx: ctx, cancel: cancel, drain: make(chan struct{})}
}

func (w *world) now() time.Time { return w.clock.Now() }

// loop runs actions of the ready deliveries, one at a time in an order drawn from the
// seed, moving the clock to the next thing due whenever none is ready, until every
// message is acknowledged and no delivery runs.
func (w *world) loop() {
	for ; ; w.actions++ {
		if w.finished() {
			return
		}
		if w.actions >= maxActions || w.now().Sub(w.start) > w.scenario.JourneyTimeout+6*time.Hour {
			w.problem(RuleEnds, "the run has not ended after %d actions and %s", w.actions, w.now().Sub(w.start))
			return
		}
		w.deliverDue()
		w.exitDrained()
		ready := w.ready()
		if len(ready) == 0 {
			if !w.advance() {
				w.problem(RuleEnds, "nothing is due, and the run has not ended")
				return
			}
			continue
		}
		d := ready[w.rnd.IntN(len(ready))]
		if w.stalls < maxStalls && w.chance(w.scenario.Stall) {
			w.stall(d.inst)
			continue
		}
		if w.drains < 1 && !d.inst.draining && w.chance(w.scenario.Drain) {
			w.beginDrain(d.inst)
			continue
		}
		w.act(d)
		if w.rnd.IntN(4) == 0 { // the time an action takes
			w.clock.AdvanceTo(w.now().Add(time.Duration(w.rnd.Int64N(int64(2 * time.Second)))))
		}
	}
}

func (w *world) chance(p float64) bool { return p > 0 && w.rnd.Float64() < p }

func (w *world) finished() bool {
	if len(w.active) > 0 {
		return false
	}
	for _, m := range w.msgs {
		if m.state != msgDone {
			return false
		}
	}
	return true
}

func (w *world) problem(rule, format string, args ...any) {
	w.problems = append(w.problems, Violation{rule, fmt.Sprintf(format, args...)})
	w.trace.Add(w.now(), "VIOLATION %s: "+format, append([]any{rule}, args...)...)
}

// deliverDue hands every message due to a live instance.
func (w *world) deliverDue() {
	for _, m := range w.msgs {
		if m.state != msgPending || m.availableAt.After(w.now()) {
			continue
		}
		var live []*instance
		for _, in := range w.insts {
			if in.alive && !in.draining && !in.stalledUntil.After(w.now()) {
				live = append(live, in)
			}
		}
		if len(live) == 0 {
			return
		}
		in := live[w.rnd.IntN(len(live))]
		m.delivered++
		w.nextDeliv++
		d := &delivery{id: w.nextDeliv, inst: in, msg: m, token: fmt.Sprintf("%s/%d/%d", in.name, m.seq, m.delivered),
			run: &journey.Run{ID: RequestID, Log: w.log, Drain: in.drain}, readyAt: w.now()}
		m.state, m.holder = msgHeld, d
		w.active = append(w.active, d)
		w.trace.Add(w.now(), "%s: message %d delivered (delivery %d)", d.token, m.seq, m.delivered)
	}
}

func (w *world) ready() []*delivery {
	var out []*delivery
	for _, d := range w.active {
		if d.inst.alive && !d.inst.stalledUntil.After(w.now()) && !d.readyAt.After(w.now()) {
			out = append(out, d)
		}
	}
	return out
}

// advance moves the clock to the next thing due: a delivery's wait, a stall's end, a
// restart, a message's (re)delivery, a timer; false when nothing is.
func (w *world) advance() bool {
	var next time.Time
	consider := func(t time.Time) {
		if t.After(w.now()) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, d := range w.active {
		if d.inst.alive {
			consider(d.readyAt)
			consider(d.inst.stalledUntil)
		}
	}
	for _, in := range w.insts {
		if !in.alive {
			consider(in.restartAt)
		}
	}
	for _, m := range w.msgs {
		if m.state == msgPending {
			consider(m.availableAt)
		}
	}
	if t, ok := w.clock.Next(); ok {
		consider(t)
	}
	if next.IsZero() {
		return false
	}
	w.clock.AdvanceTo(next)
	for i, in := range w.insts {
		if !in.alive && !in.restartAt.After(w.now()) {
			w.insts[i] = w.newInstance()
			w.trace.Add(w.now(), "%s: started", w.insts[i].name)
		}
	}
	return true
}

// stall stops an instance for a while; past the ack wait, its messages are delivered
// again while it still holds them.
func (w *world) stall(in *instance) {
	w.stalls++
	d := time.Second + time.Duration(w.rnd.Int64N(int64(3*ackWait)))
	in.stalledUntil = w.now().Add(d)
	w.trace.Add(w.now(), "%s: stalls for %s", in.name, d)
	if d <= ackWait {
		return
	}
	for _, dl := range w.active {
		if dl.inst == in && dl.msg.holder == dl && dl.msg.state == msgHeld {
			dl.msg.state, dl.msg.holder, dl.msg.availableAt = msgPending, nil, w.now().Add(ackWait)
		}
	}
}

// beginDrain starts the graceful stop of an instance: no step starts any more but one
// whose effect the record just written announces (journey.Run.EffectDue), its waiting
// deliveries are handed back at once, and its context ends drainTimeout later.
func (w *world) beginDrain(in *instance) {
	w.drains++
	in.draining = true
	close(in.drain)
	w.clock.AfterFunc(drainTimeout, in.cancel)
	w.trace.Add(w.now(), "%s: drains", in.name)
	for _, d := range slices.Clone(w.active) {
		if d.inst == in && d.readyAt.After(w.now()) {
			w.settle(d, false, 0)
		}
	}
}

// exitDrained stops the draining instances that hold no delivery any more, or whose context
// ended: what they still held vanishes, as at a crash.
func (w *world) exitDrained() {
	for _, in := range w.insts {
		if !in.alive || !in.draining {
			continue
		}
		holds := false
		for _, d := range w.active {
			holds = holds || d.inst == in
		}
		if holds && in.ctx.Err() == nil {
			continue
		}
		w.trace.Add(w.now(), "%s: exits", in.name)
		w.stop(in)
	}
}

// crash reports whether the instance running d crashes at this crash point, and if so
// kills it: its deliveries vanish unsettled, their messages come again after the ack
// wait, and a new instance starts a little later.
func (w *world) crash(d *delivery, point string) bool {
	w.crashPoint++
	if len(w.crashed) >= maxCrashes || !(w.crashPoint == w.scenario.CrashAt || w.chance(w.scenario.Crash)) {
		return false
	}
	w.crashed = append(w.crashed, point)
	w.trace.Add(w.now(), "%s: CRASH %s", d.token, point)
	w.stop(d.inst)
	return true
}

// stop ends an instance: its deliveries vanish unsettled, their messages come again after
// the ack wait, and a new instance starts within a minute.
func (w *world) stop(in *instance) {
	in.alive, in.restartAt = false, w.now().Add(time.Duration(w.rnd.Int64N(int64(time.Minute))))
	in.cancel()
	kept := w.active[:0]
	for _, dl := range w.active {
		if dl.inst != in {
			kept = append(kept, dl)
			continue
		}
		if dl.msg.holder == dl && dl.msg.state == msgHeld {
			dl.msg.state, dl.msg.holder, dl.msg.availableAt = msgPending, nil, w.now().Add(ackWait)
		}
	}
	w.active = kept
}

// crashInsideEffect is called by the simulated Atlassian once it has applied a POST, before
// its answer reaches the journey.
func (w *world) crashInsideEffect(what string) {
	if w.current != nil && w.crash(w.current, "inside "+what+", applied, before its answer") {
		panic(crashSignal{})
	}
}

// settle ends a delivery: its message acknowledged, or delivered again after delay.
func (w *world) settle(d *delivery, ack bool, delay time.Duration) {
	switch {
	case ack:
		d.msg.state, d.msg.holder = msgDone, nil
		w.trace.Add(w.now(), "%s: ack", d.token)
	case d.msg.holder == d:
		d.msg.state, d.msg.holder, d.msg.availableAt = msgPending, nil, w.now().Add(delay)
		w.trace.Add(w.now(), "%s: nak, again in %s", d.token, delay)
	}
	for i, dl := range w.active {
		if dl == d {
			w.active = append(w.active[:i], w.active[i+1:]...)
			break
		}
	}
}

// retryDelay backs off redeliveries as the installer does (handlers' retryDelay).
func retryDelay(delivered int) time.Duration {
	return orderRetry.BackoffAfter(uint64(delivered))
}

// act runs the delivery's next action.
func (w *world) act(d *delivery) {
	switch d.phase {
	case phLoad:
		w.load(d)
	case phClaim:
		w.claim(d)
	case phStep:
		w.step(d)
	case phWrite:
		w.writeRecord(d)
	case phPublishOrdered:
		w.publishOrdered(d)
	case phFinish:
		w.finish(d)
	}
}

// load reads the journey's record; a request seen for the first time starts its journey,
// recorded by its first write.
func (w *world) load(d *delivery) {
	st, rev, err := w.store.Get(RequestID)
	if err != nil {
		w.problem(RuleNoPanic, "the record does not load: %v", err)
		w.settle(d, true, 0)
		return
	}
	d.recorded = st != nil
	if st == nil {
		st = w.journey.Start(w.request, d.msg.seq)
	}
	d.run.Record, d.run.Advanced, d.rev = st, false, rev
	d.phase = phClaim
}

// claim is the handlers runtime's: a second message for a journey whose own message lives
// is acknowledged, or takes the journey over once that one is gone; a lease another
// delivery holds sends the message back until it lapses.
func (w *world) claim(d *delivery) {
	st := d.run.Record
	if st.Terminal() {
		d.phase = phFinish
		w.finish(d)
		return
	}
	if st.OwnerSeq != d.msg.seq {
		if owner := w.message(st.OwnerSeq); owner != nil && owner.state != msgDone {
			w.trace.Add(w.now(), "%s: second message for a running journey", d.token)
			w.settle(d, true, 0)
			return
		}
		st.OwnerSeq = d.msg.seq
		w.writeThen(d, st, thenClaim, 0)
		return
	}
	if l := st.Lease; l.Owner != "" && l.Owner != d.token && l.Until.After(w.now()) {
		w.settle(d, false, l.Until.Sub(w.now()))
		return
	}
	// An accepted order is announced at once, before any wait.
	if st.Order != nil && !st.IsPublished(w.subjects.Ordered()) {
		d.phase = phPublishOrdered
		return
	}
	if d.inst.draining && !d.run.EffectDue() {
		w.settle(d, false, 0)
		return
	}
	d.phase = phStep
	if d.wait > 0 {
		d.readyAt, d.wait = w.now().Add(d.wait), 0
		return
	}
	w.step(d)
}

func (w *world) message(seq uint64) *message {
	for _, m := range w.msgs {
		if m.seq == seq {
			return m
		}
	}
	return nil
}

// step takes the journey's next step and acts on its decision.
func (w *world) step(d *delivery) {
	st := d.run.Record
	d.run.Owner, d.run.LeaseFor = d.token, 2*ackWait
	from := st.Step
	dec, err, crashed := w.callStep(d)
	if crashed {
		return
	}
	d.run.Advanced = false
	if err != nil {
		w.trace.Add(w.now(), "%s: step from %s: error %v", d.token, from, err)
		if errors.Is(err, journey.ErrDraining) || d.inst.ctx.Err() != nil {
			w.settle(d, false, 0)
			return
		}
		w.fault(d, err)
		return
	}
	w.trace.Add(w.now(), "%s: step from %s: %s", d.token, from, describeDecision(dec))
	switch dec.Kind {
	case journey.Advance:
		w.writeThen(d, dec.Record, thenAdvance, 0)
	case journey.Wait, journey.Retry:
		if dec.Record != nil {
			w.writeThen(d, dec.Record, thenClaim, dec.After)
			return
		}
		d.wait, d.phase = dec.After, phClaim
	case journey.End:
		w.writeThen(d, dec.Record, thenFinish, 0)
	default:
		w.problem(RuleNoPanic, "step from %s decided nothing: %+v", from, dec)
		w.settle(d, false, retryDelay(d.msg.delivered))
	}
}

func (w *world) callStep(d *delivery) (dec journey.Decision, err error, crashed bool) {
	w.current = d
	defer func() {
		w.current = nil
		if r := recover(); r != nil {
			if _, ok := r.(crashSignal); ok {
				crashed = true
				return
			}
			w.problem(RuleNoPanic, "step from %s panicked: %v\n%s", d.run.Record.Step, r, debug.Stack())
			w.settle(d, false, retryDelay(d.msg.delivered))
			crashed = true
		}
	}()
	dec, err = w.journey.Step(d.inst.ctx, d.run)
	return dec, err, false
}

func describeDecision(d journey.Decision) string {
	kind := map[journey.Kind]string{journey.Advance: "advance", journey.Wait: "wait", journey.Retry: "retry", journey.End: "end"}[d.Kind]
	s := kind
	if d.Record != nil {
		s += " recording " + string(d.Record.Step)
		if o := d.Record.Outcome; o != nil && o.Failed != nil {
			s += fmt.Sprintf(" (failed %s/%s retryable %t: %s)", o.Failed.Stage, o.Failed.Code, o.Failed.Retryable, o.Failed.Message)
		}
	}
	if d.After > 0 {
		s += fmt.Sprintf(" then wait %s", d.After)
	}
	if d.Err != nil {
		s += fmt.Sprintf(" (%v)", d.Err)
	}
	return s
}

func (w *world) writeThen(d *delivery, st *record.State, t then, after time.Duration) {
	d.write, d.then, d.after = st, t, after
	d.phase = phWrite
}

// writeRecord writes the record a decision carries (compare-and-set; created when the
// journey is not recorded yet), with a crash before and after it; a write that fails is
// tried again, and one that was applied though it failed then meets a conflict. A conflict
// reads the record again. An accepted order the record holds is announced once it is
// written, before anything else (see publishOrdered), as the installer does.
func (w *world) writeRecord(d *delivery) {
	st := d.write
	if w.crash(d, "before writing "+string(st.Step)) {
		return
	}
	st.UpdatedAt = w.now()
	failed, applied := false, true
	if w.chance(w.scenario.StoreErrors) {
		failed, applied = true, w.rnd.IntN(2) == 0
		w.trace.Add(w.now(), "%s: writing %s fails (applied: %t)", d.token, st.Step, applied)
	}
	var rev uint64
	var err error
	if applied {
		if d.recorded {
			rev, err = w.store.Update(st, d.rev)
		} else {
			rev, err = w.store.Create(st)
		}
	}
	switch {
	case err == ErrConflict:
		w.trace.Add(w.now(), "%s: conflict writing %s: read again", d.token, st.Step)
		d.phase = phLoad
		return
	case err != nil:
		w.problem(RuleNoPanic, "writing the record: %v", err)
		w.settle(d, false, retryDelay(d.msg.delivered))
		return
	case failed:
		d.readyAt = w.now().Add(saveRetryWait)
		if applied {
			// The retry will meet the revision the failed write made.
			d.rev = 0
		}
		return
	}
	d.rev, d.run.Record, d.recorded = rev, st, true
	if w.crash(d, "after writing "+string(st.Step)) {
		return
	}
	switch d.then {
	case thenAdvance:
		d.run.Advanced = true
		d.phase = phClaim
	case thenClaim:
		d.wait, d.phase = d.after, phClaim
	case thenFinish:
		d.phase = phFinish
	}
}

type publication int

const (
	published publication = iota
	publishFailed
	publishCrashed
)

// publish publishes an outcome event, with a crash before and after it.
func (w *world) publish(d *delivery, typ string, data any) publication {
	if w.crash(d, "before publishing "+typ) {
		return publishCrashed
	}
	m := Message{At: w.now(), ID: events.EventID(RequestID, typ), Type: typ, RequestID: RequestID, Data: data}
	if w.chance(w.scenario.PublishErrors) {
		applied := w.rnd.IntN(2) == 0
		if applied {
			w.events.Publish(m)
		}
		w.trace.Add(w.now(), "%s: publishing %s fails (stored: %t)", d.token, typ, applied)
		return publishFailed
	}
	dup := w.events.Publish(m)
	w.trace.Add(w.now(), "%s: published %s (duplicate: %t)", d.token, typ, dup)
	if w.crash(d, "after publishing "+typ) {
		return publishCrashed
	}
	return published
}

// publishOrdered announces an accepted order the record holds and records that it did.
func (w *world) publishOrdered(d *delivery) {
	st := d.run.Record
	typ := w.subjects.Ordered()
	switch w.publish(d, typ, journey.Ordered(st)) {
	case publishFailed:
		w.settle(d, false, retryDelay(d.msg.delivered))
		return
	case publishCrashed:
		return
	}
	st.Published = append(st.Published, typ)
	w.writeThen(d, st, thenClaim, 0)
}

// finish records a journey not recorded yet (an outcome decided before any write),
// announces an accepted order not yet announced, publishes the outcome unless it was,
// records the publication with the compact record in the finished bucket, and
// acknowledges the message.
func (w *world) finish(d *delivery) {
	st := d.run.Record
	switch {
	case !d.recorded:
		w.writeThen(d, st, thenFinish, 0)
		return
	case st.Order != nil && !st.IsPublished(w.subjects.Ordered()):
		d.phase = phPublishOrdered
		return
	case st.IsPublished(st.Outcome.Type):
		w.settle(d, true, 0)
		return
	}
	switch w.publish(d, st.Outcome.Type, st.Outcome.Data()) {
	case publishFailed:
		w.settle(d, false, retryDelay(d.msg.delivered))
		return
	case publishCrashed:
		return
	}
	st.Published = append(st.Published, st.Outcome.Type)
	if w.crash(d, "before recording the publication of "+st.Outcome.Type) {
		return
	}
	w.store.Finish(st)
	if w.crash(d, "after recording the publication of "+st.Outcome.Type) {
		return
	}
	w.settle(d, true, 0)
}

// fault is the handlers runtime's: a step that could not decide counts a fault at its step;
// at maxFaults in a row the journey is abandoned, internal_error.
func (w *world) fault(d *delivery, cause error) {
	st, rev, err := w.store.Get(RequestID)
	if err != nil || st == nil || st.OwnerSeq != d.msg.seq {
		w.settle(d, false, retryDelay(d.msg.delivered))
		return
	}
	if st.FaultStep != st.Step {
		st.FaultStep, st.Faults = st.Step, 0
	}
	st.Faults++
	if st.Lease.Owner == d.token {
		st.Lease = record.Lease{}
	}
	delay := retryDelay(d.msg.delivered)
	if st.Faults >= maxFaults && !st.Terminal() {
		w.journey.Abandon(context.Background(), st, maxFaults, cause, w.log)
		st.FaultStep, st.Faults, delay = record.StepDone, 0, 0
	}
	st.UpdatedAt = w.now()
	if _, err := w.store.Update(st, rev); err != nil {
		w.trace.Add(w.now(), "%s: the fault could not be recorded: %v", d.token, err)
	}
	w.settle(d, false, delay)
}
