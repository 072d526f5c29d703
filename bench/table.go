package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/handlers"
)

func table(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
}

func printThroughput(w io.Writer, r *throughputResult) {
	sync := "fsync on every write"
	if r.NoSync {
		sync = "NATS WITHOUT fsync on every write (-no-fsync)"
	}
	fmt.Fprintf(w, "1. Throughput: %d requests published at once, installer concurrency %d (and as many idle API connections), sandbox without delays, %s\n",
		r.N, r.Concurrency, sync)
	tw := table(w)
	fmt.Fprintln(tw, "\tjourneys/s\tCPU per journey\twall\t")
	fmt.Fprintf(tw, "installer\t%.0f\t%s\t%s\t\n", r.rate(), us(r.CPU/time.Duration(r.N)), ms(r.Wall))
	fmt.Fprintf(tw, "bare baseline (same I/O, no logic)\t%.0f\t%s\t%s\t\n", r.baseRate(), us(r.BaseCPU/time.Duration(r.N)), ms(r.BaseWall))
	fmt.Fprintf(tw, "installer / baseline\t%.2f\t%.2f×\t\t\n", r.rate()/r.baseRate(), float64(r.CPU)/float64(r.BaseCPU))
	_ = tw.Flush()
	fmt.Fprintf(w, "I/O per journey: %.1f Atlassian calls, %.1f KV writes + 1 read, 1 request publish + %.1f outcome publishes, %.0f ack\n",
		r.Ops.HTTP, r.Ops.KVWrites, r.Ops.Publishes, r.Ops.Acks)
	fmt.Fprintf(w, "journey-state writes to the KV bucket's stream: %.0f/s\n", r.Ops.KVWrites*r.rate())
	fmt.Fprintf(w, "TCP connections to the sandbox during the installer run: %d (%.2f per journey)\n", r.Conns, float64(r.Conns)/float64(r.N))
}

func printLatency(w io.Writer, rs []*latencyResult) {
	fmt.Fprintln(w, "2. Latency: request published -> terminal event received; provisioning answer -> order call")
	tw := table(w)
	fmt.Fprintln(tw, "in flight\tjourneys\tp50\tp99\tgap p50\tgap p99\tgap max\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t\n", r.InFlight, r.N, ms(r.P50), ms(r.P99), ms(r.GapP50), ms(r.GapP99), ms(r.GapMax))
	}
	_ = tw.Flush()
}

func printCapacity(w io.Writer, r *capacityResult) {
	fmt.Fprintf(w, "3. Capacity: %d journeys waiting at once on a 30 min provisioning, AckWait %s, held %s\n", r.Journeys, r.AckWait, r.Hold)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  all ordered and waiting after\t%s\n", ms(r.Fill))
	fmt.Fprintf(tw, "  peak RSS\t%s (%s before; %.1f KiB per journey)\n", mib(r.PeakRSS), mib(r.BaseRSS),
		float64(r.PeakRSS-r.BaseRSS)/1024/float64(r.Journeys))
	fmt.Fprintf(tw, "  live Go heap while waiting (after a GC)\t%s (%.1f KiB per journey, NATS and sandbox included)\n", mib(int64(r.LiveHeap)),
		float64(r.LiveHeap)/1024/float64(r.Journeys))
	fmt.Fprintf(tw, "  peak goroutines\t%d (%d before; %.1f per journey)\n", r.PeakGoroutines, r.BaseGoroutines,
		float64(r.PeakGoroutines-r.BaseGoroutines)/float64(r.Journeys))
	fmt.Fprintf(tw, "  goroutines while all wait\t%d\n", r.WaitingGoroutines)
	fmt.Fprintf(tw, "  consumer ack pending / redelivered\t%d / %d\n", r.AckPending, r.Redelivered)
	fmt.Fprintf(tw, "  handler deliveries / highest delivery count\t%d / %d\n", r.Deliveries, r.MaxDelivered)
	fmt.Fprintf(tw, "  terminal events meanwhile\t%d\n", r.Finished)
	fmt.Fprintf(tw, "  Atlassian calls while waiting\t%d (%.1f/s)\n", r.CallsDuringHold, float64(r.CallsDuringHold)/r.Hold.Seconds())
	fmt.Fprintf(tw, "  stop (drain) with all waiting\t%s\n", ms(r.Stop))
	_ = tw.Flush()
	verdict := "no message was redelivered"
	if r.Redelivered != 0 || r.MaxDelivered > 1 || r.Deliveries != r.Journeys {
		verdict = "REDELIVERIES SEEN"
	}
	fmt.Fprintf(w, "  => %s\n", verdict)
}

func printCapacityProcess(w io.Writer, r *processResult) {
	fmt.Fprintf(w, "3b. Capacity, installer in its own process (cmd/installer): %d journeys waiting at once on a 30 min provisioning, AckWait %s, held %s\n",
		r.Journeys, r.AckWait, r.Hold)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  all ordered and waiting after\t%s\n", ms(r.Fill))
	fmt.Fprintf(tw, "  installer process peak RSS (own process)\t%s (%s once ready; %.1f KiB per journey)\n", mib(r.PeakRSS), mib(r.BaseRSS),
		float64(r.PeakRSS-r.BaseRSS)/1024/float64(r.Journeys))
	fmt.Fprintf(tw, "  installer goroutines while all wait\t%d (%d once ready)\n", r.WaitingGoroutines, r.BaseGoroutines)
	fmt.Fprintf(tw, "  consumer ack pending / redelivered\t%d / %d\n", r.AckPending, r.Redelivered)
	fmt.Fprintf(tw, "  terminal events meanwhile\t%d\n", r.Finished)
	fmt.Fprintf(tw, "  Atlassian calls while waiting\t%d (%.1f/s)\n", r.CallsDuringHold, float64(r.CallsDuringHold)/r.Hold.Seconds())
	fmt.Fprintf(tw, "  SIGTERM -> exit 0, all waiting\t%s (drained: %t)\n", ms(r.Stop), r.Drained)
	_ = tw.Flush()
}

func printEconomy(w io.Writer, ps []*pollingResult, r *rateResult) {
	fmt.Fprintln(w, "4. API economy: one journey per provisioning duration, default poll back-off (5 s doubling to 1 min), fake clock")
	tw := table(w)
	fmt.Fprintln(tw, "provisioning takes\tAtlassian calls\tstatus polls\torder reads\tprovisioned after\tcalls at a fixed 5 s (computed)\t")
	for _, p := range ps {
		fixed := p.Calls - p.StatusPolls + int((p.Provisioning+handlers.DefaultPollInterval-1)/handlers.DefaultPollInterval)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%d\t\n", p.Provisioning, p.Calls, p.StatusPolls, p.OrderReads, p.Noticed, fixed)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "Rate limit: %d journeys at once, client limit %d/min on orders and entitlement details, sandbox refusing above the same rate\n",
		r.Journeys, r.PerMinute)
	tw = table(w)
	fmt.Fprintln(tw, "family\tcalls\tmost in any 1 s\tallowed in 1 s\t")
	for _, f := range []client.Family{client.FamilyOrders, client.FamilyEntitlementDetails} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", f, r.Calls[f], r.MaxPerSec[f], r.PerMinute/60+max(1, r.PerMinute/60))
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "429 answers: %d (sandbox errors: %d); all journeys done in %s\n", r.Rejected, r.SandboxErrs, ms(r.Wall))
}
