package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/jonboulle/clockwork"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/procurement/atlassian-installer/internal/natsconn"
)

// app holds what every command shares: where it reads and writes, the environment, and the
// global flags.
type app struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer

	// isTerminal says whether w is an interactive terminal, which selects the live progress
	// display over plain lines.
	isTerminal func(w io.Writer) bool
	// stdinIsTerminal says whether destructive commands can ask for confirmation on r.
	stdinIsTerminal func(r io.Reader) bool
	// clock times the live display's phases and drives its refresh.
	clock clockwork.Clock

	natsURL string
	prefix  string
	// nats are the connection settings of the flags (and their variables); natsContext
	// names the nats CLI context they override.
	nats        natsconn.Settings
	natsContext string
}

func newApp(getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) *app {
	return &app{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr, isTerminal: fileIsTerminal, stdinIsTerminal: readerIsTerminal,
		clock: clockwork.NewRealClock()}
}

// fileIsTerminal reports whether w is a file attached to a terminal.
func fileIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// run executes one command line and returns the process exit code.
func (a *app) run(ctx context.Context, args []string) int {
	root := a.rootCmd()
	started := false
	// An error before a command's own work began is about the command line itself: unknown
	// commands and flags, wrong arguments, missing or conflicting flags.
	markStarted(root, &started)
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	if ee, ok := errors.AsType[*exitError](err); ok && ee.err == nil {
		return ee.code
	}
	fmt.Fprintf(a.stderr, "installctl: %v\n", err)
	if !started {
		fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return exitInvalid
	}
	return exitCode(err)
}

// markStarted makes every command of the tree set *started when its own work begins.
func markStarted(cmd *cobra.Command, started *bool) {
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(c *cobra.Command, args []string) error {
			*started = true
			return run(c, args)
		}
	}
	for _, sub := range cmd.Commands() {
		markStarted(sub, started)
	}
}

// env returns the environment variable name, or def when it is unset or empty.
func (a *app) env(name, def string) string {
	if v := a.getenv(name); v != "" {
		return v
	}
	return def
}
