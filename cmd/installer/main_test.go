package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
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

// --version prints the module version and the VCS revision the binary was built from.
func TestVersion(t *testing.T) {
	var out strings.Builder
	if err := run(t.Context(), []string{"--version"}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "installer ") || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("--version printed %q", out.String())
	}
	// The built binary says what its build information holds (go version -m reads it too);
	// GOFLAGS may turn VCS stamping off, a release build has it on.
	bin := filepath.Join(t.TempDir(), "installer")
	if out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	got, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	info, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "installer "
	for _, l := range strings.Split(string(info), "\n") {
		switch f := strings.Fields(l); {
		case len(f) >= 3 && f[0] == "mod":
			want += f[2] + " " // (devel), or the version the VCS gives
		case len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision="):
			want += "(revision " + strings.TrimPrefix(f[1], "vcs.revision=")
		}
	}
	if !strings.HasPrefix(string(got), want) {
		t.Fatalf("built binary: --version = %q, want it to begin %q", got, want)
	}
	t.Logf("--version: %s", got)
}
