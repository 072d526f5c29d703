// Package events holds what travels over NATS: the stream and subject names, the schema and
// validation of install requests, the outcome event data, and the CloudEvents NATS protocol
// binding (binary and structured mode in, binary mode out), and the published API: the JSON
// Schemas of the request and outcome data and the AsyncAPI document of the channels (Schemas),
// each outcome naming its data's schema as dataschema (DataSchema).
//
// Reading a request:
//
//	e, err := events.FromNATS(msg.Headers(), msg.Data())
//	if errors.Is(err, events.ErrNotCloudEvent) {
//		return pub.DeadLetter(ctx, msg.Headers(), msg.Data(), err.Error())
//	}
//	req, err := events.RequestFromEvent(e, time.Now()) // *ValidationError lists the wrong fields
//
// Publishing an outcome, with a deterministic id, Nats-Msg-Id and the request's trace:
//
//	s := events.NewSubjects("atlassian")
//	_ = events.EnsureStreams(ctx, js, s, 1)
//	pub := events.NewPublisher(js, s, events.DefaultSource)
//	_, err = pub.PublishOutcome(ctx, e.ID(), s.Ordered(), events.Ordered{RequestID: e.ID()}, events.Traceparent(e))
package events
