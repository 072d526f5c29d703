package main

import (
	"io"
	"log/slog"
	"os"

	"github.com/mattn/go-isatty"

	"github.com/procurement/atlassian-installer/internal/telemetry"
)

// newLogger logs JSON for log collectors, and text when a person reads stderr on a terminal;
// every line of a journey carries its request_id and trace_id.
func newLogger(w io.Writer, c Config) *slog.Logger {
	text := c.LogFormat == "text" || (c.LogFormat == "auto" && isTerminal(w))
	return telemetry.NewLogger(w, c.LogLevel, text)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
