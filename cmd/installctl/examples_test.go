package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/procurement/atlassian-installer/client/atlassiantest"
)

// example is one command line of a command's help.
type example struct {
	command string // the command whose help shows it
	line    string
	args    []string
	stdin   string // a file piped in (cat FILE | installctl …)
}

// helpExamples collects the installctl lines of every command's Example, and the variables
// that its export lines set.
func helpExamples(t *testing.T, root *cobra.Command, environ map[string]string) []example {
	t.Helper()
	var out []example
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, line := range strings.Split(c.Example, "\n") {
			line = strings.TrimSpace(line)
			if rest, ok := strings.CutPrefix(line, "export "); ok {
				for _, kv := range strings.Fields(rest) {
					k, v, _ := strings.Cut(kv, "=")
					environ[k] = v
				}
				continue
			}
			i := strings.Index(line, "installctl ")
			if i < 0 {
				continue
			}
			ex := example{command: c.CommandPath(), line: line}
			if before, ok := strings.CutPrefix(strings.TrimSpace(line[:i]), "cat "); ok {
				ex.stdin = strings.TrimSpace(strings.TrimSuffix(before, "|"))
			}
			cmdline, _, _ := strings.Cut(line[i+len("installctl "):], " | ")
			ex.args = strings.Fields(cmdline)
			out = append(out, ex)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return out
}

// Every example in every command's help runs against the test's NATS and the sandbox, its
// placeholders replaced by the sandbox's fixtures: none is refused as bad usage (an unknown
// flag, a wrong number of arguments).
func TestHelpExamplesRun(t *testing.T) {
	e := setup(t)
	dir := t.TempDir()
	creds := filepath.Join(dir, "creds.json")
	if err := os.WriteFile(creds, []byte(`{"`+atlassiantest.OrgID+`": {"apiKey": "`+atlassiantest.DefaultAPIKey+`"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	fixtures := strings.NewReplacer(
		"ORG_ID", atlassiantest.OrgID,
		"ENTITLEMENT_ID", "58146793-4749-4db3-8c36-0cd59aa10b50",
		"examples/", "../../examples/",
		"request.json", "../../examples/new-site-jira.json",
		"creds.json", creds,
		"quote.pdf", filepath.Join(dir, "quote.pdf"),
	)
	environ := map[string]string{}
	examples := helpExamples(t, newApp(func(string) string { return "" }, nil, nil, nil).rootCmd(), environ)
	if len(examples) < 15 {
		t.Fatalf("only %d examples found", len(examples))
	}
	for k, v := range environ {
		switch k {
		case "ATLASSIAN_API_URL":
			v = e.world.Sandbox.URL
		case "ATLASSIAN_API_KEY":
			v = atlassiantest.DefaultAPIKey
		}
		e.environ[k] = v
	}
	for _, ex := range examples {
		t.Run(ex.line, func(t *testing.T) {
			args := make([]string, len(ex.args))
			for i, a := range ex.args {
				args[i] = fixtures.Replace(a)
			}
			stdin := ""
			if ex.stdin != "" {
				b, err := os.ReadFile(fixtures.Replace(ex.stdin))
				if err != nil {
					t.Fatal(err)
				}
				stdin = string(b)
			}
			r := e.start(stdin, args...)
			// Watching commands run until their journey ends or they are interrupted.
			select {
			case <-time.After(2 * time.Second):
				r.cancel()
			case code := <-r.done:
				r.done <- code
			}
			res := r.wait(t)
			if res.code == exitInvalid || strings.Contains(res.stderr, "for usage") {
				t.Errorf("the example of %q is refused: exit %d\n%s", ex.command, res.code, res.stderr)
			}
		})
	}
}
