// Command installer turns atlassian.install.requested CloudEvents on NATS JetStream into
// provisioned Atlassian products and apps.
//
//	installer [serve] [flags]  the service (configuration from the environment, flags mirror it)
//	installer dev [flags]      the whole system on one machine: embedded NATS, the Atlassian
//	                           sandbox and the installer
//
// Requests are published and followed with installctl (cmd/installctl).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/procurement/atlassian-installer/internal/version"
)

const usageText = `Usage:
  installer [serve] [flags]         run the installer (configuration: environment or flags)
  installer dev [flags]             run NATS, the Atlassian sandbox and the installer together
  installer --version               print the version and VCS revision, and exit

Run "installer COMMAND -h" for the flags of a command. Publish requests and follow them with
installctl: go run ./cmd/installctl request FILE --watch
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "installer:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "installer:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its environment passed in so tests can run it in-process.
// It returns when ctx is cancelled (after a bounded drain) or on a start-up error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, rest := "serve", args
	if len(args) > 0 && (!strings.HasPrefix(args[0], "-") || strings.TrimLeft(args[0], "-") == "version") {
		cmd, rest = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stderr)
	case "dev":
		return runDev(ctx, rest, getenv, stdout, stderr)
	case "help":
		_, _ = io.WriteString(stdout, usageText)
		return nil
	case "--version", "-version":
		_, err := fmt.Fprintln(stdout, version.String("installer"))
		return err
	}
	_, _ = io.WriteString(stderr, usageText)
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

// runServe is the production service.
func runServe(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := newFlagSet("installer serve", stderr)
	cfg, rest, err := parseConfig(fs, defaultConfig(), args, getenv)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, rest)
	}
	log := newLogger(stderr, cfg)
	if !cfg.APIKey.IsSet() && cfg.Email == "" {
		log.Warn("no Atlassian credentials: set ATLASSIAN_API_KEY, or ATLASSIAN_EMAIL and ATLASSIAN_API_TOKEN; every API call will be refused")
	}
	return serve(ctx, cfg, getenv, log, nil)
}
