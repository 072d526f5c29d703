// Command atlassian-sandbox serves the stateful sandbox of the Atlassian APIs
// (package client/atlassiantest) on a port, so that a procurement integration
// can rehearse provisioning and orders without spending anything.
//
//	atlassian-sandbox [flags]
//	atlassian-sandbox -print-fixtures > fixtures.json
//
// Every flag has an environment variable (shown in -h); a flag wins. The
// admin API under /_sandbox/ sets faults, reads the request log and dumps or
// loads fixtures; it takes the same credentials as the API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "atlassian-sandbox:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "atlassian-sandbox:", err)
		os.Exit(1)
	}
}

// errUsage marks a command line or environment that could not be understood.
var errUsage = errors.New("usage")

// shutdownTimeout bounds the wait for in-flight requests on SIGTERM.
const shutdownTimeout = 5 * time.Second

// run is the whole program, with its environment passed in so tests run it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.printFixtures {
		return atlassiantest.DefaultFixtures().Dump(stdout)
	}
	opts, err := cfg.options()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("-addr (SANDBOX_ADDR): %w", err)
	}
	return serve(ctx, ln, opts, cfg, stdout)
}

// serve runs the sandbox on ln until ctx is cancelled.
func serve(ctx context.Context, ln net.Listener, opts []atlassiantest.Option, cfg *config, stdout io.Writer) error {
	s := atlassiantest.NewUnstartedServer(opts...)
	s.Start(ln)
	key := "set by -api-key"
	if cfg.apiKey == atlassiantest.DefaultAPIKey {
		key = atlassiantest.DefaultAPIKey + " (the default)"
	}
	fixtures := "default fixtures (organization " + atlassiantest.OrgID + ")"
	if cfg.organizations {
		fixtures = fmt.Sprintf("organizations %s (API key %s) and %s (API key %s, or %s with API token %s)",
			atlassiantest.OrgID, atlassiantest.OrgAPIKey, atlassiantest.SecondOrgID, atlassiantest.SecondOrgAPIKey,
			atlassiantest.SecondOrgAdminEmail, atlassiantest.SecondOrgAPIToken)
	}
	if cfg.fixtures != "" {
		fixtures = "fixtures from " + cfg.fixtures
	}
	fmt.Fprintf(stdout, "atlassian-sandbox listening on %s\n  %s\n  API key: %s\n  admin API: %s/_sandbox/ (requests, orders, faults, fixtures, endpoints)\n",
		s.URL, fixtures, key, s.URL)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		s.Close()
	}
	return nil
}
