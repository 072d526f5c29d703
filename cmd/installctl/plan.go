package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/procurement/atlassian-installer/events"
)

func (a *app) planCmd() *cobra.Command {
	o := requestOptions{watch: true, dryRun: true}
	cmd := &cobra.Command{
		Use:   "plan FILE|-",
		Short: "Show what a request would provision and order, without buying anything",
		Long: `Publish an install request as a dry run ("dryRun": true): the installer makes every look-up
of its journey and answers with atlassian.install.planned, the provisioning request and the
order it would send (the order without its orderId and provisionRequestId), and what each
look-up found. Nothing is provisioned or ordered. A look-up that fails ends the dry run failed,
as the real request would.

The request is validated first, as by "installctl request". The dry run spends its request id:
publish the real request under a new id (installctl request does so by default).

Prints the plan readably, or the planned (or failed) event's data as it is with --json.
Exit codes: 0 planned, 1 failed or an error, 2 invalid request or usage, 3 --timeout passed.`,
		Example: `  installctl plan examples/new-site-jira.json
  installctl plan examples/existing-site-add-jsm.json --json | jq .order.body`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"json"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(cmd *cobra.Command, args []string) error { return a.request(cmd.Context(), args[0], o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.id, "id", "", "request id (the CloudEvent id); default a new UUID")
	f.StringVar(&o.source, "source", defaultSource, "CloudEvent source")
	f.BoolVar(&o.asJSON, "json", false, "print the planned or failed event's data as it is")
	f.DurationVar(&o.timeout, "timeout", 2*time.Minute, "give up after this long (exit 3); 0 waits until interrupted")
	return cmd
}

// withDryRun sets "dryRun": true in the request data, keeping everything else as it is.
func withDryRun(data []byte) ([]byte, error) {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, fmt.Errorf("request JSON: %w", err)
	}
	req["dryRun"] = json.RawMessage("true")
	return json.Marshal(req)
}

// planRenderer prints a dry run's outcome: the plan, or the failure; nothing of its progress.
type planRenderer struct {
	w, errw io.Writer
	asJSON  bool
}

func (r *planRenderer) published(requestID string, ack *jetstream.PubAck) {
	if ack.Duplicate {
		fmt.Fprintf(r.errw, "installctl: request %s was already published; its outcome follows\n", requestID)
	}
}

func (r *planRenderer) progress(*journeyView) {}

func (r *planRenderer) outcome(o *outcome) {
	if !o.terminal() {
		return
	}
	if r.asJSON {
		var out bytes.Buffer
		if err := json.Compact(&out, o.Event.Data()); err != nil {
			r.warn(err)
			return
		}
		fmt.Fprintln(r.w, out.String())
		return
	}
	switch {
	case o.Planned != nil:
		printPlan(r.w, o.Planned)
	case o.Failed != nil:
		fmt.Fprintf(r.w, "Dry run %s failed at %s: %s: %s\n", o.RequestID, o.Failed.Stage, o.Failed.Code, o.Failed.Message)
	default:
		fmt.Fprintf(r.w, "Request %s was not a dry run: %s\n", o.RequestID, o.summary())
	}
}

func (r *planRenderer) timedOut(requestID string, after time.Duration) {
	fmt.Fprintf(r.w, "no plan for %s within %s\n", requestID, after)
}

func (r *planRenderer) warn(err error) { fmt.Fprintf(r.errw, "installctl: warning: %v\n", err) }

// printPlan writes a plan for people: the look-ups and what they found, then the two calls
// the journey would make, bodies indented as they would be sent.
func printPlan(w io.Writer, p *events.Planned) {
	fmt.Fprintf(w, "Plan of request %s (dry run: nothing was provisioned or ordered)\n", p.RequestID)
	fmt.Fprintf(w, "  organization %s", p.OrgID)
	if p.Site != nil && p.Site.Name != "" {
		fmt.Fprintf(w, ", site %s (%s)", p.Site.Name, p.Site.URL)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "\nLook-ups (%d)\n", len(p.Lookups))
	for _, l := range p.Lookups {
		fmt.Fprintf(w, "  %s\n    %s\n", l.Call, l.Found)
	}
	for _, c := range []struct {
		title string
		call  events.PlannedCall
	}{
		{"Provisioning request", p.Provisioning},
		{"Order (its orderId and metadata.provisionRequestId are set when it is sent)", p.Order},
	} {
		fmt.Fprintf(w, "\n%s\n  %s %s\n", c.title, c.call.Method, c.call.Path)
		var body bytes.Buffer
		if err := json.Indent(&body, c.call.Body, "  ", "  "); err != nil {
			body.Reset()
			body.Write(c.call.Body)
		}
		fmt.Fprintf(w, "  %s\n", body.String())
	}
}
