package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/calls"
)

// defaultSource is the CloudEvents source of the requests installctl publishes.
const defaultSource = "urn:installctl"

type requestOptions struct {
	id         string
	source     string
	structured bool
	watch      bool
	asJSON     bool
	timeout    time.Duration
	// dryRun publishes the request as a dry run and prints its plan (installctl plan).
	dryRun bool
}

func (a *app) requestCmd() *cobra.Command {
	var o requestOptions
	cmd := &cobra.Command{
		Use:   "request FILE|-",
		Short: "Validate an install request, publish it, and optionally watch it to its outcome",
		Long: `Validate an install request (JSON as in the contract's atlassian.install.requested) with the
installer's own rules, then publish it as a CloudEvent on the request subject and print its
request id. Every wrong field is listed, and nothing is published, when the request is invalid,
or when the installer would refuse it: an outcome event its journey could not publish (the field
to blame is named), a request id or source it would dead-letter.

With --watch, follow the request to its terminal event: a live display of its steps
(look-ups, provisioning, order, waiting, done) on a terminal, plain lines otherwise, one JSON
object per line with --json. The exit code is 0 on provisioned and 1 on failed.

Exit codes: 0 published (or provisioned with --watch), 1 failed or an error, 2 invalid request
or usage, 3 --timeout passed before the terminal event.`,
		Example: `  installctl request examples/new-site-jira.json --watch
  cat request.json | installctl request - --id 5b0d2c1e-8f5e-4c1a-9d55-2f1c8f0e6a11
  installctl request examples/app-on-jira-with-promotion.json --watch --json --timeout 15m`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"json"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(cmd *cobra.Command, args []string) error { return a.request(cmd.Context(), args[0], o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.id, "id", "", "request id (the CloudEvent id); default a new UUID")
	f.StringVar(&o.source, "source", defaultSource, "CloudEvent source")
	f.BoolVar(&o.structured, "structured", false, "publish in structured mode (the whole event as JSON) instead of binary")
	f.BoolVarP(&o.watch, "watch", "w", false, "follow the request to its terminal event")
	f.BoolVar(&o.asJSON, "json", false, "print JSON (one object per line)")
	f.DurationVar(&o.timeout, "timeout", 0, "with --watch, give up after this long (exit 3); 0 waits until interrupted")
	return cmd
}

func (a *app) request(ctx context.Context, file string, o requestOptions) error {
	data, err := a.readInput(file)
	if err != nil {
		return invalid(err)
	}
	req, err := events.DecodeRequest(data, time.Now()) // the installer's own decoding, which validates every field
	if err != nil {
		a.reportInvalid(err, o.asJSON)
		return &exitError{code: exitInvalid}
	}
	if o.dryRun {
		if data, err = withDryRun(data); err != nil {
			return invalid(err)
		}
		req.DryRun = true
	}
	id := o.id
	if id == "" {
		id = uuid.NewString()
	}
	subj := a.subjects()
	msg, err := requestMessage(subj, id, o.source, data, o.structured)
	if err != nil {
		return invalid(err)
	}
	// The installer's own check that every outcome of the journey can be published: what it
	// would answer invalid_request is not published.
	if err := calls.CheckOutcomes(events.NewPublisher(nil, subj, ""), id, req); err != nil {
		a.reportInvalid(err, o.asJSON)
		return &exitError{code: exitInvalid}
	}

	c, err := a.connect()
	if err != nil {
		return err
	}
	defer c.Close()

	if !o.watch {
		ack, err := publish(ctx, c, msg)
		if err != nil {
			return err
		}
		if ack.Duplicate {
			fmt.Fprintf(a.stderr, "installctl: request %s was already published; it is not handled twice\n", id)
		}
		if o.asJSON {
			return writeJSONLine(a.stdout, jsonLine{Kind: "published", RequestID: id, Stream: ack.Stream, Seq: ack.Sequence, Duplicate: ack.Duplicate})
		}
		_, err = fmt.Fprintln(a.stdout, id)
		return err
	}

	// The follower is positioned before the request is published, so that an outcome the
	// installer publishes quickly cannot be missed.
	f, err := newFollower(ctx, c, subj, id, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		return err
	}
	defer func() { f.stop() }()
	ack, err := publish(ctx, c, msg)
	if err != nil {
		return err
	}
	if ack.Duplicate {
		// The same id was published before: its outcome may already be on the stream.
		f.stop()
		if f, err = newFollower(ctx, c, subj, id, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}); err != nil {
			return err
		}
	}
	r := a.newRenderer(o.asJSON, true)
	if o.dryRun {
		r = &planRenderer{w: a.stdout, errw: a.stderr, asJSON: o.asJSON}
	}
	r.published(id, ack)
	// --timeout counts from the publication: it bounds the wait for the outcome, never
	// the setting up of the follower or the publish, which end on their own.
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	return a.follow(ctx, f, r, id, o.timeout)
}

// follow runs f to the terminal event of requestID and turns it into the exit code.
func (a *app) follow(ctx context.Context, f *follower, r renderer, requestID string, timeout time.Duration) error {
	o, err := f.run(ctx, r)
	switch {
	case errors.Is(err, context.DeadlineExceeded) && timeout > 0:
		r.timedOut(requestID, timeout)
		return &exitError{code: exitTimeout}
	case err != nil:
		return err
	case o.Failed != nil:
		return &exitError{code: exitFailed}
	}
	return nil
}

// readInput reads the request from a file, or from standard input for "-".
func (a *app) readInput(name string) ([]byte, error) {
	if name == "-" {
		b, err := io.ReadAll(a.stdin)
		if err != nil {
			return nil, fmt.Errorf("read standard input: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read request: %w", err)
	}
	return b, nil
}

// reportInvalid lists every field error on stderr, or as one JSON object on stdout.
func (a *app) reportInvalid(err error, asJSON bool) {
	ve, isValidation := errors.AsType[*events.ValidationError](err)
	if asJSON {
		out := struct {
			Kind    string              `json:"kind"`
			Code    string              `json:"code"`
			Message string              `json:"message"`
			Errors  []events.FieldError `json:"errors,omitempty"`
		}{Kind: "invalid", Code: events.CodeInvalidRequest, Message: err.Error()}
		if isValidation {
			out.Errors = ve.Errors
		}
		_ = writeJSONLine(a.stdout, out)
		return
	}
	if !isValidation {
		fmt.Fprintf(a.stderr, "installctl: invalid request: %v\n", err)
		return
	}
	fmt.Fprintf(a.stderr, "installctl: invalid request, %d field error(s):\n", len(ve.Errors))
	for _, fe := range ve.Errors {
		fmt.Fprintf(a.stderr, "  %s: %s\n", fe.Field, fe.Message)
	}
}

// requestMessage wraps the request data in an atlassian.install.requested CloudEvent.
func requestMessage(subj events.Subjects, id, source string, data []byte, structured bool) (*nats.Msg, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return nil, fmt.Errorf("request JSON: %w", err)
	}
	ev := cloudevents.NewEvent()
	ev.SetID(id)
	ev.SetSource(source)
	ev.SetType(subj.Requested())
	ev.SetTime(time.Now().UTC())
	if err := ev.SetData(cloudevents.ApplicationJSON, compact.Bytes()); err != nil {
		return nil, fmt.Errorf("event data: %w", err)
	}
	if err := ev.Validate(); err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	if err := events.CheckRequestEvent(&ev); err != nil {
		return nil, fmt.Errorf("the installer would dead-letter this request (see --id and --source): %w", err)
	}
	if !structured {
		return events.ToNATS(subj.Requested(), &ev)
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	msg := nats.NewMsg(subj.Requested())
	msg.Data = body
	msg.Header.Set("Content-Type", events.ContentTypeStructured)
	msg.Header.Set(jetstream.MsgIDHeader, id)
	return msg, nil
}

// publish sends msg to JetStream, explaining the usual reason for no answer.
func publish(ctx context.Context, c *conn, msg *nats.Msg) (*jetstream.PubAck, error) {
	ack, err := c.js.PublishMsg(ctx, msg)
	if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) {
		return nil, fmt.Errorf("publish to %s: no stream takes this subject: is the installer running with the same prefix? %w", msg.Subject, err)
	}
	if err != nil {
		return nil, fmt.Errorf("publish to %s: %w", msg.Subject, err)
	}
	return ack, nil
}
