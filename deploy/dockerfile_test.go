package deploy

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// binaries are the commands the image ships; the first is its entrypoint.
var binaries = []string{"installer", "installctl", "atlassian-sandbox"}

// dockerfile returns the Dockerfile's instructions, continuation lines joined and comments
// dropped.
func dockerfile(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatalf("open Dockerfile: %v", err)
	}
	defer f.Close()
	var out []string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if more, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(more + " ")
			continue
		}
		cur.WriteString(line)
		out = append(out, cur.String())
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDockerfile(t *testing.T) {
	var froms, runs []string
	var user, entrypoint string
	for _, ins := range dockerfile(t) {
		word, rest, _ := strings.Cut(ins, " ")
		switch strings.ToUpper(word) {
		case "FROM":
			froms = append(froms, strings.Fields(rest)[0])
		case "RUN":
			runs = append(runs, rest)
		case "USER":
			user = rest
		case "ENTRYPOINT":
			entrypoint = rest
		}
	}
	if len(froms) < 2 {
		t.Fatalf("FROM %v: want a build stage and a runtime stage", froms)
	}
	for _, ref := range froms {
		_, tag := splitImage(ref)
		if !versionRE.MatchString(tag) {
			t.Errorf("base image %q is not pinned to a release version", ref)
		}
	}
	if !strings.HasPrefix(froms[0], "golang:"+goVersion(t)+".") {
		t.Errorf("builder %q does not match go.mod's Go %s", froms[0], goVersion(t))
	}

	build := ""
	for _, r := range runs {
		if strings.Contains(r, "go build") {
			build = r
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath"} {
		if !strings.Contains(build, want) {
			t.Errorf("go build %q lacks %s", build, want)
		}
	}
	for _, bin := range binaries {
		if !strings.Contains(build, "./cmd/"+bin) {
			t.Errorf("go build does not build ./cmd/%s", bin)
		}
		if _, err := os.Stat(filepath.Join("..", "cmd", bin)); err != nil {
			t.Errorf("./cmd/%s: %v", bin, err)
		}
	}

	uid, _, _ := strings.Cut(user, ":")
	if uid == "" || uid == "0" || uid == "root" {
		t.Errorf("USER %q: the runtime must not run as root", user)
	}
	if !regexp.MustCompile(`^\d+$`).MatchString(uid) {
		t.Errorf("USER %q: a numeric uid lets orchestrators verify runAsNonRoot", user)
	}
	if entrypoint != `["/usr/local/bin/installer"]` {
		t.Errorf("ENTRYPOINT %s, want the installer in exec form", entrypoint)
	}
}

func goVersion(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(data)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	return string(m[1])
}

func TestDockerignoreKeepsSources(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, line)
		}
	}
	if !slices.Contains(patterns, ".git") {
		t.Error(".dockerignore must exclude .git")
	}
	for _, needed := range []string{"go.mod", "go.sum", "cmd", "client", "events", "handlers"} {
		for _, p := range patterns {
			if ok, _ := filepath.Match(p, needed); ok {
				t.Errorf(".dockerignore pattern %q excludes %s, which the build needs", p, needed)
			}
		}
	}
}
