package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
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
	c.JourneyTimeout = 15 * time.Minute
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
		atlassiantest.WithOrganizations(),
		atlassiantest.WithAPIKey(atlassiantest.DefaultAPIKey), // every organization's, for installctl api
		atlassiantest.WithProvisionDelay(*provisionDelay),
		atlassiantest.WithOrderProcessingDelay(*orderDelay),
	)
	sandbox.Start(ln)
	defer sandbox.Close()
	log.Info("Atlassian sandbox started", "url", sandbox.URL)

	// dev talks to the sandbox only: whatever Atlassian settings the environment holds are
	// ignored. Each organization has its own key, in a credentials file.
	cfg.APIURL = sandbox.URL
	cfg.APIKey, cfg.Email, cfg.APIToken = "", "", ""
	credsDir, err := os.MkdirTemp("", "atlassian-installer-dev-credentials-")
	if err != nil {
		return fmt.Errorf("temporary credentials file: %w", err)
	}
	defer os.RemoveAll(credsDir)
	cfg.CredentialsFile = filepath.Join(credsDir, "credentials.json")
	if err := os.WriteFile(cfg.CredentialsFile, devCredentials(), 0o600); err != nil {
		return fmt.Errorf("temporary credentials file: %w", err)
	}
	return serve(ctx, cfg, getenv, log, func(e endpoints) {
		printBanner(stdout, e, sandbox.URL, cfg.CredentialsFile, installctlCommands(e.NATSURL, cfg.SubjectPrefix))
	})
}

// devCredentials is the credentials file of the sandbox's two organizations.
func devCredentials() []byte {
	return fmt.Appendf(nil, "{\n  %q: {\"apiKey\": %q},\n  %q: {\"apiKey\": %q}\n}\n",
		atlassiantest.OrgID, atlassiantest.OrgAPIKey, atlassiantest.SecondOrgID, atlassiantest.SecondOrgAPIKey)
}

// printBanner tells the person who started dev where everything is and how to send a request.
func printBanner(w io.Writer, e endpoints, sandboxURL, credentialsFile string, cmds [2]string) {
	fmt.Fprintf(w, `
Atlassian installer (dev) is running.
  NATS JetStream     %[1]s
  Atlassian sandbox  %[2]s (organizations %[4]s, the default fixtures,
                     and %[5]s, site %[6]s)
  Credentials        %[7]s
  Health, metrics    http://%[3]s/healthz  http://%[3]s/readyz  http://%[3]s/metrics

In another terminal at the top of the repository, see what a request would buy, then publish
it and follow it:
  %[8]s
  %[9]s

Stop with Ctrl-C.
`, e.NATSURL, sandboxURL, e.HTTP, atlassiantest.OrgID, atlassiantest.SecondOrgID, atlassiantest.SecondSiteName,
		credentialsFile, cmds[0], cmds[1])
}

// installctlCommands are the installctl commands that plan and then send the first example
// to this system, naming the NATS URL and subject prefix only where they are not installctl's
// defaults, which are the installer's own.
func installctlCommands(natsURL, prefix string) [2]string {
	def := defaultConfig()
	opts := ""
	if natsURL != "nats://"+def.NATSListen {
		opts += " --nats-url " + natsURL
	}
	if prefix != def.SubjectPrefix {
		opts += " --prefix " + prefix
	}
	return [2]string{
		"go run ./cmd/installctl plan" + opts + " examples/new-site-jira.json",
		"go run ./cmd/installctl request" + opts + " examples/new-site-jira.json --watch",
	}
}
