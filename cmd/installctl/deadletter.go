package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/procurement/atlassian-installer/events"
)

func (a *app) deadletterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "deadletter",
		Aliases: []string{"dlq"},
		Short:   "Inspect and replay messages the installer could not read",
		Long: `The installer moves messages it cannot read as a CloudEvent to INSTALL_DEADLETTER, byte for
byte, with its reason in header Installer-Error. List them, show one, and once the sender is
mended, replay one onto the request subject.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(a.deadletterListCmd(), a.deadletterShowCmd(), a.deadletterReplayCmd())
	return cmd
}

// deadLetter is a stored dead letter as installctl shows it.
type deadLetter struct {
	Seq        uint64              `json:"seq"`
	Subject    string              `json:"subject"`
	Time       time.Time           `json:"time"`
	Size       int                 `json:"size"`
	Reason     string              `json:"reason"`
	Headers    map[string][]string `json:"headers,omitempty"`
	Data       *string             `json:"data,omitempty"`
	DataBase64 string              `json:"dataBase64,omitempty"`

	raw *jetstream.RawStreamMsg
}

func newDeadLetter(m *jetstream.RawStreamMsg, withData bool) *deadLetter {
	d := &deadLetter{Seq: m.Sequence, Subject: m.Subject, Time: m.Time, Size: len(m.Data),
		Reason: m.Header.Get(events.HeaderError), Headers: m.Header, raw: m}
	if withData {
		if utf8.Valid(m.Data) {
			s := string(m.Data)
			d.Data = &s
		} else {
			d.DataBase64 = base64.StdEncoding.EncodeToString(m.Data)
		}
	}
	return d
}

func (a *app) deadletterListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the dead letters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			dls, err := listDeadLetters(cmd.Context(), c)
			if err != nil {
				return err
			}
			if asJSON {
				for _, d := range dls {
					d.Headers = nil
				}
				return writeJSONLine(a.stdout, dls)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tTIME\tSIZE\tREASON")
			for _, d := range dls {
				fmt.Fprintf(tw, "%d\t%s\t%d\t%s\n", d.Seq, formatTime(d.Time), d.Size, truncate(dash(d.Reason), 100))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}

func (a *app) deadletterShowCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show SEQ",
		Short: "Show one dead letter: its headers and its body as stored",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			seq, err := parseSeq(args[0])
			if err != nil {
				return err
			}
			c, err := a.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			m, err := getDeadLetter(cmd.Context(), c, seq)
			if err != nil {
				return err
			}
			d := newDeadLetter(m, asJSON)
			if asJSON {
				return writeJSONLine(a.stdout, d)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 1, ' ', 0)
			fmt.Fprintf(tw, "Sequence:\t%d\nSubject:\t%s\nTime:\t%s\nSize:\t%d\n", d.Seq, d.Subject, formatTime(d.Time), d.Size)
			for _, k := range slices.Sorted(maps.Keys(m.Header)) {
				for _, v := range m.Header[k] {
					fmt.Fprintf(tw, "%s:\t%s\n", k, v)
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout)
			_, err = a.stdout.Write(m.Data)
			if len(m.Data) > 0 && m.Data[len(m.Data)-1] != '\n' {
				fmt.Fprintln(a.stdout)
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (the body as text, or base64 when it is not UTF-8)")
	return cmd
}

func (a *app) deadletterReplayCmd() *cobra.Command {
	var del bool
	cmd := &cobra.Command{
		Use:   "replay SEQ...",
		Short: "Publish dead letters again on the request subject",
		Long: `Publish each dead letter again on the request subject, with its body byte for byte and its
original headers (its own Nats-Msg-Id restored), without Installer-Error. With --delete, a replayed dead letter is removed
from INSTALL_DEADLETTER, after a confirmation on the terminal (--force: without asking; required
when standard input is not a terminal).`,
		Example: "  installctl deadletter replay 7\n  installctl deadletter replay 7 8 --delete --force",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			seqs := make([]uint64, len(args))
			for i, s := range args {
				seq, err := parseSeq(s)
				if err != nil {
					return err
				}
				seqs[i] = seq
			}
			if del {
				if err := a.confirm(cmd, "replay and delete dead letters "+strings.Join(args, " ")); err != nil {
					return err
				}
			}
			c, err := a.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			for _, seq := range seqs {
				if err := a.replay(cmd.Context(), c, seq, del); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&del, "delete", false, "remove each dead letter once replayed")
	addForce(cmd)
	return cmd
}

func (a *app) replay(ctx context.Context, c *conn, seq uint64, del bool) error {
	m, err := getDeadLetter(ctx, c, seq)
	if err != nil {
		return err
	}
	msg := nats.NewMsg(a.subjects().Requested())
	msg.Header = events.ReplayHeader(m.Header)
	msg.Data = m.Data
	ack, err := publish(ctx, c, msg)
	if err != nil {
		return fmt.Errorf("replay dead letter %d: %w", seq, err)
	}
	if ack.Duplicate {
		fmt.Fprintf(a.stderr, "installctl: dead letter %d: the request stream took it as a duplicate of seq %d (same Nats-Msg-Id)\n", seq, ack.Sequence)
	}
	fmt.Fprintf(a.stdout, "replayed dead letter %d to %s (%s seq %d)\n", seq, msg.Subject, ack.Stream, ack.Sequence)
	if !del {
		return nil
	}
	s, err := c.stream(ctx, events.StreamDeadLetter)
	if err != nil {
		return err
	}
	if err := s.DeleteMsg(ctx, seq); err != nil {
		return fmt.Errorf("delete dead letter %d: %w", seq, err)
	}
	return nil
}

func getDeadLetter(ctx context.Context, c *conn, seq uint64) (*jetstream.RawStreamMsg, error) {
	s, err := c.stream(ctx, events.StreamDeadLetter)
	if err != nil {
		return nil, err
	}
	m, err := s.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("no dead letter with sequence %d: %w", seq, err)
	}
	if err != nil {
		return nil, fmt.Errorf("dead letter %d: %w", seq, err)
	}
	return m, nil
}

// listDeadLetters reads the stream as it is now, from its first message to its last.
func listDeadLetters(ctx context.Context, c *conn) ([]*deadLetter, error) {
	s, err := c.stream(ctx, events.StreamDeadLetter)
	if err != nil {
		return nil, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", events.StreamDeadLetter, err)
	}
	var dls []*deadLetter
	if info.State.Msgs == 0 {
		return dls, nil
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", events.StreamDeadLetter, err)
	}
	for {
		batch, err := cons.Fetch(256, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", events.StreamDeadLetter, err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			md, err := m.Metadata()
			if err != nil {
				return nil, err
			}
			dls = append(dls, newDeadLetter(&jetstream.RawStreamMsg{Subject: m.Subject(), Sequence: md.Sequence.Stream,
				Header: m.Headers(), Data: m.Data(), Time: md.Timestamp}, false))
			if md.Sequence.Stream >= info.State.LastSeq {
				return dls, nil
			}
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("read %s: %w", events.StreamDeadLetter, err)
		}
		if n == 0 {
			return dls, nil // the rest was removed while we read
		}
	}
}

func parseSeq(s string) (uint64, error) {
	seq, err := strconv.ParseUint(s, 10, 64)
	if err != nil || seq == 0 {
		return 0, invalid(fmt.Errorf("SEQ %q: want a stream sequence number (1, 2, …)", s))
	}
	return seq, nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
