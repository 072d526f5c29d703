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

// stage is one FROM of the Dockerfile and what it declares.
type stage struct {
	image    string
	platform string // the --platform flag of FROM
	args     []string
	labels   map[string]string
}

// labelRE matches one key=value of a LABEL instruction, the value quoted or bare.
var labelRE = regexp.MustCompile(`([A-Za-z0-9._-]+)=("(?:[^"\\]|\\.)*"|\S+)`)

func TestDockerfile(t *testing.T) {
	var froms, runs []string
	var stages []*stage
	var user, entrypoint string
	for _, ins := range dockerfile(t) {
		word, rest, _ := strings.Cut(ins, " ")
		switch strings.ToUpper(word) {
		case "FROM":
			st := &stage{labels: map[string]string{}}
			for _, f := range strings.Fields(rest) {
				if p, ok := strings.CutPrefix(f, "--platform="); ok {
					st.platform = p
				} else if st.image == "" && !strings.HasPrefix(f, "--") {
					st.image = f
				}
			}
			stages = append(stages, st)
			froms = append(froms, st.image)
		case "ARG":
			name, _, _ := strings.Cut(rest, "=")
			stages[len(stages)-1].args = append(stages[len(stages)-1].args, name)
		case "LABEL":
			for _, m := range labelRE.FindAllStringSubmatch(rest, -1) {
				stages[len(stages)-1].labels[m[1]] = strings.Trim(m[2], `"`)
			}
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
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "GOOS=${TARGETOS}", "GOARCH=${TARGETARCH}"} {
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

	checkStages(t, stages)

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

// checkStages wants a build stage that runs on the builder's platform and compiles for the
// target's (multi-arch builds without emulation), and a runtime stage labelled as OCI suggests,
// with its version and revision given at build time.
func checkStages(t *testing.T, stages []*stage) {
	t.Helper()
	build, runtime := stages[0], stages[len(stages)-1]
	if build.platform != "$BUILDPLATFORM" {
		t.Errorf("build stage FROM --platform=%q, want $BUILDPLATFORM: it cross-compiles instead of running under emulation", build.platform)
	}
	for _, arg := range []string{"TARGETOS", "TARGETARCH"} {
		if !slices.Contains(build.args, arg) {
			t.Errorf("build stage does not declare ARG %s, so go build cannot see it", arg)
		}
	}
	if runtime.platform != "" {
		t.Errorf("runtime stage FROM --platform=%s: it must be the target platform's image", runtime.platform)
	}
	const oci = "org.opencontainers.image."
	want := map[string]string{
		oci + "version":   "${VERSION}",
		oci + "revision":  "${REVISION}",
		oci + "base.name": "docker.io/library/" + runtime.image,
	}
	for key, value := range want {
		if got := runtime.labels[key]; got != value {
			t.Errorf("LABEL %s=%q, want %q", key, got, value)
		}
	}
	for _, key := range []string{"title", "description", "source"} {
		if runtime.labels[oci+key] == "" {
			t.Errorf("runtime stage has no LABEL %s%s", oci, key)
		}
	}
	for _, arg := range []string{"VERSION", "REVISION"} {
		if !slices.Contains(runtime.args, arg) {
			t.Errorf("runtime stage does not declare ARG %s, which its labels use", arg)
		}
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
