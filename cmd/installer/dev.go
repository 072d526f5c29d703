package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
)

// devConfig is the configuration of `installer dev`: the contract's, with waits short enough for
// a demonstration, and the store in a temporary directory unless INSTALLER_DATA_DIR names one.
func devConfig() Config {
	c := defaultConfig()
	c.DataDir = ""
	c.PollInterval = 250 * time.Millisecond
	c.MaxPollInterval = 2 * time.Second
	c.JourneyTimeout = 10 * time.Minute
	c.DrainTimeout = 5 * time.Second
	return c
}

// runDev runs the whole system on one machine: embedded NATS, the Atlassian sandbox with its
// default fixtures, and the installer pointed at the sandbox.
func runDev(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("installer dev", stderr)
	sandboxAddr := fs.String("sandbox-addr", "127.0.0.1:8081", "address of the Atlassian sandbox")
	provisionDelay := fs.Duration("sandbox-provision-delay", atlassiantest.DefaultProvisionDelay, "how long the sandbox takes to provision once ordered")
	orderDelay := fs.Duration("sandbox-order-delay", atlassiantest.DefaultOrderProcessingDelay, "how long the sandbox's order items stay PROCESSING")
	cfg, rest, err := parseConfig(fs, devConfig(), args, getenv)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, rest)
	}
	if cfg.DataDir == "" {
		dir, err := os.MkdirTemp("", "atlassian-installer-dev-")
		if err != nil {
			return fmt.Errorf("temporary data dir: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.DataDir = dir
	}
	log := newLogger(stderr, cfg)

	ln, err := net.Listen("tcp", *sandboxAddr)
	if err != nil {
		return fmt.Errorf("-sandbox-addr: %w", err)
	}
	sandbox := atlassiantest.NewUnstartedServer(
		atlassiantest.WithProvisionDelay(*provisionDelay),
		atlassiantest.WithOrderProcessingDelay(*orderDelay),
	)
	sandbox.Start(ln)
	defer sandbox.Close()
	log.Info("Atlassian sandbox started", "url", sandbox.URL)

	// dev talks to the sandbox only: whatever Atlassian settings the environment holds are ignored.
	cfg.APIURL = sandbox.URL
	cfg.APIKey = Secret(atlassiantest.DefaultAPIKey)
	cfg.Email, cfg.APIToken = "", ""
	return serve(ctx, cfg, getenv, log, func(e endpoints) {
		printBanner(stdout, e, sandbox.URL, installctlRequest(e.NATSURL, cfg.SubjectPrefix))
	})
}

// printBanner tells the person who started dev where everything is and how to send a request.
func printBanner(w io.Writer, e endpoints, sandboxURL, request string) {
	fmt.Fprintf(w, `
Atlassian installer (dev) is running.
  NATS JetStream     %[1]s
  Atlassian sandbox  %[2]s (default fixtures; organization %[4]s)
  Health, metrics    http://%[3]s/healthz  http://%[3]s/readyz  http://%[3]s/metrics

Publish a request and follow it, in another terminal at the top of the repository:
  %[5]s

Stop with Ctrl-C.
`, e.NATSURL, sandboxURL, e.HTTP, atlassiantest.OrgID, request)
}

// installctlRequest is the installctl command that sends the first example to this system,
// naming the NATS URL and subject prefix only where they are not installctl's defaults, which
// are the installer's own.
func installctlRequest(natsURL, prefix string) string {
	def := defaultConfig()
	cmd := "go run ./cmd/installctl request"
	if natsURL != "nats://"+def.NATSListen {
		cmd += " --nats-url " + natsURL
	}
	if prefix != def.SubjectPrefix {
		cmd += " --prefix " + prefix
	}
	return cmd + " examples/new-site-jira.json --watch"
}
