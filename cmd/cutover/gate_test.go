package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestGateThatCannotOpenFailsFast: after an unplanned failover a real
// InMageRcm item offers no CancelFailover (the simulator's default), so
// the rollback's failover_cancel can never be sent. The step fails at its
// first gate check, with the service's state and allowed operations as the
// reason, instead of polling until the gate timeout.
func TestGateThatCannotOpenFailsFast(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	dir := copyExample(t, "quickstart")
	if code, out, errOut := runCLI(t, "apply", dir, "--sim", "--auto-approve"); code != 0 {
		t.Fatalf("apply: exit %d %s%s", code, out, errOut)
	}
	rplan := filepath.Join(t.TempDir(), "r.plan")
	if code, out, errOut := runCLI(t, "rollback", dir, "--sim", "--out", rplan); code != 0 {
		t.Fatalf("rollback: exit %d %s%s", code, out, errOut)
	}
	// The executor reports step_waiting before each poll of a closed gate:
	// a step that fails with no such event failed before its first poll.
	code, out, errOut := runCLI(t, "apply", rplan, "--json")
	if code != 1 {
		t.Fatalf("apply rollback: exit %d, want 1\n%s%s", code, out, errOut)
	}
	var failed string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not an event: %q", line)
		}
		if ev["step"] != "vm.app01.undo.unplanned_failover" {
			continue
		}
		switch ev["kind"] {
		case "step_waiting":
			t.Errorf("the step waited on a gate that cannot open: %s", line)
		case "step_failed":
			failed, _ = ev["error"].(string)
		}
	}
	if failed == "" {
		t.Fatalf("no step_failed event for vm.app01's failover_cancel:\n%s", out)
	}
	for _, want := range []string{"cannot open", "allowedOperations lacks CancelFailover", "UnplannedFailoverCommitPendingStatesBegin", "no ASR job is running"} {
		if !strings.Contains(failed, want) {
			t.Errorf("the failure does not say %q: %s", want, failed)
		}
	}
}
