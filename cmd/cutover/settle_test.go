package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryExampleSettles applies each example in the simulated world and
// then plans it again with --detailed-exitcode: an applied runbook must
// propose nothing (exit 0), or every later apply would repeat steps.
func TestEveryExampleSettles(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.001")
	entries, err := os.ReadDir(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if m, _ := filepath.Glob(filepath.Join("..", "..", "examples", e.Name(), "*.hcl")); len(m) == 0 {
			continue // not a runbook (the CI workflows)
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			dir := copyExample(t, e.Name())
			code, out, errOut := runCLI(t, "apply", dir, "--sim", "--auto-approve")
			if code != 0 {
				t.Fatalf("apply: exit %d\n%s%s", code, tail(out, 30), errOut)
			}
			code, out, errOut = runCLI(t, "plan", dir, "--sim", "--detailed-exitcode")
			if code != 0 {
				t.Fatalf("plan after apply: exit %d, want 0 (nothing to do)\n%s%s", code, out, errOut)
			}
			if !strings.Contains(strings.ToLower(out), "no changes") {
				t.Errorf("plan after apply does not say no changes:\n%s", out)
			}
		})
	}
	if n < 4 {
		t.Fatalf("found %d example runbooks, want at least 4", n)
	}
}

// TestRehearsalRollsBackThroughTheCLI applies the rehearsal example, then
// its rollback plan: the clone is destroyed, the source migrated back and
// replication disabled, so the next plan proposes the rehearsal again.
func TestRehearsalRollsBackThroughTheCLI(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.001")
	dir := copyExample(t, "rehearsal")
	if code, out, errOut := runCLI(t, "apply", dir, "--sim", "--auto-approve"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, tail(out, 30), errOut)
	}
	undo := filepath.Join(t.TempDir(), "undo.plan")
	code, out, errOut := runCLI(t, "rollback", dir, "--sim", "--out", undo)
	if code != 0 {
		t.Fatalf("rollback: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"destroy_clone", `method        = "MigrateVM_Task"`, "disable_replication"} {
		if !strings.Contains(out, want) {
			t.Errorf("rollback plan lacks %s:\n%s", want, out)
		}
	}
	if code, out, errOut := runCLI(t, "apply", undo, "--sim", "--auto-approve"); code != 0 {
		t.Fatalf("apply rollback: exit %d\n%s%s", code, tail(out, 30), errOut)
	}
	code, out, errOut = runCLI(t, "plan", dir, "--sim", "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("plan after rollback: exit %d, want 2\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"+ clone_rehearsal", "~ customize_rehearsal", "+ enable_replication", "relocate {"} {
		if !strings.Contains(out, want) {
			t.Errorf("after the rollback the plan lacks %q:\n%s", want, out)
		}
	}
}
