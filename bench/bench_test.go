package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/client"
)

// TestScenariosSmoke runs every scenario with tiny counts, so that the program stays correct.
// It checks what the scenarios prove (every journey ends, no redelivery, no 429), never how
// fast anything was.
func TestScenariosSmoke(t *testing.T) {
	o, err := parseFlags([]string{
		"-n", "20", "-levels", "1,4", "-latency-n", "10",
		"-capacity", "20", "-ack-wait", "3s", "-hold", "4s",
		"-provisioning", "30s,2m", "-rate", "6000", "-rate-n", "10", "-storm", "20",
		"-cluster-n", "10",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if testing.Short() {
		t.Log("-short: capacity-process skipped (it builds cmd/installer with the go command)")
		o.only = slices.DeleteFunc(o.only, func(s string) bool { return s == "capacity-process" })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	res, err := measure(ctx, o, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}

	if s := res.Storm; s == nil || s.Journeys != 20 || s.Provisioned+s.Failed != 20 || len(s.Violations()) > 0 {
		t.Errorf("storm: %+v", s)
	}

	if len(res.Cluster) != 3 {
		t.Fatalf("cluster runs = %d, want 3 (1 installer, 3, 3 with one killed)", len(res.Cluster))
	}
	for _, c := range res.Cluster {
		if c.RateLimited != 0 || c.Ended != c.Journeys || c.Orders != c.Journeys || c.OrderIDs != c.Journeys {
			t.Errorf("cluster run with %d installers (killed %t): %+v", c.Instances, c.Killed, c)
		}
	}

	tp := res.Throughput
	if tp == nil || tp.N != 20 || tp.Wall <= 0 || tp.BaseWall <= 0 {
		t.Fatalf("throughput: %+v", tp)
	}
	// The cookbook journey of request(): details, provisioning, order, status, order read.
	if tp.Ops.HTTP < 5 || tp.Ops.KVWrites < 2 || tp.Ops.Publishes != 2 {
		t.Errorf("I/O per journey = %+v, want at least 5 calls, 2 KV writes and exactly 2 outcomes", tp.Ops)
	}

	if len(res.Latency) != 2 {
		t.Fatalf("latency levels = %d, want 2", len(res.Latency))
	}
	for _, l := range res.Latency {
		if l.N != max(10, 5*l.InFlight) || l.P50 <= 0 || l.P99 < l.P50 || l.GapP99 <= 0 {
			t.Errorf("latency at %d in flight: %+v", l.InFlight, l)
		}
	}

	c := res.Capacity
	if c.AckPending != 20 || c.Redelivered != 0 || c.Deliveries != 20 || c.MaxDelivered != 1 || c.Finished != 0 {
		t.Errorf("capacity: %+v, want 20 pending journeys each delivered once", c)
	}
	if c.PeakRSS <= 0 || c.PeakGoroutines <= c.BaseGoroutines {
		t.Errorf("capacity: peak RSS %d, goroutines %d (base %d)", c.PeakRSS, c.PeakGoroutines, c.BaseGoroutines)
	}

	if p := res.Process; !testing.Short() && (p == nil || p.AckPending != 20 || p.Redelivered != 0 || p.Finished != 0 ||
		p.PeakRSS < p.BaseRSS || p.BaseRSS <= 0 || p.WaitingGoroutines <= 0 || !p.Drained) {
		t.Errorf("capacity-process: %+v, want 20 pending journeys, an RSS, goroutines, and a drain", p)
	}

	if len(res.Polling) != 2 {
		t.Fatalf("polling rows = %d, want 2", len(res.Polling))
	}
	for _, p := range res.Polling {
		// On the fake clock: noticed after provisioning ends, within one maximum poll interval.
		if p.Noticed < p.Provisioning || p.Noticed > p.Provisioning+time.Minute+time.Second {
			t.Errorf("provisioning of %s noticed after %s", p.Provisioning, p.Noticed)
		}
		if p.StatusPolls < 1 || p.OrderReads < 1 || p.Calls != 3+p.StatusPolls+p.OrderReads {
			t.Errorf("calls of a %s provisioning: %+v", p.Provisioning, p)
		}
	}
	if res.Polling[1].StatusPolls <= res.Polling[0].StatusPolls {
		t.Errorf("a longer provisioning should poll more: %+v vs %+v", res.Polling[0], res.Polling[1])
	}

	r := res.Rate
	if r.Rejected != 0 || r.SandboxErrs != 0 {
		t.Errorf("rate limit: %d 429s and %d sandbox errors, want none", r.Rejected, r.SandboxErrs)
	}
	if r.Calls[client.FamilyOrders] < 2*r.Journeys || r.Calls[client.FamilyEntitlementDetails] != r.Journeys {
		t.Errorf("rate limit: calls %v for %d journeys", r.Calls, r.Journeys)
	}
	for _, want := range []string{"1. Throughput", "2. Latency", "3. Capacity", "4. API economy", "no message was redelivered"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q", want)
		}
	}
}

func TestParseFlagsErrorsNameTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-levels", "1,x"}, "-levels"},
		{[]string{"-provisioning", "30s,-1m"}, "-provisioning"},
		{[]string{"-only", "speed"}, "-only"},
		{[]string{"-n", "0"}, "-n"},
		{[]string{"-ack-wait", "100ms"}, "-ack-wait"},
		{[]string{"-rate", "0"}, "-rate"},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q) = %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
}

func TestQuickScalesDownButExplicitFlagsWin(t *testing.T) {
	o, err := parseFlags([]string{"-quick", "-n", "50"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.n != 50 || o.capacity != 1000 || o.ackWait != 3*time.Second || o.hold != 4*time.Second {
		t.Errorf("quick options = %+v", o)
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}
