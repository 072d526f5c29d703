package main

import (
	"fmt"
	"log/slog"
)

// redacted stands in for a secret wherever it could be printed.
const redacted = "[REDACTED]"

// Secret holds a credential (an API key, an API token). Every way of printing it — fmt verbs,
// slog, JSON or text marshalling — shows only whether it is set, so a configuration dump or an
// error that wraps a Config can never leak it. Reveal is the one way to the value, and only the
// code that builds the Atlassian client calls it.
type Secret string

// Reveal returns the credential itself.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether a value was given.
func (s Secret) IsSet() bool { return s != "" }

func (s Secret) mask() string {
	if s == "" {
		return ""
	}
	return redacted
}

// String masks the value, which also covers %v and %s.
func (s Secret) String() string { return s.mask() }

// GoString masks the value for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.mask()) }

// Format masks the value for every other verb (%q, %x, %d…), which would otherwise print the
// underlying string.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(s.GoString()))
		return
	}
	_, _ = f.Write([]byte(s.mask()))
}

// LogValue masks the value in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.mask()) }

// MarshalText masks the value in JSON and any other text encoding.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.mask()), nil }
