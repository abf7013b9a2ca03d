package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"cutover/planner"
	"cutover/providers/simworld"
	"cutover/schema"
)

// TestSimVCenterFaultRehearsal arms vCenter faults from the CLI: a
// permanent fault (InvalidState on every call) fails db01's shutdown in
// apply --sim with the VM and fault named while the other VMs finish; a
// transient one (TaskInProgress, once) on db01's snapshot is retried and
// the snapshot succeeds; after clear, apply DIR resumes and completes.
func TestSimVCenterFaultRehearsal(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	dir := copyExample(t, "quickstart")
	code, out, errOut := runCLI(t, "sim", "fault", "add", dir, "--vm", "db01", "--step", "shutdown", "--code", "InvalidState", "--times", "0")
	if code != 0 || !strings.Contains(out, "Armed: shutdown of vm.db01 fails with InvalidState (vCenter answers ShutdownGuest or PowerOffVM_Task with the fault), for every call.") {
		t.Fatalf("fault add: exit %d %s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "sim", "fault", "add", dir, "--vm", "vm.db01", "--step", "snapshot", "--code", "TaskInProgress")
	if code != 0 || !strings.Contains(out, "TaskInProgress is transient") {
		t.Fatalf("fault add: exit %d %s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "sim", "fault", "list", dir)
	if code != 0 || !strings.Contains(out, "db01        shutdown  InvalidState    ShutdownGuest/PowerOffVM_Task  every") ||
		!strings.Contains(out, "db01        snapshot  TaskInProgress  CreateSnapshot_Task            1") {
		t.Errorf("fault list: exit %d\n%s", code, out)
	}

	code, out, errOut = runCLI(t, "apply", dir, "--sim", "--auto-approve")
	if code != 1 || !strings.Contains(errOut, `Error: vm.db01: shutdown: vcenter: power-off VM "db01"`) || !strings.Contains(errOut, "InvalidState") ||
		!strings.Contains(out, "1 failed") || !strings.Contains(errOut, "Fix the cause and resume with: cutover apply "+dir+" --sim") {
		t.Fatalf("apply with the fault: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"vm.db01.snapshot: succeeded", "vm.app01.unplanned_failover: succeeded", "vm.app02.unplanned_failover: succeeded"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply with the fault lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, "sim", "fault", "list", dir)
	if code != 0 || strings.Contains(out, "TaskInProgress") || !strings.Contains(out, "InvalidState") {
		t.Errorf("after apply the transient fault should be used up and the permanent one armed:\n%s", out)
	}

	if code, out, _ := runCLI(t, "sim", "fault", "clear", dir, "--vm", "app01"); code != 0 || !strings.Contains(out, "Cleared 0 faults.") {
		t.Errorf("clear of another VM: exit %d %s", code, out)
	}
	if code, out, _ := runCLI(t, "sim", "fault", "clear", dir, "--vm", "db01"); code != 0 || !strings.Contains(out, "Cleared 1 fault.") {
		t.Errorf("clear: exit %d %s", code, out)
	}
	if _, out, _ := runCLI(t, "sim", "fault", "list", dir); !strings.Contains(out, "No faults are armed.") {
		t.Errorf("list after clear:\n%s", out)
	}
	code, out, errOut = runCLI(t, "apply", dir, "--sim", "--auto-approve")
	if code != 0 || !strings.Contains(out, "Resuming the unfinished apply") || !strings.Contains(out, "vm.db01.shutdown: succeeded") {
		t.Fatalf("resume after clear: exit %d\n%s%s", code, out, errOut)
	}
}

// TestSimVCenterFaultValidation checks which faults the CLI arms for a
// vCenter step: the step's methods that raise the code, on the VM or its
// rehearsal clone, and a clear refusal otherwise.
func TestSimVCenterFaultValidation(t *testing.T) {
	withClone := &schema.VM{Address: "vm.app01", Source: schema.Source{Name: "app01"}, Rehearsal: &schema.Rehearsal{Name: "app01-rehearsal"}}
	plain := &schema.VM{Address: "vm.db01"}
	for _, tt := range []struct {
		name    string
		vm      *schema.VM
		step    planner.StepKind
		code    string
		on      string
		methods []string
		err     string
	}{
		{"guest shutdown refused by the guest", plain, planner.StepShutdown, "ToolsUnavailable", "db01", []string{"ShutdownGuest"}, ""},
		{"shutdown and its fallback", plain, planner.StepShutdown, "InvalidState", "db01", []string{"ShutdownGuest", "PowerOffVM_Task"}, ""},
		{"either move call", plain, planner.StepRelocate, "InsufficientResourcesFault", "db01", []string{"RelocateVM_Task", "MigrateVM_Task"}, ""},
		{"snapshot", plain, planner.StepSnapshot, "TaskInProgress", "db01", []string{"CreateSnapshot_Task"}, ""},
		{"remove snapshot", plain, planner.StepRemoveSnapshot, "InvalidState", "db01", []string{"RemoveSnapshot_Task"}, ""},
		{"clone from the source", withClone, planner.StepCloneRehearsal, "InsufficientResourcesFault", "app01", []string{"CloneVM_Task"}, ""},
		{"destroy on the clone", withClone, planner.StepDestroyClone, "InvalidState", "app01-rehearsal", []string{"Destroy_Task", "PowerOffVM_Task"}, ""},
		{"customize on the clone", withClone, planner.StepCustomizeRehearsal, "InvalidPowerState", "app01-rehearsal", []string{"CustomizeGuest_Task"}, ""},
		{"ft primary", plain, planner.StepMakeFTPrimary, "TaskInProgress", "db01", []string{"MakePrimaryVM_Task"}, ""},
		{"power on cannot lack tools", plain, planner.StepPowerOn, "ToolsUnavailable", "", nil, `--code "ToolsUnavailable": power_on (PowerOnVM_Task) does not raise it; use InsufficientResourcesFault, InvalidPowerState, InvalidState or TaskInProgress`},
		{"an Azure code", plain, planner.StepSnapshot, "InternalError", "", nil, "snapshot (CreateSnapshot_Task) does not raise it"},
		{"no clone to fail", plain, planner.StepDestroyClone, "InvalidState", "", nil, "vm.db01 has no rehearsal block"},
		{"an Azure step", plain, planner.StepTestFailover, "InvalidState", "", nil, "not a vCenter step"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := vcenterFault(tt.vm, tt.step, tt.code, 1)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.VM != tt.on || !slices.Equal(f.Methods, tt.methods) || f.Step != string(tt.step) || f.Code != tt.code || f.Times != 1 {
				t.Fatalf("armed %+v, want %s on %s by %v", f, tt.code, tt.on, tt.methods)
			}
		})
	}
}

// TestSimVCenterFaultFlags refuses the Azure-only flags and a missing code
// for vCenter steps, before anything is armed.
func TestSimVCenterFaultFlags(t *testing.T) {
	dir := copyExample(t, "quickstart")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--code", "InvalidState", "--message", "x"}, "--message is for Azure steps"},
		{[]string{"--code", "InvalidState", "--http-status", "500"}, "--http-status is for Azure steps"},
		{nil, "--code is required for a vCenter step"},
		{[]string{"--code", "NoSuchFault"}, `--code "NoSuchFault": shutdown (ShutdownGuest, PowerOffVM_Task) does not raise it`},
	} {
		args := append([]string{"sim", "fault", "add", dir, "--vm", "db01", "--step", "shutdown"}, tt.args...)
		if code, _, errOut := runCLI(t, args...); code != 1 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d %s", tt.args, code, errOut)
		}
	}
	if _, out, _ := runCLI(t, "sim", "fault", "list", dir); !strings.Contains(out, "No faults are armed.") {
		t.Errorf("a refused fault was armed:\n%s", out)
	}
}

// TestSimServeMeetsVCenterFault arms a vCenter fault while `sim serve`
// runs: the served vCenter, started before the fault existed, fails db01's
// shutdown in the apply that uses it, and after clear the apply resumes.
func TestSimServeMeetsVCenterFault(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.02")
	dir := copyExample(t, "quickstart")
	served := filepath.Join(dir, ".cutover", "sim")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedBuffer
	root := newRootCommand(&globals{}, strings.NewReader(""), &out, &errOut)
	root.SetArgs([]string{"sim", "serve", dir})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		w, err := simworld.Attach(served)
		if err != nil {
			t.Fatal(err)
		}
		if w != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the world was not announced: %s %s", out.String(), errOut.String())
		}
	}

	if code, o, e := runCLI(t, "sim", "fault", "add", dir, "--vm", "db01", "--step", "shutdown", "--code", "InvalidPowerState", "--times", "0"); code != 0 {
		t.Fatalf("fault add: exit %d %s%s", code, o, e)
	}
	code, o, e := runCLI(t, "apply", dir, "--sim", "--auto-approve")
	if code != 1 || !strings.Contains(e, "Using the simulated world served by process") || !strings.Contains(e, `vm.db01: shutdown: vcenter: shutdown-guest VM "db01"`) || !strings.Contains(e, "InvalidPowerState") {
		t.Fatalf("apply on the served world with the fault: exit %d\n%s%s", code, o, e)
	}
	if code, o, _ := runCLI(t, "sim", "fault", "clear", dir); code != 0 || !strings.Contains(o, "Cleared 1 fault.") {
		t.Fatalf("clear: exit %d %s", code, o)
	}
	if code, o, e := runCLI(t, "apply", dir, "--sim", "--auto-approve"); code != 0 || !strings.Contains(o, "vm.db01.shutdown: succeeded") {
		t.Fatalf("resume on the served world after clear: exit %d\n%s%s", code, o, e)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
