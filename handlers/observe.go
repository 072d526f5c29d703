package handlers

import (
	"context"
	"log/slog"
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
func (j *journey) observed(name string, f func(context.Context) error) func(context.Context) error {
	obs := j.in.cfg.Observe
	if obs == nil {
		return f
	}
	return func(ctx context.Context) error {
		ctx, end := obs(ctx, StepInfo{RequestID: j.id, Name: name})
		err := f(ctx)
		end(err)
		return err
	}
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
