package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestNoJourneyCode: installctl reads the journey record (handlers/record) and checks
// requests as the installer does (handlers/calls), but carries none of the installer's
// journey code.
func TestNoJourneyCode(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool:", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if slices.Contains(deps, "github.com/procurement/atlassian-installer/handlers") {
		t.Error("installctl depends on package handlers")
	}
	if !slices.Contains(deps, "github.com/procurement/atlassian-installer/handlers/record") {
		t.Error("installctl no longer reads the journey record: this test checks nothing")
	}
}
