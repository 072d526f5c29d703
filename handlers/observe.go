package handlers

import (
	"context"
	"log/slog"

	"github.com/procurement/atlassian-installer/handlers/record"
)

// StepInfo names the step a StepObserver is told about.
type StepInfo struct {
	RequestID string
	Name      string // one of the record.StepName constants: record.Step.Name, or publish_ordered
}

// StepObserver is called as each journey step starts, once it holds its concurrency
// slot (publish_ordered holds none: outcomes never wait for a slot). The step runs on the returned context, and end is called with the step's result.
// Tracing and metrics hook in here (Config.Observe), so that journey code imports neither.
// It must be safe for concurrent use.
type StepObserver func(ctx context.Context, s StepInfo) (_ context.Context, end func(error))

// observed wraps a step function with the configured StepObserver, if any.
func (j *run) observed(name string, f func(context.Context) error) func(context.Context) error {
	obs := j.in.cfg.Observe
	if obs == nil {
		return f
	}
	return func(ctx context.Context) error {
		ctx, end := obs(ctx, StepInfo{RequestID: j.r.ID, Name: name})
		err := f(ctx)
		end(err)
		return err
	}
}

// What an OutcomeObserver is told was published (OutcomeInfo.Kind).
const (
	OutcomeOrdered      = "ordered"       // an ordered event: Atlassian accepted the order
	OutcomeProvisioned  = "provisioned"   // a provisioned event
	OutcomeFailed       = "failed"        // a failed event, whose stage and code are told
	OutcomePlanned      = "planned"       // a dry run's planned event
	OutcomeDeadLettered = "dead_lettered" // a message copied to the dead-letter subject
)

// OutcomeInfo is what the installer published, as an OutcomeObserver is told of it.
type OutcomeInfo struct {
	Kind      string // one of the Outcome constants
	RequestID string // empty for a dead letter
	// Stage and Code are a failed event's (events.Stage…, events.Code…).
	Stage, Code string
}

// OutcomeObserver is told of each outcome event and dead letter the installer publishes,
// once per publication JetStream stored: an outcome published again that JetStream found a
// duplicate (the same event id) is not told again. Journey metrics hook in here
// (Config.OnOutcome), so that they need not read the events back. It must be safe for
// concurrent use and return quickly.
type OutcomeObserver func(ctx context.Context, o OutcomeInfo)

// publish publishes a journey's outcome event and tells the OutcomeObserver, unless
// JetStream already held it.
func (in *Installer) publish(ctx context.Context, requestID, eventType string, data any, traceparent string, o OutcomeInfo) error {
	e, err := in.pub.NewOutcome(requestID, eventType, data, traceparent)
	if err != nil {
		return err
	}
	duplicate, err := in.pub.Publish(ctx, e)
	if err != nil {
		return err
	}
	if !duplicate {
		in.observeOutcome(ctx, o)
	}
	return nil
}

func (in *Installer) observeOutcome(ctx context.Context, o OutcomeInfo) {
	if in.cfg.OnOutcome != nil {
		in.cfg.OnOutcome(ctx, o)
	}
}

// outcomeInfo is what an OutcomeObserver is told of a journey's final outcome.
func outcomeInfo(requestID string, out *record.Outcome) OutcomeInfo {
	switch {
	case out.Failed != nil:
		return OutcomeInfo{Kind: OutcomeFailed, RequestID: requestID, Stage: out.Failed.Stage, Code: out.Failed.Code}
	case out.Planned != nil:
		return OutcomeInfo{Kind: OutcomePlanned, RequestID: requestID}
	}
	return OutcomeInfo{Kind: OutcomeProvisioned, RequestID: requestID}
}

// journeyLogger is the logger of one delivery's journey. Journey code logs without a
// context, so the delivery's context is bound to every record: a context-aware handler
// (trace and span ids, set by middleware) sees it.
func journeyLogger(ctx context.Context, base *slog.Logger, requestID string) *slog.Logger {
	return slog.New(boundContext{ctx: ctx, next: base.Handler()}).With("request_id", requestID)
}

// boundContext hands its records to next with a fixed context.
type boundContext struct {
	ctx  context.Context
	next slog.Handler
}

func (b boundContext) Enabled(_ context.Context, l slog.Level) bool { return b.next.Enabled(b.ctx, l) }

func (b boundContext) Handle(_ context.Context, r slog.Record) error { return b.next.Handle(b.ctx, r) }

func (b boundContext) WithAttrs(as []slog.Attr) slog.Handler {
	return boundContext{ctx: b.ctx, next: b.next.WithAttrs(as)}
}

func (b boundContext) WithGroup(name string) slog.Handler {
	return boundContext{ctx: b.ctx, next: b.next.WithGroup(name)}
}
