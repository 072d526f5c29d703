package redact

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzURL: whatever the text, no password or token survives redaction: each URL of the
// output either does not parse into one with userinfo, or its secret is hidden; a URL
// without userinfo is left as it was.
func FuzzURL(f *testing.F) {
	for _, s := range []string{"nats://127.0.0.1:4222", "nats://alice:s3cr3t@nats:4222", "nats://s3cr3t@nats:4222",
		"nats://a:s3cr3t@n1:4222, nats://s3cr3t@n2:4222", "nats://s3cr3t@%zz", "tls://u:p@h,,x", "s3cr3t", "@", "://:@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out := URL(raw)
		in := []string{raw}
		if strings.Contains(raw, ",") {
			in = strings.Split(raw, ",")
		}
		parts := strings.Split(out, ",")
		if len(parts) != len(in) {
			t.Fatalf("URL(%q) = %q: %d parts, want %d", raw, out, len(parts), len(in))
		}
		for i, p := range parts {
			orig := strings.TrimSpace(in[i])
			if len(in) == 1 {
				orig = raw
			}
			u, err := url.Parse(orig)
			switch {
			case err != nil:
				if p != "[REDACTED]" {
					t.Fatalf("unparsable %q redacted to %q", orig, p)
				}
			case u.User == nil:
				if p != orig {
					t.Fatalf("%q without userinfo changed to %q", orig, p)
				}
			default:
				r, err := url.Parse(p)
				if err != nil || r.User == nil {
					t.Fatalf("%q redacted to %q", orig, p)
				}
				pw, has := r.User.Password()
				if has && pw != hidden || !has && r.User.Username() != hidden {
					t.Fatalf("%q redacted to %q: a secret survives", orig, p)
				}
			}
		}
	})
}
