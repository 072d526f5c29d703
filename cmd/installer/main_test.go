package main

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/internal/installtest"
)

// beMain makes the test binary act as the installer, so exit codes and real signals are tested.
const beMain = "INSTALLER_TEST_BE_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(beMain) == "1" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	removeContractBinary()
	os.Exit(code)
}

func command(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), beMain+"=1")
	return cmd
}

// A bad variable ends the process with status 1 and a message naming the variable.
func TestMainBadVariableExitStatus(t *testing.T) {
	cmd := command(t)
	cmd.Env = append(cmd.Env, "INSTALLER_STREAM_REPLICAS=three")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "INSTALLER_STREAM_REPLICAS") {
		t.Fatalf("err = %v, output:\n%s", err, out)
	}
}

func TestMainUnknownCommandExitStatus(t *testing.T) {
	err := command(t, "frobnicate").Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("err = %v", err)
	}
}

// SIGTERM drains and exits 0.
func TestMainSIGTERM(t *testing.T) {
	cmd := command(t, "dev", "--nats-listen=127.0.0.1:-1", "--sandbox-addr=127.0.0.1:0",
		"--http-addr=127.0.0.1:0", "--data-dir="+t.TempDir())
	var stdout installtest.LogBuffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
			<-done
		}
	})
	installtest.EventuallyWithin(t, waitTimeout, "the dev banner", func() bool { return strings.Contains(stdout.String(), "/readyz") })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		if waitErr != nil {
			t.Fatalf("exit after SIGTERM: %v", waitErr)
		}
	case <-time.After(waitTimeout):
		t.Fatal("no exit after SIGTERM")
	}
}
