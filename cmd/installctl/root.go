package main

import (
	"github.com/spf13/cobra"

	"github.com/procurement/atlassian-installer/internal/version"
)

// defaultNATSURL is where "installer dev" and the installer's embedded server listen.
const defaultNATSURL = "nats://127.0.0.1:4222"

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "installctl",
		Short: "Publish install requests, follow journeys, mend dead letters, call the Atlassian APIs",
		Long: `installctl is the command line of the Atlassian installer.

Procurement developers publish a request and watch it to its outcome:
  installctl request examples/new-site-jira.json --watch

Operators look at journeys and mend what failed:
  installctl list --state failed
  installctl deadletter list

Everyone can call the Atlassian APIs the installer uses:
  installctl api entitlements details ENTITLEMENT_ID`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.String("installctl"),
	}
	root.SetVersionTemplate("{{.Version}}\n")

	pf := root.PersistentFlags()
	// The URL may carry a password, so the environment's value is not shown as the default.
	pf.StringVar(&a.natsURL, "nats-url", "", "NATS server URL(s), comma-separated (env NATS_URL, default "+defaultNATSURL+")")
	pf.StringVar(&a.natsContext, "context", a.env("NATS_CONTEXT", ""), "nats CLI context to connect with, a name or a file (env NATS_CONTEXT, default the selected one); the other flags override its settings")
	pf.StringVar(&a.nats.Creds, "creds", a.env("NATS_CREDS", ""), "NATS credentials file (env NATS_CREDS)")
	pf.StringVar(&a.nats.NKey, "nkey", a.env("NATS_NKEY", ""), "NATS nkey seed file (env NATS_NKEY)")
	pf.StringVar(&a.nats.CA, "tlsca", a.env("NATS_CA", ""), "CA certificates (PEM) that verify the NATS servers (env NATS_CA)")
	pf.StringVar(&a.nats.Cert, "tlscert", a.env("NATS_CERT", ""), "client certificate (PEM) for mutual TLS, with --tlskey (env NATS_CERT)")
	pf.StringVar(&a.nats.Key, "tlskey", a.env("NATS_KEY", ""), "private key (PEM) of --tlscert (env NATS_KEY)")
	pf.StringVar(&a.nats.InboxPrefix, "inbox-prefix", a.env("NATS_INBOX_PREFIX", ""), "prefix of reply subjects instead of _INBOX (env NATS_INBOX_PREFIX)")
	pf.StringVar(&a.prefix, "prefix", a.env("INSTALLER_SUBJECT_PREFIX", ""), `subject prefix (env INSTALLER_SUBJECT_PREFIX, default "atlassian")`)

	root.AddCommand(
		a.requestCmd(),
		a.planCmd(),
		a.watchCmd(),
		a.statusCmd(),
		a.listCmd(),
		a.deadletterCmd(),
		a.apiCmd(),
	)
	a.confirmDeletes(root)
	return root
}
