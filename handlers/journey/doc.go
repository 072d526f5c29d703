// Package journey decides the steps of an install request's journey. A step is a function
// of the journey's record (handlers/record), the clock and the Atlassian API: it may call the
// API, and returns a Decision for the runtime (package handlers) to act on:
//
//   - Advance: write the record, then take the next step at once. A record that announces an
//     effect (provisioning about to be sent, the order about to be sent) is written before
//     the step that carries the effect out, which the runtime takes even while draining
//     (Run.EffectDue).
//   - Wait: write the record if any, then take the next step later (status polls, with
//     back-off from PollInterval to MaxPollInterval).
//   - Retry: the same step again later; nothing happened that needs recording, or what did
//     is in the record.
//   - End: write the record, which holds the outcome, for the runtime to publish.
//
// The runtime holds each journey between steps in a Run, and tells a step whether its
// record is the one the last Advance wrote (Run.Advanced) or was read back from the store,
// when an effect's answer may have been lost: provisioning is then sent once more (at most
// twice in all), and the order re-sent with the same orderId while the window allows (its
// lease recorded first), then only read.
//
// The package imports no NATS and settles no message: its decisions are tested against the
// sandbox alone, and simulated.
//
//	j := journey.New(journey.ClientAPI(c), cfg)
//	r := &journey.Run{ID: ev.ID(), Record: j.Start(ev, seq), Log: log}
//	d, err := j.Step(ctx, r) // write d.Record, then act on d.Kind
package journey
