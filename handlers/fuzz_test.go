package handlers_test

import (
	"regexp"
	"testing"

	"github.com/procurement/atlassian-installer/handlers/record"
)

// validKey is the KV key syntax of nats.go's jetstream (validKeyRe), without a leading or
// trailing dot.
var validKey = regexp.MustCompile(`\A[-/_=\.a-zA-Z0-9]+\z`)

// FuzzKey: the journey key of any request id is a valid KV key, and two different ids never
// share one.
func FuzzKey(f *testing.F) {
	for _, s := range []string{"req-1", "", "a.b", "a b", "_abc", "ü", "x\r\n", "0123456789abcdef",
		"_" + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"} {
		f.Add(s, s+"x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ka, kb := record.Key(a), record.Key(b)
		for _, k := range []string{ka, kb} {
			if !validKey.MatchString(k) || k[0] == '.' || k[len(k)-1] == '.' || len(k) > 200 {
				t.Fatalf("key %q is not a valid KV key", k)
			}
		}
		if a != b && ka == kb {
			t.Fatalf("ids %q and %q share key %q", a, b, ka)
		}
	})
}
