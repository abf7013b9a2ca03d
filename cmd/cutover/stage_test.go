package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEachStageAppliesThenPlansEmpty applies the quickstart on the
// simulated world with every VM at one desired stage, then plans again:
// the second plan has nothing to do (exit 0 with --detailed-exitcode).
// After completed it stays so with the journal deleted: the Azure VMs the
// failovers created keep the VMs from being enabled again, and the plan
// says why.
func TestEachStageAppliesThenPlansEmpty(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	for _, stage := range []string{"replicating", "tested", "migrated", "completed"} {
		t.Run(stage, func(t *testing.T) {
			dir := copyExample(t, "quickstart")
			editRunbook(t, dir, func(src string) string { return strings.ReplaceAll(src, `"migrated"`, `"`+stage+`"`) })
			code, out, errOut := runCLI(t, "apply", dir, "--sim", "--auto-approve")
			if code != 0 || !strings.Contains(out, " 0 failed") {
				t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
			}
			code, out, errOut = runCLI(t, "plan", dir, "--sim", "--detailed-exitcode")
			if code != 0 {
				t.Fatalf("second plan at %s: exit %d, want 0 (no changes)\n%s%s", stage, code, out, errOut)
			}
			if stage != "completed" {
				return
			}
			if err := os.Remove(filepath.Join(dir, ".cutover", "state.journal")); err != nil {
				t.Fatal(err)
			}
			code, out, errOut = runCLI(t, "plan", dir, "--sim", "--detailed-exitcode")
			if code != 0 || strings.Contains(out, "enable_replication") {
				t.Fatalf("plan without the journal: exit %d, want 0 and no enable\n%s%s", code, out, errOut)
			}
			for _, vm := range []string{"app01", "app02", "db01"} {
				if !strings.Contains(out, "vm."+vm+": the journal has no record of this VM's migration, but the Azure VM ") {
					t.Errorf("the plan does not say why %s is not enabled again:\n%s", vm, out)
				}
			}
			if n := strings.Count(out, "exists: it is taken as completed and replication is not enabled again"); n != 3 {
				t.Errorf("%d VMs explained, want 3:\n%s", n, out)
			}
			// Asking for an earlier stage of a migrated VM is refused, with
			// the evidence.
			editRunbook(t, dir, func(src string) string { return strings.ReplaceAll(src, `"completed"`, `"migrated"`) })
			code, out, errOut = runCLI(t, "plan", dir, "--sim")
			if code != 1 || !strings.Contains(errOut, "past a point of no return") || !strings.Contains(errOut, "a failover created it") {
				t.Fatalf("plan back to migrated: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}
