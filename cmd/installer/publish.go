package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/events"
)

// publishSource is the source of the requests `installer publish` sends.
const publishSource = "urn:atlassian-installer:publish"

// publishOptions are the flags of `installer publish` besides the configuration.
type publishOptions struct {
	structured bool
	watch      bool
	noValidate bool
	id         string
	timeout    time.Duration
}

// runPublish publishes a request file as an atlassian.install.requested CloudEvent, prints its
// id and, with --watch, follows it to its terminal event: the one-command way to try a request.
func runPublish(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("installer publish", stderr)
	var o publishOptions
	fs.BoolVar(&o.structured, "structured", false, "send the event in structured mode (JSON envelope) instead of binary mode")
	fs.BoolVar(&o.watch, "watch", false, "print the request's events until provisioned (exit 0) or failed (exit 1)")
	fs.BoolVar(&o.noValidate, "no-validate", false, "publish even when the request fails local validation (to see the failed event)")
	fs.StringVar(&o.id, "id", "", "request id (default: a new UUID)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "with --watch: give up after this long")
	cfg, rest, err := parseConfig(fs, defaultConfig(), args, getenv)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("%w: publish wants one request file (or - for standard input)", errUsage)
	}
	data, err := readRequest(rest[0])
	if err != nil {
		return err
	}
	if !o.noValidate {
		if _, err := events.DecodeRequest(data); err != nil {
			return fmt.Errorf("request file %s: %w", rest[0], err)
		}
	}
	if o.id == "" {
		o.id = uuid.NewString()
	}
	urls := cfg.NATSURLs
	if len(urls) == 0 {
		urls = []string{"nats://" + cfg.NATSListen} // the embedded server of a running installer
	}
	nc, err := connect(urls, cfg.NATSCreds, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	subjects := events.NewSubjects(cfg.SubjectPrefix)
	if err := events.EnsureStreams(ctx, js, subjects, cfg.Replicas); err != nil {
		return fmt.Errorf("streams: %w", err)
	}

	var outcomes jetstream.MessagesContext
	if o.watch {
		// Subscribe before publishing, so even the fastest outcome is seen.
		if outcomes, err = watchOutcomes(ctx, js); err != nil {
			return err
		}
		defer outcomes.Stop()
	}
	msg, err := requestMessage(subjects, o, data)
	if err != nil {
		return err
	}
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	fmt.Fprintln(stdout, o.id)
	if !o.watch {
		return nil
	}
	return followRequest(ctx, outcomes, subjects, o, stdout)
}

func readRequest(path string) ([]byte, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("request file: %w", err)
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("request file %s: not valid JSON", path)
	}
	return data, nil
}

// requestMessage wraps the request in a CloudEvent, in binary or structured mode.
func requestMessage(s events.Subjects, o publishOptions, data []byte) (*nats.Msg, error) {
	e := cloudevents.NewEvent()
	e.SetID(o.id)
	e.SetType(s.Requested())
	e.SetSource(publishSource)
	e.SetTime(time.Now().UTC())
	if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
		return nil, fmt.Errorf("event data: %w", err)
	}
	if !o.structured {
		msg, err := events.ToNATS(s.Requested(), &e)
		if err != nil {
			return nil, fmt.Errorf("event: %w", err)
		}
		return msg, nil
	}
	body, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	msg := nats.NewMsg(s.Requested())
	msg.Data = body
	msg.Header.Set("Content-Type", "application/cloudevents+json")
	msg.Header.Set(jetstream.MsgIDHeader, o.id)
	return msg, nil
}

// watchOutcomes reads the events stream from now on.
func watchOutcomes(ctx context.Context, js jetstream.JetStream) (jetstream.MessagesContext, error) {
	cons, err := js.OrderedConsumer(ctx, events.StreamEvents, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	it, err := cons.Messages()
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	return it, nil
}

// followRequest prints the request's outcome events until its terminal one.
func followRequest(ctx context.Context, it jetstream.MessagesContext, s events.Subjects, o publishOptions, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("watch %s: no terminal event: %w", o.id, ctx.Err())
			}
			return fmt.Errorf("watch %s: %w", o.id, err)
		}
		e, err := events.FromNATS(msg.Headers(), msg.Data())
		if err != nil || e.Subject() != o.id {
			continue
		}
		fmt.Fprintf(stdout, "%s %s\n", e.Type(), e.Data())
		switch e.Type() {
		case s.Provisioned():
			return nil
		case s.Failed():
			var f struct{ Code, Message string }
			_ = json.Unmarshal(e.Data(), &f)
			return fmt.Errorf("%w: %s: %s", errRequestFailed, f.Code, f.Message)
		}
	}
}
