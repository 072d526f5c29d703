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
	pf.StringVar(&a.creds, "creds", a.env("NATS_CREDS", ""), "NATS credentials file (env NATS_CREDS)")
	pf.StringVar(&a.prefix, "prefix", a.env("INSTALLER_SUBJECT_PREFIX", ""), `subject prefix (env INSTALLER_SUBJECT_PREFIX, default "atlassian")`)

	root.AddCommand(
		a.requestCmd(),
		a.watchCmd(),
		a.statusCmd(),
		a.listCmd(),
		a.deadletterCmd(),
		a.apiCmd(),
	)
	return root
}
