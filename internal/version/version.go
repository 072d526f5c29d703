// Package version describes the running binary from the build information the Go toolchain
// embeds: the main module's version and the VCS revision it was built from.
//
//	fmt.Println(version.String("installer"))
//	// installer v1.4.0 (revision 3f2c1e0a9b7d, 2026-12-04T20:00:00Z) go1.26.8 linux/amd64
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// String is the one-line version of the binary called name.
func String(name string) string {
	info, _ := debug.ReadBuildInfo() // nil without module information
	return format(name, info)
}

// format writes what a build info says: "(devel)" stands for a binary built from a work tree
// rather than installed at a version, "unknown" for one built without module information.
func format(name string, info *debug.BuildInfo) string {
	v, goVersion := "unknown", runtime.Version()
	var vcs []string
	if info != nil {
		if info.Main.Version != "" {
			v = info.Main.Version
		}
		if info.GoVersion != "" {
			goVersion = info.GoVersion
		}
		s := map[string]string{}
		for _, kv := range info.Settings {
			s[kv.Key] = kv.Value
		}
		if r := s["vcs.revision"]; r != "" {
			vcs = append(vcs, "revision "+r)
		}
		if t := s["vcs.time"]; t != "" {
			vcs = append(vcs, t)
		}
		if s["vcs.modified"] == "true" {
			vcs = append(vcs, "modified")
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", name, v)
	if len(vcs) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(vcs, ", "))
	}
	fmt.Fprintf(&b, " %s %s/%s", goVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}
