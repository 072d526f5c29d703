package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

// errCancelled is a destructive command the person at the terminal did not confirm.
var errCancelled = errors.New("cancelled: nothing was done")

// confirm asks on the terminal before what cannot be undone, described by what. --force
// skips the question; without a terminal on standard input (a script, a pipe) nothing can be
// asked, so nothing is done unless --force says so.
func (a *app) confirm(cmd *cobra.Command, what string) error {
	if force, _ := cmd.Flags().GetBool("force"); force {
		return nil
	}
	if !a.stdinIsTerminal(a.stdin) {
		return fmt.Errorf("%s: refused without --force, since standard input is not a terminal to confirm on", what)
	}
	fmt.Fprintf(a.stderr, "%s? [y/N] ", what)
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errCancelled
}

// readerIsTerminal reports whether r is a file attached to a terminal.
func readerIsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// confirmDeletes makes every api command named delete ask first (with --force to skip).
func (a *app) confirmDeletes(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		a.confirmDeletes(sub)
	}
	if cmd.Name() != "delete" || cmd.RunE == nil {
		return
	}
	addForce(cmd)
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if err := a.confirm(c, strings.TrimPrefix(c.CommandPath(), "installctl ")+" "+strings.Join(args, " ")); err != nil {
			return err
		}
		return run(c, args)
	}
}

func addForce(cmd *cobra.Command) {
	cmd.Flags().Bool("force", false, "do it without asking for confirmation (required when standard input is not a terminal)")
}
