package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/procurement/atlassian-installer/handlers/record"
)

func (a *app) statusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status REQUEST_ID",
		Short: "Show one journey as the installer last recorded it",
		Long: `Show one journey from the installer's journey state (KV bucket INSTALL_JOURNEYS):
its step, status, order and provisioning request. --json prints the stored state as it is.

A finished journey's state expires INSTALLER_JOURNEY_RETENTION (7 days) after its end; until
INSTALLER_DUPLICATE_HORIZON (365 days) its compact record (KV bucket INSTALL_FINISHED) stays,
and status shows what that knows: status, order, provisioning request, events published,
times. It says so (on stderr with --json).`,
		Example:           "  installctl status 5b0d2c1e-8f5e-4c1a-9d55-2f1c8f0e6a11 --json",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeRequestIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			j, err := c.journey(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				if j.Compact {
					fmt.Fprintf(a.stderr, "installctl: %s\n", expiredNote)
				}
				return writeJSONLine(a.stdout, j.Raw)
			}
			return a.printJourney(j)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the stored journey state as JSON")
	return cmd
}

func (a *app) listCmd() *cobra.Command {
	var (
		asJSON bool
		state  string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List journeys, optionally those in one state",
		Long: `List the journeys of the installer's journey state (KV bucket INSTALL_JOURNEYS), oldest
update first. --state keeps the journeys whose status, step or phase (look-ups, provisioning,
order, waiting, done) equals S, ignoring case.`,
		Example: "  installctl list --state failed\n  installctl list --json | jq -r '.[].requestId'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			js, err := a.listJourneys(cmd.Context(), c, state)
			if err != nil {
				return err
			}
			if asJSON {
				raws := make([]json.RawMessage, len(js))
				for i, j := range js {
					raws[i] = j.Raw
				}
				return writeJSONLine(a.stdout, raws)
			}
			return a.printJourneyTable(js)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the stored journey states as a JSON array")
	cmd.Flags().StringVar(&state, "state", "", "keep journeys whose status, step or phase is `S`")
	return cmd
}

// journeys opens the journey bucket, explaining a missing one.
func (c *conn) journeys(ctx context.Context) (jetstream.KeyValue, error) {
	kv, err := c.js.KeyValue(ctx, journeyBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("bucket %s not found: the installer creates it when it starts: %w", journeyBucket, err)
	}
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", journeyBucket, err)
	}
	return kv, nil
}

// expiredNote tells that a journey is shown from its compact record.
const expiredNote = "the full record expired from " + journeyBucket + " (INSTALLER_JOURNEY_RETENTION after the journey ended); " +
	"this is its compact record from " + finishedBucket

// journey reads the journey of a request: its state (with the publications its compact record
// tells of, once it ended), or once that expired, the compact record of the finished journey
// (Compact set).
func (c *conn) journey(ctx context.Context, requestID string) (*journeyView, error) {
	kv, err := c.journeys(ctx)
	if err != nil {
		return nil, err
	}
	e, err := kv.Get(ctx, record.Key(requestID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return c.finishedJourney(ctx, requestID)
	}
	if err != nil {
		return nil, fmt.Errorf("journey %s: %w", requestID, err)
	}
	j, err := decodeJourney(e)
	if err != nil || j.outcome == nil {
		return j, err
	}
	// The publication of a journey's outcome is recorded with its compact record.
	f, err := c.finishedJourney(ctx, requestID)
	switch {
	case err == nil:
		j.Published = f.Published
	case !errors.Is(err, jetstream.ErrKeyNotFound):
		return nil, err
	}
	return j, nil
}

// finishedJourney reads the compact record of a finished journey whose state expired.
func (c *conn) finishedJourney(ctx context.Context, requestID string) (*journeyView, error) {
	none := fmt.Errorf("no journey for request %q in %s or %s: never seen, or finished beyond the duplicate horizon: %w",
		requestID, journeyBucket, finishedBucket, jetstream.ErrKeyNotFound)
	kv, err := c.js.KeyValue(ctx, finishedBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, none
	}
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", finishedBucket, err)
	}
	e, err := kv.Get(ctx, record.Key(requestID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, none
	}
	if err != nil {
		return nil, fmt.Errorf("finished journey %s: %w", requestID, err)
	}
	j, err := decodeJourney(e)
	if err != nil {
		return nil, err
	}
	j.Compact = true
	return j, nil
}

func (a *app) listJourneys(ctx context.Context, c *conn, state string) ([]*journeyView, error) {
	kv, err := c.journeys(ctx)
	if err != nil {
		return nil, err
	}
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", journeyBucket, err)
	}
	defer lister.Stop()
	var js []*journeyView
	for key := range lister.Keys() {
		e, err := kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // deleted since listed
		}
		if err != nil {
			return nil, fmt.Errorf("journey %s: %w", key, err)
		}
		j, err := decodeJourney(e)
		if err != nil {
			fmt.Fprintf(a.stderr, "installctl: warning: %v\n", err)
			continue
		}
		if state == "" || j.matches(state) {
			js = append(js, j)
		}
	}
	slices.SortStableFunc(js, func(x, y *journeyView) int { return x.UpdatedAt.Compare(y.UpdatedAt) })
	return js, nil
}

func (a *app) printJourney(j *journeyView) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	row("Request", j.RequestID)
	row("Org", j.OrgID)
	row("Phase", j.Phase.String())
	row("Step", j.Step)
	row("Status", j.Status)
	row("Order", j.OrderID)
	row("Provision request", j.ProvisionRequestID)
	switch {
	case j.Failed != nil:
		row("Outcome", fmt.Sprintf("failed at %s: %s: %s", j.Failed.Stage, j.Failed.Code, j.Failed.Message))
	case j.Compact && j.Status == string(record.StatusFailed):
		row("Outcome", "failed (its stage, code and message expired with the full record)")
	case j.Status == string(record.StatusProvisioned):
		row("Outcome", strings.TrimSpace("provisioned "+j.SiteURL))
	case j.Status == string(record.StatusPlanned):
		row("Outcome", "planned (dry run: nothing provisioned or ordered)")
	}
	if len(j.Published) > 0 {
		row("Published", strings.Join(j.Published, ", "))
	}
	if !j.CompletedAt.IsZero() {
		row("Completed", formatTime(j.CompletedAt))
	}
	row("Updated", formatTime(j.UpdatedAt))
	if j.Compact {
		row("Record", expiredNote)
	} else {
		row("Revision", fmt.Sprint(j.Revision))
	}
	return tw.Flush()
}

func (a *app) printJourneyTable(js []*journeyView) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REQUEST ID\tORG\tPHASE\tSTEP\tSTATUS\tORDER\tUPDATED")
	for _, j := range js {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.RequestID, dash(j.OrgID), j.Phase, dash(j.Step),
			dash(j.Status), dash(j.OrderID), formatTime(j.UpdatedAt))
	}
	return tw.Flush()
}

// completeRequestIDs offers the request ids of the journey bucket to shell completion.
func (a *app) completeRequestIDs(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := a.connect()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Second)
	defer cancel()
	kv, err := c.journeys(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	defer lister.Stop()
	var ids []string
	for k := range lister.Keys() {
		if strings.HasPrefix(k, prefix) && !strings.HasPrefix(k, "_") { // "_…" keys are hashes of long ids
			ids = append(ids, k)
		}
	}
	return ids, cobra.ShellCompDirectiveNoFileComp
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// writeJSONLine writes v as compact JSON on one line.
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
