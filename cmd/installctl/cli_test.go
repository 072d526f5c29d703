package main

import (
	"strings"
	"testing"

	"github.com/procurement/atlassian-installer/internal/version"
)

func TestUsage(t *testing.T) {
	e := &env{t: t, ctx: t.Context(), url: "nats://127.0.0.1:1", environ: map[string]string{
		"NATS_URL": "nats://operator:hunter2-secret@127.0.0.1:1",
	}}
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"help", []string{"--help"}, exitOK, "Available Commands", ""},
		{"help of a nested command", []string{"api", "quotes", "download", "--help"}, exitOK, "-o quote.pdf", ""},
		{"completion", []string{"completion", "bash"}, exitOK, "bash completion", ""},
		{"version", []string{"--version"}, exitOK, version.String("installctl") + "\n", ""},
		{"unknown command", []string{"frobnicate"}, exitInvalid, "", "unknown command"},
		{"unknown flag", []string{"list", "--colour"}, exitInvalid, "", "unknown flag"},
		{"missing argument", []string{"status"}, exitInvalid, "", "Run 'installctl status --help'"},
		{"conflicting flags", []string{"watch", "--all", "--since", "1h"}, exitInvalid, "", "[all since]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.run("", tc.args...)
			if res.code != tc.wantCode || !strings.Contains(res.stdout, tc.wantOut) || !strings.Contains(res.stderr, tc.wantErr) {
				t.Errorf("code %d (want %d)\nstdout:\n%s\nstderr:\n%s", res.code, tc.wantCode, res.stdout, res.stderr)
			}
			if strings.Contains(res.stdout+res.stderr, "hunter2") {
				t.Errorf("the NATS password appears in the output")
			}
		})
	}
}

func TestNATSPasswordNeverShown(t *testing.T) {
	a := newApp(func(k string) string {
		if k == "NATS_URL" {
			return "nats://operator:hunter2-secret@127.0.0.1:1"
		}
		return ""
	}, strings.NewReader(""), &strings.Builder{}, &strings.Builder{})
	var stderr strings.Builder
	a.stderr = &stderr
	if code := a.run(t.Context(), []string{"list"}); code != exitFailed {
		t.Fatalf("exit code %d, want %d: %s", code, exitFailed, stderr.String())
	}
	if strings.Contains(stderr.String(), "hunter2") || !strings.Contains(stderr.String(), "127.0.0.1:1") {
		t.Errorf("stderr %q", stderr.String())
	}
}
