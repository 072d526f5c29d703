package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/internal/credfile"
)

// apiFlags are the flags shared by the api commands.
type apiFlags struct {
	url             string
	org             string
	credentialsFile string
}

func (a *app) apiCmd() *cobra.Command {
	f := &apiFlags{}
	cmd := &cobra.Command{
		Use:   "api",
		Short: "Call the Atlassian APIs the installer uses, with JSON out",
		Long: `Call every Atlassian API endpoint the installer's client covers and print the answer as JSON.

Credentials come from the environment, as for the installer: ATLASSIAN_API_KEY (an
organization API key, sent as Bearer), or ATLASSIAN_EMAIL with ATLASSIAN_API_TOKEN (a site
admin's API token, sent as Basic). With --org, they are that organization's in the
installer's credentials file instead (ATLASSIAN_CREDENTIALS_FILE, or --credentials-file).
ATLASSIAN_API_URL, or --api-url, points at another base URL, such as the sandbox of
"installer dev". Credentials never appear in output or errors.

Request bodies (orders, provisioning, promotions, CSM fields) are read as JSON from the file
given with --file, or from standard input with --file -.`,
		Example: `  export ATLASSIAN_API_URL=http://127.0.0.1:8081 ATLASSIAN_API_KEY=…
  installctl api entitlements details 58146793-4749-4db3-8c36-0cd59aa10b50
  installctl api workspaces ORG_ID --value acme
  installctl api --org ORG_ID --credentials-file creds.json workspaces ORG_ID --value acme
  installctl api quotes download Q-123 --transaction-account TA -o quote.pdf`,
		Args: cobra.NoArgs,
	}
	cmd.PersistentFlags().StringVar(&f.url, "api-url", a.env("ATLASSIAN_API_URL", ""), "Atlassian API base URL (env ATLASSIAN_API_URL, default https://api.atlassian.com)")
	cmd.PersistentFlags().StringVar(&f.org, "org", "", "call with this organization's credentials from the credentials file")
	cmd.PersistentFlags().StringVar(&f.credentialsFile, "credentials-file", a.env("ATLASSIAN_CREDENTIALS_FILE", ""), "credentials per organization, for --org (env ATLASSIAN_CREDENTIALS_FILE)")
	cmd.AddCommand(
		a.apiEntitlementsCmd(f),
		a.apiWorkspacesCmd(f),
		a.apiProvisionCmd(f),
		a.apiOrdersCmd(f),
		a.apiQuotesCmd(f),
		a.apiPromotionsCmd(f),
		a.apiCSMCmd(f),
	)
	return cmd
}

// apiClient builds the client from the environment.
func (a *app) apiClient(f *apiFlags) (*client.Client, error) {
	var opts []client.Option
	if f.url != "" {
		opts = append(opts, client.WithBaseURL(f.url))
	}
	key, email, token := a.getenv("ATLASSIAN_API_KEY"), a.getenv("ATLASSIAN_EMAIL"), a.getenv("ATLASSIAN_API_TOKEN")
	switch {
	case f.org != "":
		cr, err := orgCredentials(f)
		if err != nil {
			return nil, err
		}
		opts = append(opts, client.WithCredentials(cr))
	case key != "":
		opts = append(opts, client.WithAPIKey(key))
	case email != "" && token != "":
		opts = append(opts, client.WithBasicAuth(email, token))
	default:
		return nil, errors.New("no Atlassian credentials: set ATLASSIAN_API_KEY, or ATLASSIAN_EMAIL and ATLASSIAN_API_TOKEN")
	}
	c, err := client.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("atlassian client: %w", err)
	}
	return c, nil
}

// orgCredentials are the credentials of --org in the credentials file.
func orgCredentials(f *apiFlags) (client.Credentials, error) {
	if f.credentialsFile == "" {
		return client.Credentials{}, invalid(errors.New("--org needs the credentials file: set ATLASSIAN_CREDENTIALS_FILE or --credentials-file"))
	}
	creds, err := credfile.Load(f.credentialsFile)
	if err != nil {
		return client.Credentials{}, invalid(fmt.Errorf("credentials file %s: %w", f.credentialsFile, err))
	}
	cr, ok := creds[f.org]
	if !ok {
		return client.Credentials{}, invalid(fmt.Errorf("organization %q is not in the credentials file %s", f.org, f.credentialsFile))
	}
	return cr, nil
}

// apiCall is the body of an api command: one client call whose result is printed as JSON.
type apiCall func(ctx context.Context, c *client.Client, args []string) (any, error)

// done is the result printed for calls whose answer has no body.
var done = map[string]bool{"ok": true}

// apiLeaf builds an api command that makes one call and prints its result.
func (a *app) apiLeaf(f *apiFlags, use, short string, nargs int, call apiCall) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(nargs),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.apiClient(f)
			if err != nil {
				return err
			}
			v, err := call(cmd.Context(), c, args)
			if errors.Is(err, client.ErrInvalidArgument) {
				return invalid(err)
			}
			if err != nil {
				return err
			}
			return a.printJSON(v)
		},
	}
}

// printJSON writes v indented, for people and jq alike.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// readBody decodes the JSON request body named by --file into v.
func (a *app) readBody(file string, v any) error {
	if file == "" {
		return invalid(errors.New("--file is required: the request body as JSON, or - for standard input"))
	}
	data, err := a.readInput(file)
	if err != nil {
		return invalid(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return invalid(fmt.Errorf("request body %s: %w", file, err))
	}
	return nil
}

// bodyFlag adds --file to cmd.
func bodyFlag(cmd *cobra.Command, file *string) {
	cmd.Flags().StringVarP(file, "file", "f", "", "request body as JSON (`FILE`, or - for standard input)")
	_ = cmd.MarkFlagFilename("file", "json")
}

// createOutput opens the output file of a download; "-" is standard output.
func (a *app) createOutput(name string) (io.WriteCloser, error) {
	if name == "-" {
		return nopCloser{a.stdout}, nil
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	return f, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
