package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cutover/providers/azure/azuresim"
)

// editRunbook rewrites a copied example's main.hcl.
func editRunbook(t *testing.T, dir string, edit func(string) string) {
	t.Helper()
	main := filepath.Join(dir, "main.hcl")
	b, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(main, []byte(edit(string(b))), 0o644); err != nil {
		t.Fatal(err)
	}
}

// rehearseCancel makes a copied quickstart rollback-able after failover
// the way these tests exercise it: every VM shuts down through vCenter
// (so the inverse plan powers it on again), and the simulated vault offers
// CancelFailover after a failover, which a real InMageRcm item does not
// (see azuresim's doc; without it the rollback deallocates the Azure VM
// instead, see TestRollbackAfterFailover). Call it before the first apply.
func rehearseCancel(t *testing.T, dir string) {
	t.Helper()
	editRunbook(t, dir, func(src string) string {
		for _, vm := range []string{`vm "app01" {`, `vm "app02" {`} {
			src = strings.Replace(src, vm, vm+"\n  source {\n    shutdown = \"guest\"\n  }", 1)
		}
		return src
	})
	if code, out, errOut := runCLI(t, "plan", dir, "--sim"); code != 0 {
		t.Fatalf("plan: exit %d %s%s", code, out, errOut)
	}
	state := filepath.Join(dir, ".cutover", "sim", "azure-migrate.json")
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var w map[string]any
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	w["seed"].(map[string]any)["allowCancelFailover"] = true
	if b, err = json.Marshal(w); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(state, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func statusOf(t *testing.T, dir string) map[string]vmStatus {
	t.Helper()
	code, out, errOut := runCLI(t, "status", dir, "--sim", "--json")
	var rows []vmStatus
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil {
		t.Fatalf("status: exit %d %s\n%s", code, errOut, out)
	}
	m := map[string]vmStatus{}
	for _, r := range rows {
		m[r.VM] = r
	}
	return m
}

// TestRollbackAfterFailover migrates the quickstart in the simulated
// world, whose vault answers as InMageRcm does after an unplanned failover
// (no CancelFailover), then builds and applies the inverse plan: the Azure
// VMs are deallocated, the sources powered on, the snapshot removed; the
// items stay failed over and replication is not disabled behind the
// user's back; status says what migrating again takes.
func TestRollbackAfterFailover(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	dir := copyExample(t, "quickstart")
	if code, out, errOut := runCLI(t, "apply", dir, "--sim", "--auto-approve"); code != 0 {
		t.Fatalf("apply: exit %d %s%s", code, out, errOut)
	}
	for vm, r := range statusOf(t, dir) {
		if len(r.AzureVMs) != 1 || r.AzureVMs[0].PowerState != "running" {
			t.Fatalf("%s after apply: Azure VM %+v", vm, r.AzureVMs)
		}
	}
	rplan := filepath.Join(t.TempDir(), "r.plan")
	code, out, errOut := runCLI(t, "rollback", dir, "--sim", "--out", rplan)
	if code != 0 {
		t.Fatalf("rollback: exit %d %s%s", code, out, errOut)
	}
	for _, want := range []string{"deallocate_azure_vm", "power_on", "remove_snapshot", "ASR does not offer CancelFailover", "--reset-replication"} {
		if !strings.Contains(out, want) {
			t.Errorf("rollback plan lacks %s:\n%s", want, out)
		}
	}
	for _, never := range []string{"runs failover_cancel", "runs disable_replication", "runs test_failover_cleanup"} {
		if strings.Contains(out, never) {
			t.Errorf("the rollback plans %s:\n%s", never, out)
		}
	}
	// The plan names its steps as the apply log and summary do.
	named := regexp.MustCompile(`(?m)^ +[-~+>!]+ (undo\.\w+)`).FindAllStringSubmatch(out, -1)
	if len(named) == 0 {
		t.Fatalf("the rollback plan names no undo.* step:\n%s", out)
	}
	code, applied, errOut := runCLI(t, "apply", rplan)
	if code != 0 {
		t.Fatalf("apply rollback: exit %d %s%s", code, applied, errOut)
	}
	for _, n := range named {
		if !strings.Contains(applied, "."+n[1]+": succeeded") {
			t.Errorf("the plan's step %s is not in the apply log:\n%s", n[1], applied)
		}
	}
	total := strings.Count(applied, ": succeeded")
	if want := fmt.Sprintf("Rollback (%d undo steps): %d succeeded", total, total); !strings.Contains(applied, want) {
		t.Errorf("the summary does not count the undo steps (%q):\n%s", want, applied)
	}
	for vm, r := range statusOf(t, dir) {
		if r.Live != "failed over" || r.PowerState != "poweredOn" || len(r.AzureVMs) != 1 || r.AzureVMs[0].PowerState != "deallocated" {
			t.Errorf("%s after rollback: %+v", vm, r)
		}
		if len(r.Warnings) == 0 || !strings.Contains(r.Warnings[len(r.Warnings)-1], "replication disabled and enabled again") {
			t.Errorf("%s: status does not say what migrating again takes: %q", vm, r.Warnings)
		}
	}
	if code, out, _ := runCLI(t, "status", dir, "--sim"); code != 0 || !strings.Contains(out, "deallocated") || !strings.Contains(out, "full initial replication") {
		t.Errorf("status (human) does not show the deallocated Azure VM and what migrating again takes:\n%s", out)
	}
	// A second rollback finds everything undone.
	code, out, _ = runCLI(t, "rollback", dir, "--sim")
	if code != 0 || !strings.Contains(out, "already undone") {
		t.Errorf("second rollback: exit %d\n%s", code, out)
	}
	// Migrating again is an explicit choice: --reset-replication plans the
	// disable.
	code, out, _ = runCLI(t, "rollback", dir, "--sim", "--reset-replication")
	if code != 0 || strings.Count(out, "runs disable_replication") != 3 {
		t.Errorf("rollback --reset-replication: exit %d\n%s", code, out)
	}
}

// TestRollbackCancelsWhenAllowed: with the simulated vault set to offer
// CancelFailover after an unplanned failover, the rollback of the
// failover (--to-step: the steps after the rehearsal) cancels it, and the
// items end Protected with their sources on and no Azure VM left.
func TestRollbackCancelsWhenAllowed(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	dir := copyExample(t, "quickstart")
	if code, out, errOut := runCLI(t, "apply", dir, "--sim", "--auto-approve"); code != 0 {
		t.Fatalf("apply: exit %d %s%s", code, out, errOut)
	}
	state := filepath.Join(dir, ".cutover", "sim", "azure-migrate.json")
	sim, err := azuresim.New(azuresim.Seed{}, azuresim.Options{StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.SetAllowCancelFailover(true); err != nil {
		t.Fatal(err)
	}
	rplan := filepath.Join(t.TempDir(), "r.plan")
	code, out, errOut := runCLI(t, "rollback", dir, "--sim", "--to-step", "vm.db01.test_failover_cleanup", "--target", "vm.db01", "--out", rplan)
	if code != 0 {
		t.Fatalf("rollback: exit %d %s%s", code, out, errOut)
	}
	// After the cancel, a guard step reads the Azure VM (deallocating it
	// if the cancel left it running) before the source is powered on.
	for _, want := range []string{"runs failover_cancel", "runs deallocate_azure_vm", "runs power_on", "ASR offers CancelFailover"} {
		if !strings.Contains(out, want) {
			t.Errorf("rollback plan lacks %q:\n%s", want, out)
		}
	}
	if code, out, errOut := runCLI(t, "apply", rplan); code != 0 {
		t.Fatalf("apply rollback: exit %d %s%s", code, out, errOut)
	}
	r := statusOf(t, dir)["vm.db01"]
	if r.Live != "tested" || r.PowerState != "poweredOn" || len(r.AzureVMs) != 0 {
		t.Errorf("vm.db01 after rollback: %+v", r)
	}
	if st, _, ok := sim.ProtectionState("db01-az"); !ok || st != azuresim.StateProtected {
		t.Errorf("vm.db01's item after the cancel: %q (exists %v), want Protected", st, ok)
	}
	if _, _, exists := sim.AzureVM("db01-az"); exists {
		t.Error("the cancelled failover's Azure VM still exists")
	}
}

// TestRollbackAfterCommit commits the failover of one VM: the rollback is
// refused with exit status 1, naming the commit step and when it
// succeeded (from the journal), and sends nothing; the other VMs are
// rolled back with --target.
func TestRollbackAfterCommit(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	dir := copyExample(t, "quickstart")
	// db01 (the third vm block) goes all the way to completed.
	editRunbook(t, dir, func(src string) string {
		i := strings.Index(src, `vm "db01"`)
		return src[:i] + strings.Replace(src[i:], `stage  = "migrated"`, `stage  = "completed"`, 1)
	})
	if code, out, errOut := runCLI(t, "apply", dir, "--sim", "--auto-approve"); code != 0 {
		t.Fatalf("apply: exit %d %s%s", code, out, errOut)
	}
	for _, format := range []string{"human", "json"} {
		code, out, errOut := runCLI(t, "rollback", dir, "--sim", "--format", format)
		if code != 1 || out != "" {
			t.Fatalf("rollback --format %s after commit: exit %d, want 1 and no plan\n%s%s", format, code, out, errOut)
		}
		commit := regexp.MustCompile(`vm\.db01: failover_commit \(step vm\.db01\.failover_commit\) succeeded at 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ, a point of no return`)
		if !commit.MatchString(errOut) || !strings.Contains(errOut, "--target") {
			t.Errorf("the refusal does not name the commit and when it was done:\n%s", errOut)
		}
	}
	code, out, errOut := runCLI(t, "rollback", dir, "--sim", "--format", "json", "--target", "vm.app01", "--target", "vm.app02")
	if code != 0 || !json.Valid([]byte(out)) {
		t.Fatalf("rollback of the others: exit %d %s%s", code, out, errOut)
	}
	if !strings.Contains(out, "vm.app01.undo.unplanned_failover") || !strings.Contains(out, "vm.app02.undo.unplanned_failover") || strings.Contains(out, "vm.db01") {
		t.Errorf("rollback --target plans the wrong VMs:\n%s", out)
	}
}

// TestRollbackRelocateAndSnapshot relocates db01 to another host and
// snapshots it on the way to migrated, then rolls back: db01 is moved back
// to its recorded host and the snapshot is gone (read back from the
// simulated vCenter's saved world).
func TestRollbackRelocateAndSnapshot(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	dir := copyExample(t, "quickstart")
	editRunbook(t, dir, func(src string) string {
		return strings.Replace(src, "    snapshot_before_cutover = true\n", "    snapshot_before_cutover = true\n    host                    = \"DC0_C0_H1\"\n", 1)
	})
	rehearseCancel(t, dir)
	if code, out, errOut := runCLI(t, "apply", dir, "--sim", "--auto-approve"); code != 0 || !strings.Contains(out, "vm.db01.relocate: succeeded") {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	world := func() map[string]any {
		b, err := os.ReadFile(filepath.Join(dir, ".cutover", "sim", "vcenter.json"))
		if err != nil {
			t.Fatal(err)
		}
		var w map[string]any
		if err := json.Unmarshal(b, &w); err != nil {
			t.Fatal(err)
		}
		for _, vm := range w["datacenters"].([]any)[0].(map[string]any)["vms"].([]any) {
			if m := vm.(map[string]any); m["name"] == "db01" {
				return m
			}
		}
		t.Fatal("db01 not in the simulated world")
		return nil
	}
	if db := world(); db["host"] != "DC0_C0_H1" || db["snapshots"] == nil {
		t.Fatalf("after apply: %v", db)
	}
	rplan := filepath.Join(t.TempDir(), "r.plan")
	if code, out, errOut := runCLI(t, "rollback", dir, "--sim", "--out", rplan); code != 0 || !strings.Contains(out, "relocate") {
		t.Fatalf("rollback: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "apply", rplan); code != 0 {
		t.Fatalf("apply rollback: exit %d\n%s%s", code, out, errOut)
	}
	if db := world(); db["host"] != "DC0_C0_H0" || db["snapshots"] != nil || db["powerState"] != "poweredOn" {
		t.Errorf("after rollback db01 is %v; want back on DC0_C0_H0, powered on, without snapshots", db)
	}
}

// TestRollbackAfterReplicating undoes an apply that only started
// replication: replication is removed (the clean remove, not purge).
func TestRollbackAfterReplicating(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	dir := copyExample(t, "quickstart")
	editRunbook(t, dir, func(src string) string { return strings.ReplaceAll(src, `"migrated"`, `"replicating"`) })
	if code, out, errOut := runCLI(t, "apply", dir, "--sim", "--auto-approve"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	for vm, r := range statusOf(t, dir) {
		if r.Live != "replicating" && r.Live != "protected" {
			t.Fatalf("%s after apply: %+v", vm, r)
		}
	}
	rplan := filepath.Join(t.TempDir(), "r.plan")
	code, out, errOut := runCLI(t, "rollback", dir, "--sim", "--out", rplan)
	if code != 0 || strings.Count(out, "undo.enable_replication {") != 3 || strings.Count(out, "# runs disable_replication") != 3 || strings.Contains(out, "power_on") {
		t.Fatalf("rollback: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "apply", rplan); code != 0 {
		t.Fatalf("apply rollback: exit %d\n%s%s", code, out, errOut)
	}
	for vm, r := range statusOf(t, dir) {
		if r.Live != "discovered" {
			t.Errorf("%s after rollback: %+v", vm, r)
		}
	}
}

// TestRollbackCleansUpATestFailover leaves a test failover up (its cleanup
// refused by the vault), then rolls back: the rollback plan cleans the
// test failover up and disables replication, and live state says so.
func TestRollbackCleansUpATestFailover(t *testing.T) {
	w := newSimWorld(t, 3, nil)
	discardStdLog(t)
	const vm = "app-002"
	w.az.InjectFault(azuresim.Fault{Operation: "testFailoverCleanup", VM: vm, Status: http.StatusBadRequest,
		Code: "InvalidParameter", Message: "cleanup refused for the test"})
	c := w.startApply(t, 10)
	c.wait(t, 90*time.Second)
	if c.exitCode() != 1 {
		t.Fatalf("apply: exit %d, want 1 (the cleanup fails)\n%s", c.exitCode(), c.output())
	}
	if _, tfo, _ := w.az.ProtectionState(vm); tfo != azuresim.TestFailoverWaiting {
		t.Fatalf("%s's test failover should be up, waiting for cleanup; state %s", vm, tfo)
	}
	w.az.ClearFaults()
	// The other VMs failed over; undoing that needs CancelFailover, which
	// only a vault set up for it offers (see azuresim's doc).
	if err := w.az.SetAllowCancelFailover(true); err != nil {
		t.Fatal(err)
	}

	rplan := filepath.Join(t.TempDir(), "r.plan")
	code, out, errOut := runCLI(t, "rollback", w.dir, "--out", rplan, "--format", "json")
	if code != 0 {
		t.Fatalf("rollback: exit %d\n%s%s", code, out, errOut)
	}
	undo := groupOf(w, vm) + `[\"` + vm + `\"].undo.test_failover`
	if !strings.Contains(out, undo) || !strings.Contains(out, `"test_failover_cleanup"`) {
		t.Fatalf("the rollback plan does not clean up %s's test failover:\n%s", vm, out)
	}
	if code, out, errOut := runCLI(t, "apply", rplan, "--settle-delay", "10ms"); code != 0 {
		t.Fatalf("apply rollback: exit %d\n%s%s", code, out, errOut)
	}
	if _, _, exists := w.az.ProtectionState(vm); exists {
		t.Errorf("%s is still protected after the rollback", vm)
	}
}
