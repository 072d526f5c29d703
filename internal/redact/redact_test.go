package redact

import "testing"

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"nats://127.0.0.1:4222":                          "nats://127.0.0.1:4222",
		"nats://alice:s3cr3t@nats:4222":                  "nats://alice:xxxxx@nats:4222",
		"nats://s3cr3t@nats:4222":                        "nats://xxxxx@nats:4222",
		"nats://a:s3cr3t@n1:4222, nats://s3cr3t@n2:4222": "nats://a:xxxxx@n1:4222,nats://xxxxx@n2:4222",
		"https://api.atlassian.com":                      "https://api.atlassian.com",
		"nats://s3cr3t@%zz":                              "[REDACTED]",
	} {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}
