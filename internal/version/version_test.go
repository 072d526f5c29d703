package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	for _, tc := range []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"released", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "3f2c1e0a9b7d"}, {Key: "vcs.time", Value: "2026-12-04T20:00:00Z"}, {Key: "vcs.modified", Value: "false"},
		}}, "installer v1.4.0 (revision 3f2c1e0a9b7d, 2026-12-04T20:00:00Z) go1.26.8 " + platform},
		{"work tree with changes", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"},
		}}, "installer (devel) (revision abc, modified) go1.26.8 " + platform},
		{"no VCS", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.1.0"}}, "installer v0.1.0 go1.26.8 " + platform},
		{"no build info", nil, "installer unknown " + runtime.Version() + " " + platform},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := format("installer", tc.info); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// The test binary has build information too: String reads it.
func TestString(t *testing.T) {
	got := String("x")
	if !strings.HasPrefix(got, "x ") || !strings.Contains(got, runtime.Version()) {
		t.Fatalf("String = %q", got)
	}
}
