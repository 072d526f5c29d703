package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
)

// installerPkg is the installer's command, built by the capacity-process scenario.
const installerPkg = "github.com/procurement/atlassian-installer/cmd/installer"

// processResult is scenario 3b: the capacity scenario with the installer in its own
// process, so that its memory is its own and not the embedded NATS server's or the sandbox's.
type processResult struct {
	Journeys      int
	AckWait, Hold time.Duration
	Fill          time.Duration // first publish -> every journey ordered and waiting
	// BaseRSS is the installer's RSS once ready, before any request; PeakRSS its VmHWM at
	// the end of the hold.
	BaseRSS, PeakRSS int64
	// BaseGoroutines and WaitingGoroutines are the installer's go_goroutines (/metrics),
	// once ready and at the end of the hold.
	BaseGoroutines, WaitingGoroutines int
	AckPending, Redelivered           int
	Finished                          int   // terminal events meanwhile (expected 0)
	CallsDuringHold                   int64 // Atlassian calls while all journeys waited
	Stop                              time.Duration
	Drained                           bool // the installer logged "drained" and exited 0
}

// runCapacityProcess builds cmd/installer, runs it as its own process against the bench's
// NATS server and sandbox (configured through the environment, as the README documents),
// holds n journeys waiting as runCapacity does, reads the process's peak RSS, then stops it
// with SIGTERM.
func runCapacityProcess(ctx context.Context, n, concurrency int, ackWait, hold time.Duration) (*processResult, error) {
	dir, err := os.MkdirTemp("", "installer-bench-bin-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "installer")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, installerPkg).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s: %w\n%s", installerPkg, err, out)
	}

	e, err := newEnv(envOptions{sandbox: capacitySandbox()})
	if err != nil {
		return nil, err
	}
	defer e.close()
	msgs, ids, err := requestMsgs("capp", n)
	if err != nil {
		return nil, err
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	p, err := startProcess(ctx, bin, filepath.Join(dir, "installer.log"), []string{
		"NATS_URL=" + e.ns.ClientURL(),
		"ATLASSIAN_API_URL=" + e.apiURL,
		"ATLASSIAN_API_KEY=" + atlassiantest.DefaultAPIKey,
		"INSTALLER_API_RATE_LIMITS=off",
		"INSTALLER_HTTP_ADDR=" + addr,
		"INSTALLER_CONCURRENCY=" + strconv.Itoa(concurrency),
		"INSTALLER_ACK_WAIT=" + ackWait.String(),
	}, "http://"+addr)
	if err != nil {
		return nil, err
	}
	defer p.kill()
	pid := strconv.Itoa(p.cmd.Process.Pid)
	res := &processResult{Journeys: n, AckWait: ackWait, Hold: hold, BaseRSS: procStatusOf(pid, "VmRSS")}
	res.BaseGoroutines, _ = p.goroutines()

	t, err := newTracker(e.pnc, n)
	if err != nil {
		return nil, err
	}
	defer t.close()
	start := time.Now()
	if err := publishAll(ctx, e.pjs, t, msgs, ids); err != nil {
		return nil, err
	}
	ordered, calls, err := e.holdOrdered(ctx, t, n, hold)
	if err != nil {
		return nil, p.failure(err)
	}
	res.Fill, res.CallsDuringHold = ordered.Sub(start), calls
	res.PeakRSS = procStatusOf(pid, "VmHWM")
	res.WaitingGoroutines, _ = p.goroutines()
	if res.AckPending, res.Redelivered, err = e.consumerCounts(ctx); err != nil {
		return nil, err
	}
	res.Finished = t.finished()

	stopped := time.Now()
	if err := p.stop(); err != nil {
		return nil, p.failure(err)
	}
	res.Stop = time.Since(stopped)
	log, err := os.ReadFile(p.logPath)
	if err != nil {
		return nil, err
	}
	res.Drained = bytes.Contains(log, []byte(`"msg":"drained"`))
	return res, nil
}

// freeLoopbackAddr is a 127.0.0.1 address with a port free a moment ago.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// process is a child installer, its stderr (JSON logs) in logPath.
type process struct {
	cmd     *exec.Cmd
	logPath string
	ops     string // base URL of its operator endpoints
	done    chan struct{}
	err     error // Wait's result, once done is closed
}

// startProcess starts bin with exactly env and waits until its /readyz answers 200.
func startProcess(ctx context.Context, bin, logPath string, env []string, ops string) (*process, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	p := &process{cmd: exec.Command(bin), logPath: logPath, ops: ops, done: make(chan struct{})}
	p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = env, logf, logf
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(readyTimeout)
	for !p.ready() {
		select {
		case <-p.done:
			return nil, p.failure(fmt.Errorf("installer exited before ready: %w", p.err))
		case <-ctx.Done():
			p.kill()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.kill()
			return nil, p.failure(fmt.Errorf("installer not ready within %s", readyTimeout))
		}
	}
	return p, nil
}

func (p *process) get(path string) ([]byte, error) {
	resp, err := http.Get(p.ops + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return b, err
}

func (p *process) ready() bool {
	_, err := p.get("/readyz")
	return err == nil
}

// goroutines is go_goroutines from the installer's /metrics.
func (p *process) goroutines() (int, error) {
	b, err := p.get("/metrics")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return int(f), err
		}
	}
	return 0, errors.New("/metrics has no go_goroutines")
}

// stop sends SIGTERM and waits for the exit, bounded; an exit other than 0 is an error.
func (p *process) stop() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-p.done:
		return p.err
	case <-time.After(2 * time.Minute):
		p.kill()
		return errors.New("installer did not stop within 2m of SIGTERM")
	}
}

// kill ends the process if it still runs, and waits for it.
func (p *process) kill() {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// failure adds the end of the installer's log to err.
func (p *process) failure(err error) error {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return fmt.Errorf("%w\ninstaller log (end):\n%s", err, b)
}
