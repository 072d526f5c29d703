package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cpuTime is the process's user plus system CPU time so far (getrusage).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// meter measures a stretch of work: wall time and CPU time of the whole process (the
// installer, the embedded NATS server and the sandbox all run in it).
type meter struct {
	start time.Time
	cpu   time.Duration
}

func startMeter() meter { return meter{start: time.Now(), cpu: cpuTime()} }

func (m meter) stop() (wall, cpu time.Duration) {
	return time.Since(m.start), cpuTime() - m.cpu
}

// percentile returns the p-th percentile (0 < p <= 100) by nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(rank, len(s)-1))]
}

// procStatus reads a "kB" field of /proc/self/status (VmRSS, VmHWM) in bytes.
func procStatus(field string) int64 { return procStatusOf("self", field) }

// procStatusOf reads a "kB" field of /proc/<pid>/status in bytes.
func procStatusOf(pid, field string) int64 {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		return kb * 1024
	}
	return 0
}

// resetPeakRSS returns freed memory to the OS and resets VmHWM (clear_refs 5), so that a
// scenario's peak is its own and not an earlier scenario's.
// It reports whether VmHWM was reset.
func resetPeakRSS() bool {
	runtime.GC()
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// sampler follows RSS and goroutines while a scenario runs, as a fallback for VmHWM and
// for the goroutine peak.
type sampler struct {
	stop      chan struct{}
	stopOnce  sync.Once
	wg        sync.WaitGroup
	mu        sync.Mutex
	peakRSS   int64
	peakGoros int
	lastGoros int
	lastRSS   int64
}

func startSampler(every time.Duration) *sampler {
	s := &sampler{stop: make(chan struct{})}
	s.wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-t.C:
			case <-s.stop:
				return
			}
		}
	})
	return s
}

func (s *sampler) sample() {
	rss, g := procStatus("VmRSS"), runtime.NumGoroutine()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peakRSS, s.peakGoros = max(s.peakRSS, rss), max(s.peakGoros, g)
	s.lastRSS, s.lastGoros = rss, g
}

// finish takes a last sample and stops sampling; later calls do nothing.
func (s *sampler) finish() {
	s.stopOnce.Do(func() {
		s.sample()
		close(s.stop)
		s.wg.Wait()
	})
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }
