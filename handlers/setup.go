package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/events"
)

// Waits between attempts to set up while JetStream is not ready: short enough that a
// cluster still electing its leaders is used as soon as it can answer, capped so that
// an installer started long before its cluster still finds it soon after.
const (
	setupRetryFirst = 250 * time.Millisecond
	setupRetryMax   = 10 * time.Second
)

// JetStream API error codes of a cluster that cannot answer yet but will: peers not yet
// known, no meta leader, a leader being elected, an asset whose replicas are offline.
var transientAPICodes = map[jetstream.ErrorCode]bool{
	10004: true, // cluster incomplete
	10005: true, // no suitable peers for placement
	10007: true, // cluster not assigned to this server
	10008: true, // system temporarily unavailable
	10009: true, // cluster cannot handle the request (no leader)
	10118: true, // stream offline
	10119: true, // consumer offline
	10202: true, // cluster membership change in flight
}

// setupRetrying runs setup until it succeeds, retrying what a starting or failing-over
// cluster answers (timeouts, no responders, leader elections) with capped, jittered
// back-off on the installer's clock, and logging each retry. A permanent error (subjects
// overlapping another stream, a permission denied) ends it at once, as does ctx.
func (in *Installer) setupRetrying(ctx context.Context) (jetstream.Consumer, error) {
	b := newSetupBackOff()
	for attempt := 1; ; attempt++ {
		cons, err := in.setup(ctx)
		if err == nil {
			if attempt > 1 {
				in.log.Info("JetStream set up", "attempts", attempt)
			}
			return cons, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("set up JetStream: %w (gave up: %w)", err, ctx.Err())
		}
		if !in.transientJetStream(err) && !errors.Is(err, errNotYetKnown) {
			return nil, fmt.Errorf("set up JetStream: %w", err)
		}
		wait := min(b.NextBackOff(), setupRetryMax)
		in.log.Warn("JetStream not ready: setting up again", "attempt", attempt, "after", wait, "error", err)
		if err := in.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("set up JetStream: %w (gave up: %w)", err, ctx.Err())
		}
	}
}

func newSetupBackOff() *backoff.ExponentialBackOff {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     setupRetryFirst,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         setupRetryMax,
	}
	b.Reset()
	return b
}

// sleep waits d on the installer's clock, or until ctx ends.
func (in *Installer) sleep(ctx context.Context, d time.Duration) error {
	t := in.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.Chan():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// transientJetStream reports whether a JetStream API error may go away by itself. A
// request the server refused for permissions is never answered and so times out too;
// the connection's last error tells it apart.
func (in *Installer) transientJetStream(err error) bool {
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
		return false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return !errors.Is(in.js.Conn().LastError(), nats.ErrPermissionViolation)
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrJetStreamNotEnabled),
		errors.Is(err, nats.ErrDisconnected), errors.Is(err, nats.ErrConnectionReconnecting):
		// No responders: on a cluster, the JetStream API is not up yet on the node.
		return true
	case errors.As(err, &apiErr):
		return apiErr.Code == http.StatusServiceUnavailable || transientAPICodes[apiErr.ErrorCode]
	}
	return false
}

// setup ensures the streams, the KV buckets and the durable consumer, and reports what
// existing ones keep forever.
func (in *Installer) setup(ctx context.Context) (jetstream.Consumer, error) {
	if err := events.EnsureStreamsRetained(ctx, in.js, in.subjects, in.cfg.Replicas, in.cfg.Retention); err != nil {
		return nil, fmt.Errorf("ensure streams: %w", err)
	}
	kv, err := in.ensureBucket(ctx, jetstream.KeyValueConfig{
		Bucket:         in.cfg.Bucket,
		Description:    "install journeys by request id",
		Replicas:       in.cfg.Replicas,
		History:        1,
		LimitMarkerTTL: markerTTL, // allows the per-key TTL of finished journeys
	})
	if err != nil {
		return nil, err
	}
	finished, err := in.ensureBucket(ctx, jetstream.KeyValueConfig{
		Bucket:      in.cfg.FinishedBucket,
		Description: "finished install journeys by request id, compact, for recognising a request id again",
		Replicas:    in.cfg.Replicas,
		History:     1,
		TTL:         in.cfg.DuplicateHorizon,
	})
	if err != nil {
		return nil, err
	}
	requests, err := in.js.Stream(ctx, events.StreamRequests)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", events.StreamRequests, err)
	}
	ttl := in.reportLimits(ctx)
	cons, err := in.ensureConsumer(ctx, requests)
	if err != nil {
		return nil, err
	}
	in.store, in.requests = &store{kv: kv, finished: finished, js: in.js, bucket: in.cfg.Bucket, ttl: ttl}, requests
	return cons, nil
}

// markerTTL is how long the journey bucket keeps the marker of an expired key.
const markerTTL = time.Hour

// ensureBucket opens a KV bucket, creating it when missing.
func (in *Installer) ensureBucket(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	kv, err := in.js.KeyValue(ctx, cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = in.js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = in.js.KeyValue(ctx, cfg.Bucket)
		}
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamNotFound {
		// Created by another installer an instant ago, and not yet known to this server.
		return nil, fmt.Errorf("bucket %s: %w: %w", cfg.Bucket, errNotYetKnown, err)
	}
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// errNotYetKnown is a stream that a cluster's server does not know yet although it was
// created: set up again.
var errNotYetKnown = errors.New("not yet known")

// reportLimits logs a warning for each existing stream or bucket that keeps what the
// installer would have let expire, and for each subject an existing stream lacks; it changes
// none. It returns the TTL of finished journeys'
// states: zero when the journey bucket does not allow per-key TTLs, or cannot be read (a
// cluster electing a leader): a TTL the stream refuses would fail every last write.
func (in *Installer) reportLimits(ctx context.Context) time.Duration {
	config := func(stream string) (jetstream.StreamConfig, bool) {
		st, err := in.js.Stream(ctx, stream)
		if err != nil {
			in.log.Warn("cannot check the limits of a stream", "stream", stream, "error", err)
			return jetstream.StreamConfig{}, false
		}
		return st.CachedInfo().Config, true
	}
	for _, want := range events.StreamConfigs(in.subjects, in.cfg.Replicas, in.cfg.Retention) {
		if cfg, ok := config(want.Name); ok {
			for _, missing := range events.MissingLimits(cfg) {
				in.log.Warn("stream has no limit: its messages pile up; set one with nats stream edit", "stream", cfg.Name, "missing", missing)
			}
			for _, subject := range events.MissingSubjects(cfg, want.Subjects) {
				in.log.Warn("stream lacks a subject (made by an older version?): what the installer publishes there has no stream to go to, "+
					"and a journey that must publish it fails after its faults; add the subject with nats stream edit --subjects",
					"stream", cfg.Name, "missing", subject)
			}
		}
	}
	if cfg, ok := config("KV_" + in.cfg.FinishedBucket); ok && cfg.MaxAge == 0 {
		in.log.Warn("bucket has no TTL: finished journeys' records are kept forever", "bucket", in.cfg.FinishedBucket, "missing", "ttl")
	}
	cfg, ok := config("KV_" + in.cfg.Bucket)
	if !ok {
		return 0
	}
	if !cfg.AllowMsgTTL {
		in.log.Warn("bucket allows no per-key TTL: finished journeys' states are kept forever", "bucket", in.cfg.Bucket, "missing", "limit_marker_ttl")
		return 0
	}
	return in.cfg.JourneyRetention
}

// ensureConsumer looks the durable consumer up, creating it with the configured settings
// when missing. An existing consumer keeps its settings: one configuration for every
// instance, not that of whichever started last. A configuration that differs is logged,
// and the installer follows the consumer's (its heartbeats and leases keep to the
// consumer's ack wait).
func (in *Installer) ensureConsumer(ctx context.Context, requests jetstream.Stream) (jetstream.Consumer, error) {
	cons, err := requests.Consumer(ctx, in.cfg.Consumer)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		cons, err = requests.CreateConsumer(ctx, jetstream.ConsumerConfig{
			Durable:       in.cfg.Consumer,
			Description:   "install journeys",
			FilterSubject: in.subjects.Requested(),
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       in.cfg.AckWait,
			MaxDeliver:    -1,
			MaxAckPending: in.cfg.MaxAckPending,
			Replicas:      in.cfg.Replicas,
		})
		if errors.Is(err, jetstream.ErrConsumerExists) {
			cons, err = requests.Consumer(ctx, in.cfg.Consumer)
		}
		if err == nil {
			in.log.Info("consumer created", "consumer", in.cfg.Consumer)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", in.cfg.Consumer, err)
	}
	cc := cons.CachedInfo().Config
	var differ []any
	if cc.AckWait != in.cfg.AckWait {
		differ = append(differ, "ack_wait", cc.AckWait, "configured_ack_wait", in.cfg.AckWait)
	}
	if cc.MaxAckPending != in.cfg.MaxAckPending {
		differ = append(differ, "max_ack_pending", cc.MaxAckPending, "configured_max_ack_pending", in.cfg.MaxAckPending)
	}
	if differ != nil {
		in.log.Warn("the consumer's settings differ from this installer's configuration: following the consumer's "+
			"(change them for every instance with nats consumer edit)", append([]any{"consumer", in.cfg.Consumer}, differ...)...)
	}
	in.ackWait.Store(int64(cc.AckWait))
	return cons, nil
}
