package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// perJourney counts what one journey costs in I/O, read back from the sandbox's request
// log and the streams after the run.
type perJourney struct {
	HTTP      float64 // Atlassian calls
	KVWrites  float64 // journey state revisions
	Publishes float64 // outcome events (the request's own publish not included)
	Acks      float64
}

// throughputResult is scenario 1.
type throughputResult struct {
	N           int
	Telemetry   bool
	NoSync      bool
	Concurrency int
	Wall, CPU   time.Duration
	Ops         perJourney
	Conns       int64 // TCP connections the sandbox accepted during the installer run
	BaseWall    time.Duration
	BaseCPU     time.Duration
}

func (r *throughputResult) rate() float64     { return float64(r.N) / r.Wall.Seconds() }
func (r *throughputResult) baseRate() float64 { return float64(r.N) / r.BaseWall.Seconds() }

// runThroughput pushes n requests through the installer at once and then the same I/O
// through a bare loop with none of the installer's logic, on the same NATS server and
// sandbox.
func runThroughput(ctx context.Context, n, concurrency int, tel, noSync bool) (*throughputResult, error) {
	e, err := newEnv(envOptions{telemetry: tel, noSync: noSync, concurrency: concurrency, sandbox: []atlassiantest.Option{
		atlassiantest.WithProvisionDelay(0),
		atlassiantest.WithOrderProcessingDelay(0),
		atlassiantest.WithRequestLogLimit(replayLog),
	}})
	if err != nil {
		return nil, err
	}
	defer e.close()
	c, err := e.newClient(nil)
	if err != nil {
		return nil, err
	}
	r, err := e.startInstaller(handlers.ClientAPI(c), handlers.Config{
		Concurrency:     concurrency,
		PollInterval:    10 * time.Millisecond,
		MaxPollInterval: 100 * time.Millisecond,
	})
	if err != nil {
		return nil, err
	}
	defer r.stop()
	t, err := newTracker(e.pnc, n)
	if err != nil {
		return nil, err
	}
	defer t.close()
	msgs, ids, err := requestMsgs("tp", n)
	if err != nil {
		return nil, err
	}

	res := &throughputResult{N: n, Concurrency: concurrency, Telemetry: tel, NoSync: noSync}
	m := startMeter()
	if err := publishAll(ctx, e.pjs, t, msgs, ids); err != nil {
		return nil, err
	}
	if err := t.waitFinished(ctx, n); err != nil {
		return nil, err
	}
	res.Wall, res.CPU = m.stop()
	res.Conns = e.conns.Load()
	calls := e.requests.Load()
	if err := t.failure(); err != nil {
		return nil, err
	}
	if err := r.stop(); err != nil {
		return nil, err
	}

	log := e.sandbox.Requests()
	if len(log) == 0 {
		return nil, errors.New("the sandbox recorded no request")
	}
	kvWrites, err := lastSeq(ctx, e.js, "KV_"+record.DefaultBucket)
	if err != nil {
		return nil, err
	}
	published, err := lastSeq(ctx, e.js, events.StreamEvents)
	if err != nil {
		return nil, err
	}
	res.Ops = perJourney{
		HTTP:      float64(calls) / float64(n),
		KVWrites:  float64(kvWrites) / float64(n),
		Publishes: float64(published) / float64(n),
		Acks:      1,
	}
	shape, err := sampleShape(ctx, e.js, ids[0])
	if err != nil {
		return nil, err
	}
	t.close()
	res.BaseWall, res.BaseCPU, err = runBaseline(ctx, e, n, concurrency, res.Ops, shape, log)
	return res, err
}

func lastSeq(ctx context.Context, js jetstream.JetStream, stream string) (uint64, error) {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", stream, err)
	}
	return info.State.LastSeq, nil
}

// shape is what the baseline writes and publishes: a real journey state and real outcome
// events, so that sizes match.
type shape struct {
	state    []byte
	outcomes []*nats.Msg // ordered, provisioned
}

func sampleShape(ctx context.Context, js jetstream.JetStream, id string) (*shape, error) {
	kv, err := js.KeyValue(ctx, record.DefaultBucket)
	if err != nil {
		return nil, err
	}
	entry, err := kv.Get(ctx, record.Key(id))
	if err != nil {
		return nil, fmt.Errorf("journey %s: %w", id, err)
	}
	s, err := js.Stream(ctx, events.StreamEvents)
	if err != nil {
		return nil, err
	}
	sh := &shape{state: entry.Value()}
	for _, subj := range []string{subjects.Ordered(), subjects.Provisioned()} {
		raw, err := s.GetLastMsgForSubject(ctx, subj)
		if err != nil {
			return nil, fmt.Errorf("last %s: %w", subj, err)
		}
		sh.outcomes = append(sh.outcomes, &nats.Msg{Subject: subj, Header: raw.Header, Data: raw.Data})
	}
	return sh, nil
}

// replayLog is how many of the installer's Atlassian calls the sandbox keeps for the
// baseline to replay, cyclically: enough for variety, bounded in memory.
const replayLog = 20000

const (
	baselineStream = "BASELINE_REQUESTS"
	baselineBucket = "BASELINE_JOURNEYS"
)

// runBaseline performs per request what a journey does in I/O, with none of its logic: the
// request published to and consumed from a durable consumer with explicit acks, one KV read,
// the journey's KV writes (create, then compare-and-set updates of a real state's size), the
// journey's HTTP calls (replayed from the sandbox's request log, same methods, paths and
// bodies, through the installer's HTTP client), its outcome
// publishes (real events, with Nats-Msg-Id) and the ack. Every delivered message runs at
// once, as in the installer, and its HTTP calls share the installer's concurrency slots.
func runBaseline(ctx context.Context, e *env, n, concurrency int, ops perJourney, sh *shape, log []atlassiantest.RecordedRequest) (wall, cpu time.Duration, err error) {
	reqCfg := events.StreamConfigs(subjects, 1, events.DefaultRetention)[0]
	reqCfg.Name, reqCfg.Subjects = baselineStream, []string{"baseline.requested"}
	stream, err := e.js.CreateStream(ctx, reqCfg)
	if err != nil {
		return 0, 0, fmt.Errorf("baseline stream: %w", err)
	}
	kv, err := e.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: baselineBucket, History: 1, Replicas: 1})
	if err != nil {
		return 0, 0, fmt.Errorf("baseline bucket: %w", err)
	}
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:   "baseline",
		AckPolicy: jetstream.AckExplicitPolicy,
		// Long enough that the bare loop needs no in-progress heartbeats for a message it
		// holds while the run is queued behind others; the installer sends them, and pays
		// for them in its figures.
		AckWait:       time.Hour,
		MaxDeliver:    -1,
		MaxAckPending: handlers.DefaultMaxAckPending,
	})
	if err != nil {
		return 0, 0, fmt.Errorf("baseline consumer: %w", err)
	}
	msgs, ids, err := requestMsgs("bl", n)
	if err != nil {
		return 0, 0, err
	}
	for _, m := range msgs {
		m.Subject = "baseline.requested"
	}
	t, err := newTracker(e.pnc, n)
	if err != nil {
		return 0, 0, err
	}
	defer t.close()
	kvWrites := max(1, int(ops.KVWrites+0.5))
	calls := max(1, int(ops.HTTP+0.5))

	it, err := cons.Messages(jetstream.PullMaxMessages(min(max(2*concurrency, 16), 1000)))
	if err != nil {
		return 0, 0, err
	}
	defer it.Stop()
	slots := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	journey := func(i int, msg jetstream.Msg) error {
		id := msg.Headers().Get(events.HeaderPrefix + "id")
		key := record.Key(id)
		if _, err := kv.Get(ctx, key); !errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("baseline kv get: %v", err)
		}
		rev, err := kv.Create(ctx, key, sh.state)
		if err != nil {
			return err
		}
		// Like the installer's steps, each HTTP call and its share of the KV writes run in
		// one of concurrency slots; the journey holds no slot in between.
		updates := kvWrites - 1
		for k := range calls {
			slots <- struct{}{}
			for range updates*(k+1)/calls - updates*k/calls {
				if rev, err = kv.Update(ctx, key, sh.state, rev); err != nil {
					<-slots
					return err
				}
			}
			err := replay(ctx, e.hc, e.apiURL, log[(i*calls+k)%len(log)])
			<-slots
			if err != nil {
				return err
			}
		}
		for _, o := range sh.outcomes {
			out := &nats.Msg{Subject: o.Subject, Header: nats.Header{}, Data: o.Data}
			for k, v := range o.Header {
				out.Header[k] = v
			}
			out.Header.Set(events.HeaderPrefix+"subject", id)
			out.Header.Set(nats.MsgIdHdr, id+"/"+o.Subject)
			if _, err := e.js.PublishMsg(ctx, out); err != nil {
				return err
			}
		}
		return msg.Ack()
	}

	m := startMeter()
	go func() {
		for i := 0; ; i++ {
			msg, err := it.Next()
			if err != nil {
				return
			}
			wg.Go(func() {
				if err := journey(i, msg); err != nil {
					fail(err)
				}
			})
		}
	}()
	if err := publishAll(ctx, e.pjs, t, msgs, ids); err != nil {
		return 0, 0, err
	}
	done := make(chan error, 1)
	go func() { done <- t.waitFinished(ctx, n) }()
	select {
	case err = <-done:
	case err = <-errs:
	}
	wall, cpu = m.stop()
	it.Stop()
	wg.Wait()
	return wall, cpu, err
}

// replay sends a recorded request again, with the real credential instead of the redacted one.
func replay(ctx context.Context, hc *http.Client, base string, rec atlassiantest.RecordedRequest) error {
	u := base + rec.Path
	if rec.Query != "" {
		u += "?" + rec.Query
	}
	var body io.Reader
	if rec.Body != "" {
		body = bytes.NewBufferString(rec.Body)
	}
	req, err := http.NewRequestWithContext(ctx, rec.Method, u, body)
	if err != nil {
		return err
	}
	for k, v := range rec.Header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+atlassiantest.DefaultAPIKey)
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("baseline %s %s: %w", rec.Method, rec.Path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode >= 500 {
		return fmt.Errorf("baseline %s %s: %s", rec.Method, rec.Path, resp.Status)
	}
	return nil
}
