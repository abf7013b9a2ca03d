package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSimFaultRehearsal arms a fault for one VM's test failover: apply
// --sim fails that step with the service's code and message (and only
// that VM's chain), the rule is used up, and apply DIR then resumes the run
// and finishes it. A fault for a step that sends no request, or a VM
// the runbook lacks, is refused with what would work.
func TestSimFaultRehearsal(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	dir := copyExample(t, "quickstart")
	code, out, errOut := runCLI(t, "sim", "fault", "add", dir, "--vm", "app01", "--step", "test_failover", "--code", "InternalError", "--message", "Rehearsal: the job failed.")
	if code != 0 || !strings.Contains(out, "Armed: test_failover of vm.app01 fails with InternalError") {
		t.Fatalf("fault add: exit %d %s%s", code, out, errOut)
	}
	if code, out, _ := runCLI(t, "sim", "fault", "list", dir); code != 0 || !strings.Contains(out, "app01  test_failover  InternalError  job    1") {
		t.Errorf("fault list: exit %d\n%s", code, out)
	}
	code, out, errOut = runCLI(t, "apply", dir, "--sim", "--auto-approve")
	if code != 1 || !strings.Contains(errOut, "Error: vm.app01: test_failover:") || !strings.Contains(errOut, "Rehearsal: the job failed. (InternalError)") ||
		!strings.Contains(out, "1 failed") || !strings.Contains(errOut, "Fix the cause and resume with: cutover apply "+dir+" --sim") {
		t.Fatalf("apply with the fault: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out, "vm.app02.test_failover: failed") {
		t.Error("the fault hit another VM")
	}
	if _, out, _ := runCLI(t, "sim", "fault", "list", dir); !strings.Contains(out, "No faults are armed.") {
		t.Errorf("a one-request fault is still armed:\n%s", out)
	}
	code, out, errOut = runCLI(t, "apply", dir, "--sim", "--auto-approve")
	if code != 0 || !strings.Contains(out, "Resuming the unfinished apply") || !strings.Contains(out, "vm.app01.test_failover: succeeded") {
		t.Fatalf("resume after the fault: exit %d\n%s%s", code, out, errOut)
	}

	if code, _, errOut := runCLI(t, "sim", "fault", "add", dir, "--vm", "app01", "--step", "wait_protected"); code != 1 || !strings.Contains(errOut, "test_failover") || !strings.Contains(errOut, "shutdown") {
		t.Errorf("a step that sends no request: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "sim", "fault", "add", dir, "--vm", "app1", "--step", "test_failover"); code != 1 || !strings.Contains(errOut, "did you mean vm.app01?") {
		t.Errorf("a misspelt VM: exit %d %s", code, errOut)
	}
	if code, out, _ := runCLI(t, "sim", "fault", "clear", dir); code != 0 || !strings.Contains(out, "Cleared 0 faults.") {
		t.Errorf("clear: exit %d %s", code, out)
	}
}

// TestSimWorldLacksNewVMs adds a VM to a runbook whose simulated world
// exists: plan --sim names the missing VM and the command that rebuilds
// the world, which then plans it.
func TestSimWorldLacksNewVMs(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	dir := copyExample(t, "quickstart")
	if code, _, errOut := runCLI(t, "plan", dir, "--sim"); code != 0 {
		t.Fatalf("plan: %s", errOut)
	}
	main := filepath.Join(dir, "main.hcl")
	b, _ := os.ReadFile(main)
	extra := strings.Replace(string(b[strings.Index(string(b), `vm "app02" {`):]), `vm "app02" {`, `vm "app03" {`, 1)
	extra = extra[:strings.Index(extra, "\n}\n")+3]
	if err := os.WriteFile(main, append(b, []byte("\n"+extra)...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "plan", dir, "--sim")
	if code != 1 || !strings.Contains(errOut, "vm.app03") || !strings.Contains(errOut, "lacks 1 VM the runbook names now") ||
		!strings.Contains(errOut, "cutover sim reset "+dir) {
		t.Fatalf("plan with a VM the world lacks: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := runCLI(t, "sim", "reset", dir); code != 0 || !strings.Contains(out, "Removed the simulated world") {
		t.Fatalf("reset: exit %d %s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "plan", dir, "--sim"); code != 0 || !strings.Contains(out, "vm.app03") {
		t.Fatalf("plan after reset: exit %d %s%s", code, out, errOut)
	}
}
