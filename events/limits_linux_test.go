package events_test

import (
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/procurement/atlassian-installer/events"
)

// Finding the errors is linear in the data: four times the products take about four times
// the work (each error used to scan every earlier one: sixteen times). Allocations cannot
// show it (the scan allocated nothing), and wall time on a loaded machine is noise, so the
// work is the CPU time of the thread that validates, with the garbage collector off, the
// least of several runs, under a generous bound.
func TestDecodeRequestIsLinear(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	least := func(n int) time.Duration {
		data := emptyProducts(n)
		best := time.Duration(1<<63 - 1)
		for range 5 {
			runtime.GC()
			start := threadCPU()
			_, _ = events.DecodeRequest(data, testNow)
			best = min(best, threadCPU()-start)
		}
		return best
	}
	small, large := least(1000), least(4000)
	if ratio := float64(large) / float64(small); ratio > 9 {
		t.Errorf("4x the products took %.1fx the CPU time (%s, %s): not linear", ratio, small, large)
	}
}

// threadCPU is the CPU time the calling thread has used (CLOCK_THREAD_CPUTIME_ID, precise
// to the nanosecond, unlike getrusage's ticks).
func threadCPU() time.Duration {
	const clockThreadCPUTime = 3
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		panic(errno)
	}
	return time.Duration(ts.Nano())
}

// work returns the CPU time f took on the calling thread.
func work(f func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	f()
	return threadCPU() - start
}
