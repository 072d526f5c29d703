// Command bench measures the installer: throughput against a bare baseline, latency at
// several levels of requests in flight, capacity with journeys waiting on a slow
// provisioning, the economy of its Atlassian calls, and the money rules under a storm of
// ambiguous answers. Everything runs in this process on
// loopback (an embedded NATS server with the installer's default durability, the Atlassian
// sandbox) and stops by itself, except in capacity-process: there the installer is
// cmd/installer, built with the go command and run as a child process, so that its peak
// RSS is its own.
//
//	go run ./bench            # the full run: a few minutes on 2 cores
//	go run ./bench -quick     # a scaled-down run
//	go run ./bench -only latency -levels 1,64
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/procurement/atlassian-installer/handlers"
)

// options are the command's flags.
type options struct {
	n            int
	concurrency  int
	levels       []int
	latencyN     int
	capacity     int
	ackWait      time.Duration
	hold         time.Duration
	provisioning []time.Duration
	perMinute    int
	rateN        int
	storm        int
	clusterN     int
	only         []string
	timeout      time.Duration
	cpuProfile   string
	memProfile   string
	noSync       bool
	telemetry    bool
}

var scenarios = []string{"throughput", "latency", "capacity", "capacity-process", "economy", "storm", "cluster"}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	var levels, provisioning, only string
	quick := fs.Bool("quick", false, "a scaled-down run: smaller counts, shorter holds (explicit flags still win)")
	fs.IntVar(&o.n, "n", 20000, "throughput: requests pushed through the installer, and through the baseline")
	fs.IntVar(&o.concurrency, "concurrency", handlers.DefaultConcurrency, "the installer's concurrency (INSTALLER_CONCURRENCY)")
	fs.StringVar(&levels, "levels", "1,64,1000", "latency: requests in flight, comma-separated")
	fs.IntVar(&o.latencyN, "latency-n", 500, "latency: journeys per level (at least 5 times the level)")
	fs.IntVar(&o.capacity, "capacity", 10000, "capacity, capacity-process: journeys in flight at once")
	fs.DurationVar(&o.ackWait, "ack-wait", handlers.DefaultAckWait, "capacity, capacity-process: the consumer's AckWait")
	fs.DurationVar(&o.hold, "hold", 0, "capacity, capacity-process: how long every journey waits at once (default 4/3 of -ack-wait)")
	fs.StringVar(&provisioning, "provisioning", "30s,2m,10m", "economy: provisioning durations, on a fake clock")
	fs.IntVar(&o.perMinute, "rate", 600, "economy: client-side and sandbox limit of orders and entitlement details, per minute")
	fs.IntVar(&o.rateN, "rate-n", 100, "economy: journeys published at once under the rate limit")
	fs.IntVar(&o.storm, "storm", 10000, "storm: journeys published at once under lost answers and lagging reads, on a fake clock")
	fs.IntVar(&o.clusterN, "cluster-n", 300, "cluster: journeys published at once to 1 and to 3 installers on a three-node cluster at the documented quotas, and to 3 of which one is killed")
	fs.StringVar(&only, "only", strings.Join(scenarios, ","), "scenarios to run, comma-separated")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "bound of the whole run")
	fs.BoolVar(&o.noSync, "no-fsync", false, "throughput: NATS without fsync on every write, to see the installer's own cost when the disk is not the bottleneck")
	fs.BoolVar(&o.telemetry, "telemetry", true, "instrument the installer as cmd/installer does (spans, never exported, and metrics); false: the handlers alone")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile to this file at the end of the run (go tool pprof -sample_index=alloc_space for what the run allocated)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		scale := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		scale("n", func() { o.n = 2000 })
		scale("levels", func() { levels = "1,64,256" })
		scale("latency-n", func() { o.latencyN = 100 })
		scale("capacity", func() { o.capacity = 1000 })
		scale("ack-wait", func() { o.ackWait = 3 * time.Second })
		scale("rate-n", func() { o.rateN = 20 })
		scale("storm", func() { o.storm = 1000 })
		scale("cluster-n", func() { o.clusterN = 100 })
	}
	if o.hold == 0 {
		o.hold = o.ackWait * 4 / 3
	}
	var err error
	if o.levels, err = parseInts("levels", levels); err != nil {
		return nil, err
	}
	if o.provisioning, err = parseDurations("provisioning", provisioning); err != nil {
		return nil, err
	}
	for _, s := range strings.Split(only, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(scenarios, s) {
			return nil, fmt.Errorf("-only: unknown scenario %q (want %s)", s, strings.Join(scenarios, ", "))
		}
		o.only = append(o.only, s)
	}
	switch {
	case o.n < 1, o.capacity < 1, o.rateN < 1, o.latencyN < 1, o.storm < 1, o.clusterN < 2:
		return nil, errors.New("-n, -capacity, -rate-n, -latency-n and -storm must be at least 1, -cluster-n at least 2")
	case o.concurrency < 1:
		return nil, errors.New("-concurrency must be at least 1")
	case o.perMinute < 1:
		return nil, errors.New("-rate must be at least 1")
	case o.ackWait < time.Second:
		return nil, errors.New("-ack-wait must be at least 1s")
	}
	return o, nil
}

func parseInts(name, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("-%s: %q is not a positive number", name, f)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseDurations(name, s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		v, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("-%s: %q is not a positive duration", name, f)
		}
		out = append(out, v)
	}
	return out, nil
}

// results collects what run measured, for the table and for tests.
type results struct {
	Throughput *throughputResult
	Latency    []*latencyResult
	Capacity   *capacityResult
	Process    *processResult
	Polling    []*pollingResult
	Rate       *rateResult
	Storm      *stormResult
	Cluster    []*clusterResult
}

func run(ctx context.Context, o *options, w io.Writer) error {
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	_, err := measure(ctx, o, w)
	if o.memProfile != "" {
		if perr := writeHeapProfile(o.memProfile); perr != nil {
			return errors.Join(err, perr)
		}
	}
	return err
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("-memprofile: %w", err)
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("-memprofile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("-memprofile: %w", err)
	}
	return nil
}

// measure runs the chosen scenarios in turn, printing each table as soon as it is known.
func measure(ctx context.Context, o *options, w io.Writer) (*results, error) {
	res := &results{}
	printMachine(w, o.telemetry)
	for _, s := range o.only {
		start := time.Now()
		var err error
		switch s {
		case "throughput":
			if res.Throughput, err = runThroughput(ctx, o.n, o.concurrency, o.telemetry, o.noSync); err == nil {
				printThroughput(w, res.Throughput)
			}
		case "latency":
			for _, level := range o.levels {
				var r *latencyResult
				if r, err = runLatency(ctx, max(o.latencyN, 5*level), level, o.concurrency, o.telemetry); err != nil {
					break
				}
				res.Latency = append(res.Latency, r)
			}
			if err == nil {
				printLatency(w, res.Latency)
			}
		case "capacity":
			if res.Capacity, err = runCapacity(ctx, o.capacity, o.ackWait, o.hold, o.telemetry); err == nil {
				printCapacity(w, res.Capacity)
			}
		case "capacity-process":
			if res.Process, err = runCapacityProcess(ctx, o.capacity, o.concurrency, o.ackWait, o.hold); err == nil {
				printCapacityProcess(w, res.Process)
			}
		case "economy":
			for _, d := range o.provisioning {
				var r *pollingResult
				if r, err = runPolling(ctx, d); err != nil {
					break
				}
				res.Polling = append(res.Polling, r)
			}
			if err == nil {
				res.Rate, err = runRateLimit(ctx, o.rateN, o.perMinute)
			}
			if err == nil {
				printEconomy(w, res.Polling, res.Rate)
			}
		case "storm":
			if res.Storm, err = runStorm(ctx, o.storm); err == nil {
				printStorm(w, res.Storm)
			}
		case "cluster":
			for _, run := range []struct {
				instances int
				kill      bool
			}{{1, false}, {3, false}, {3, true}} {
				var r *clusterResult
				if r, err = runCluster(ctx, o.clusterN, run.instances, 0, run.kill); err != nil {
					break
				}
				res.Cluster = append(res.Cluster, r)
			}
			if err == nil {
				printCluster(w, res.Cluster)
			}
		}
		if err != nil {
			return res, fmt.Errorf("%s: %w", s, err)
		}
		fmt.Fprintf(w, "(%s took %s; load average %s)\n\n", s, time.Since(start).Round(100*time.Millisecond), loadAvg())
	}
	return res, nil
}

// loadAvg is the 1, 5 and 15 minute load averages: other work on the machine shows here.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func printMachine(w io.Writer, telemetry bool) {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		_ = f.Close()
	}
	fmt.Fprintf(w, "machine: %d cores (GOMAXPROCS %d), %s, %s %s/%s, load average %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0),
		model, runtime.Version(), runtime.GOOS, runtime.GOARCH, loadAvg())
	fmt.Fprintf(w, "NATS: embedded, JetStream file store, fsync on every write (SyncAlways), TCP on 127.0.0.1\n")
	fmt.Fprintf(w, "installer: handlers.Installer with its defaults%s\n\n", map[bool]string{
		true:  ", instrumented as cmd/installer runs it (spans not exported, metrics)",
		false: ", without telemetry (-telemetry=false)"}[telemetry])
}
