// Command installctl is the command line of the Atlassian installer: it publishes install
// requests and follows them to their outcome, shows the journeys the installer keeps, mends
// dead letters, and calls every Atlassian API endpoint the client covers.
//
//	installctl request examples/new-site-jira.json --watch
//	installctl watch --all
//	installctl list --state failed
//	installctl deadletter replay 42
//	installctl api entitlements details 58146793-4749-4db3-8c36-0cd59aa10b50
//
// Run "installctl completion --help" for shell completion.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: tests drive the whole command line through it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return newApp(os.Getenv, stdin, stdout, stderr).run(ctx, args)
}
