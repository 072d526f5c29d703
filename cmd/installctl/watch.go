package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"
)

type watchOptions struct {
	all     bool
	since   string
	asJSON  bool
	timeout time.Duration
}

func (a *app) watchCmd() *cobra.Command {
	var o watchOptions
	cmd := &cobra.Command{
		Use:   "watch [REQUEST_ID]",
		Short: "Follow outcome events, of every request or of one",
		Long: `Follow the outcome events (ordered, provisioned, failed) on INSTALL_EVENTS. By default only
events published from now on are shown; --all replays the stream from its start and --since
from a time (RFC 3339) or a duration ago (90m).

With REQUEST_ID, only that request is followed, with its journey's progress, until its terminal
event: the exit code is 0 on provisioned and 1 on failed, as for "request --watch". Without it,
watch runs until interrupted or until --timeout.`,
		Example: `  installctl watch
  installctl watch --since 1h --json
  installctl watch 5b0d2c1e-8f5e-4c1a-9d55-2f1c8f0e6a11 --all`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeRequestIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := ""
			if len(args) == 1 {
				id = args[0]
			}
			return a.watch(cmd.Context(), id, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.all, "all", false, "replay every event from the start of the stream")
	f.StringVar(&o.since, "since", "", "replay events since a `TIME` (RFC 3339) or a duration ago (90m)")
	f.BoolVar(&o.asJSON, "json", false, "print one JSON object per line")
	f.DurationVar(&o.timeout, "timeout", 0, "stop after this long; with REQUEST_ID, exit 3 if it has not ended")
	cmd.MarkFlagsMutuallyExclusive("all", "since")
	return cmd
}

func (a *app) watch(ctx context.Context, requestID string, o watchOptions) error {
	cfg, err := deliverFrom(o.all, o.since, time.Now())
	if err != nil {
		return invalid(err)
	}
	c, err := a.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	f, err := newFollower(ctx, c, a.subjects(), requestID, cfg)
	if err != nil {
		return err
	}
	defer f.stop()
	r := a.newRenderer(o.asJSON, requestID != "")
	if requestID != "" {
		return a.follow(ctx, f, r, requestID, o.timeout)
	}
	_, err = f.run(ctx, r)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil // following everything ends only when asked to
	}
	return err
}

// deliverFrom turns --all and --since into where the consumer starts.
func deliverFrom(all bool, since string, now time.Time) (jetstream.OrderedConsumerConfig, error) {
	switch {
	case all:
		return jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}, nil
	case since == "":
		return jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy}, nil
	}
	t, err := time.Parse(time.RFC3339, since)
	if err != nil {
		d, derr := time.ParseDuration(since)
		if derr != nil || d < 0 {
			return jetstream.OrderedConsumerConfig{}, fmt.Errorf("--since %q: neither an RFC 3339 time nor a positive duration", since)
		}
		t = now.Add(-d)
	}
	return jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &t}, nil
}
