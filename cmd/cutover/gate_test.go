package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestRollbackAsksOnlyWhatTheVaultAllows: after an unplanned failover a
// real InMageRcm item offers no CancelFailover (the simulator's default).
// The rollback therefore plans no failover_cancel, whose gate could never
// open, but deallocates the Azure VM: its apply succeeds without waiting on
// any gate, and no step fails on a closed one. (A gate that cannot open
// failing at its first check is tested in executor/action.)
func TestRollbackAsksOnlyWhatTheVaultAllows(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	dir := copyExample(t, "quickstart")
	if code, out, errOut := runCLI(t, "apply", dir, "--sim", "--auto-approve"); code != 0 {
		t.Fatalf("apply: exit %d %s%s", code, out, errOut)
	}
	rplan := filepath.Join(t.TempDir(), "r.plan")
	code, out, errOut := runCLI(t, "rollback", dir, "--sim", "--out", rplan)
	if code != 0 || strings.Contains(out, "runs failover_cancel") || !strings.Contains(out, "runs deallocate_azure_vm") {
		t.Fatalf("rollback: exit %d %s%s", code, out, errOut)
	}
	// The executor reports step_waiting before each poll of a closed gate.
	code, out, errOut = runCLI(t, "apply", rplan, "--json")
	if code != 0 {
		t.Fatalf("apply rollback: exit %d, want 0\n%s%s", code, out, errOut)
	}
	var deallocated int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not an event: %q", line)
		}
		switch ev["kind"] {
		case "step_waiting", "step_failed":
			t.Errorf("the rollback met a closed gate: %s", line)
		case "step_succeeded":
			if step, _ := ev["step"].(string); strings.HasSuffix(step, ".undo.unplanned_failover") {
				deallocated++
			}
		}
	}
	if deallocated != 3 {
		t.Errorf("%d failovers backed out, want 3:\n%s", deallocated, out)
	}
}
