// Package handlers runs the install journeys of the Atlassian installer: it consumes
// atlassian.install.requested CloudEvents from the INSTALL_REQUESTS stream and takes each
// request through the install cookbook, publishing ordered, provisioned or failed events.
//
//	c, _ := client.NewClient(client.WithAPIKey(key))
//	in, err := handlers.NewInstaller(js, handlers.API{
//		Installations: c.Installations, Commerce: c.Commerce, Workspaces: c.Workspaces,
//	}, handlers.Config{Concurrency: 64})
//	err = in.Run(ctx) // until ctx ends, then drains
//
// # Journeys
//
// Package journey decides every step (what to call, what to record, when to wait, how a
// journey ends); this package is its runtime: it consumes, settles, leases, heartbeats,
// holds concurrency slots, writes each record a decision carries before anything else, and
// publishes the outcomes.
//
// Products: billing from the first parent entitlement when the request has none; on an
// existing site with a Jira-family product, the site's Jira family container (workspaces
// query, then entitlement details); provisioning; the order at once, in the same step.
// Apps: the product ARI (given, or the workspace of typeKey hostProduct on the site); the
// host's entitlement and its details (billing, billing anchor, and the dependence: the
// FAMILY_CONTAINER relation, else the host's own entitlement); app provisioning; the order
// at once. Then the provisioning status is polled, the interval doubling from
// PollInterval up to MaxPollInterval, and once it has finished the order, until both
// have finished or JourneyTimeout has passed. Reading the order only then keeps the
// orders API's rate limit, which order creation shares, free for new orders.
//
// # State
//
// Each request has one record.State in the INSTALL_JOURNEYS KV bucket under record.Key(request id),
// written only by compare-and-set. A step's effect is preceded by a record of it
// (provisioning started, order about to be sent) and followed by a record of its answer,
// so a redelivered message resumes at the last recorded step: provisioning whose answer
// was lost is sent once more; an order whose answer was lost is sent again with the same
// orderId (record.OrderID, derived from the request id) while the order window is open, and only
// read afterwards. A lost CAS means someone else progressed: the state is read again.
// A lease in the state, of 2×AckWait, keeps two deliveries of one message (a
// redelivery after a lapse of the heartbeat) from running a step at once.
// A second message with the same request id is acked at once while the journey's own
// message is still in the stream (it takes the journey over once that one is gone); once
// the journey is over it is acked without any Atlassian call, re-publishing the outcome
// only if it had never been published. The same id from another source is a collision:
// dead-lettered, the first journey untouched.
//
// # Time
//
// Every time a journey records or compares (CreatedAt for JourneyTimeout, ProvisionSentAt
// for the order window, OrderSentAt, Lease.Until, CompletedAt) is on the NATS server's
// clock, Config.ServerClock: records written by one instance are read by another, whose
// own clock may be minutes off. By default it is estimated from the time stamps of the
// stream info answers of the journeys' bucket (internal/servertime), sampled before Run
// consumes and every 30s, then carried forward on the local monotonic clock, and moved up
// to the stamp of any journey record read that is ahead of it; its error is half a
// sample's round trip, inside the order window's margin. A KV write's answer
// carries no time, so the records' own stamps would each cost a read-back and still leave
// "now" to estimate. Waits, call deadlines and the drain are durations on Config.Clock.
//
// # Consuming
//
// Run sets up while JetStream cannot answer yet (a cluster starting, leaders being
// elected), trying again with capped back-off. Pull requests expire after 5s with
// heartbeats, so one lost with a NATS node is replaced within seconds; when the consumer
// stops delivering (missing heartbeats, the consumer deleted) it is obtained again, or
// created again, and Ready reports false until then.
//
// # Settlement
//
// Ack once the outcome is published; NakWithDelay for what may succeed later (a NATS
// outage, a panic, the drain); Term after dead-lettering a message that is not a request
// CloudEvent. While a journey holds its message, also while it waits between polls, the
// message is marked in progress every AckWait/3, by one ticker for all held messages. A
// journey that waits for a time holds no goroutine: its delivery goes to the installer's
// queue of waits (internal/waits), which runs the journey's next step when it is due and
// hands every waiting message back at once when the installer drains.
// Concurrency slots are held only while a step runs, and given back while one of its calls
// waits for a turn of the API's quota (Config.Limiter; a provisioning step takes its
// order's turn so, before it provisions).
// A delivery that fails other than by an outage or the drain is a fault (see
// MaxFaults): after MaxFaults at one step the journey ends internal_error, and a
// message without a journey is dead-lettered. The drain cuts look-ups, polls and waits at
// DrainTimeout, never a provisioning or order POST under way, nor a state write.
//
// # Errors
//
// 401 unauthorized, 403 forbidden, 404 not_found, 429 (after the client's own retries)
// rate_limited, other API errors and transport errors api_error (retryable for 5xx and
// transport errors), order 400/409/422 order_rejected, provisioning FAILED/TIMED_OUT/
// CANCELLED provision_failed, order item FAILED/REJECTED/CANCELLED order_failed.
// Transient errors (429, 5xx, transport) are handled by where they happen: before
// anything was provisioned, in look-ups and the provisioning request, they fail the
// journey at once as retryable (a provisioning request that may have arrived is never
// sent again); once provisioning was answered, the order is re-sent with its orderId
// after Config.OrderRetry's Wait (or the Retry-After the API named, if longer) while the
// window is open, and status polls simply try again at the next round; JourneyTimeout
// bounds both (deadline_exceeded). The order call, the client's retries included (the
// policy's attempts and back-off), has a deadline at the window's end less a tenth of it
// (at most 30s), or after the policy's CallTimeout, whichever comes first. An order that may have been placed (a call
// that failed after an attempt that may have been processed, or a journey resumed at
// StepOrdering) is read: found, it is announced; not seen (a 404 included: reads may lag),
// it is sent again with its orderId while the window allows, then read with back-off,
// the provisioning polled meanwhile, until JourneyTimeout, when it is read once more. Only
// a call whose every attempt was refused with 429 or never connected (client.Unprocessed)
// takes the journey back before the order. An accepted order is announced (ordered) even
// past JourneyTimeout, and once an order may exist a failure is not retryable: a new
// request could buy a second time.
//
// A step that ends the journey builds a journey.Failure (stage, code, message, retryable,
// the API's status), never the failed event itself: one function of package journey turns
// it into the failed event, adding what the journey's record knows (requestId, orgId, and the orderId
// and provisionRequestId once known; for a request that did not validate, its field
// errors, as many as fit).
//
// # Observers
//
// Telemetry hooks in from the outside, so that journey code imports none of it: a
// Middleware around every delivery, Config.Observe told of every step (StepObserver),
// Config.OnFault of every faulty delivery (FaultObserver), and Config.OnOutcome of every
// outcome event and dead letter published (OutcomeObserver), with a failed event's stage
// and code, and never for a publication JetStream found a duplicate.
package handlers
