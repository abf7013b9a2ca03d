package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cutover/executor/journal"
	"cutover/providers/azure/azuresim"
)

// TestBackOutOrdersDeallocateBeforePowerOn migrates a VM whose source
// cutover shuts down (shutdown = "hard") to a vault that, like InMageRcm,
// offers no CancelFailover after an unplanned failover, then rolls it back.
// The simulator's power history, its request log and the journal must
// agree: the Azure VM was deallocated (its instance view said so) before
// the source's power-on was journaled, nothing started it again, and no
// request asked for an operation the item did not allow.
func TestBackOutOrdersDeallocateBeforePowerOn(t *testing.T) {
	w := newSimWorld(t, 2, nil)
	discardStdLog(t)
	const vm = "app-001" // i = 1: a "hard" VM, shut down by cutover in vCenter
	if !w.hardVMs[vm] {
		t.Fatalf("%s is not a hard-shutdown VM in this world", vm)
	}
	c := w.startApply(t, 10)
	c.wait(t, 90*time.Second)
	if c.exitCode() != 0 {
		t.Fatalf("apply: exit %d\n%s", c.exitCode(), c.output())
	}
	if p, _, ok := w.az.AzureVM(vm); !ok || p != azuresim.PowerRunning {
		t.Fatalf("after the failover the Azure VM is %q (exists %v), want running", p, ok)
	}
	if p := w.powerState(t, vm); p != "poweredOff" {
		t.Fatalf("after the failover the source is %s", p)
	}

	rplan := filepath.Join(t.TempDir(), "r.plan")
	code, out, errOut := runCLI(t, "rollback", w.dir, "--out", rplan, "--target", groupOf(w, vm)+`["`+vm+`"]`)
	if code != 0 || !strings.Contains(out, "runs deallocate_azure_vm") || strings.Contains(out, "runs failover_cancel") {
		t.Fatalf("rollback: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "apply", rplan, "--settle-delay", "10ms"); code != 0 {
		t.Fatalf("apply rollback: exit %d\n%s%s", code, out, errOut)
	}

	// Azure side: deallocated, through deallocating, never started again.
	if p, _, ok := w.az.AzureVM(vm); !ok || p != azuresim.PowerDeallocated {
		t.Fatalf("after the rollback the Azure VM is %q (exists %v), want deallocated", p, ok)
	}
	var deallocated time.Time
	for _, h := range w.az.AzureVMHistory(vm) {
		if h.State == azuresim.PowerDeallocated {
			deallocated = h.Wall
		}
	}
	// vCenter side: on, and the item still failed over.
	if p := w.powerState(t, vm); p != "poweredOn" {
		t.Errorf("after the rollback the source is %s", p)
	}
	if st, _, _ := w.az.ProtectionState(vm); st == azuresim.StateProtected {
		t.Errorf("the item is Protected: it was cancelled, though the vault does not allow it")
	}

	// The journal: the deallocate step succeeded, then the power-on began.
	rep, err := w.store(t).Replay(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	addr := groupOf(w, vm) + `["` + vm + `"]`
	var deallocDone, powerOnBegan time.Time
	for _, r := range rep.Records {
		switch {
		case r.StepID == addr+".undo.unplanned_failover" && r.Kind == journal.StepSucceeded:
			deallocDone = r.Time
		case r.StepID == addr+".undo.shutdown" && (r.Kind == journal.StepPending || r.Kind == journal.StepStarted) && powerOnBegan.IsZero():
			powerOnBegan = r.Time
		}
	}
	if deallocated.IsZero() || deallocDone.IsZero() || powerOnBegan.IsZero() {
		t.Fatalf("missing evidence: deallocated at %v, deallocate step succeeded at %v, power-on began at %v", deallocated, deallocDone, powerOnBegan)
	}
	if !deallocated.Before(powerOnBegan) || deallocDone.After(powerOnBegan) {
		t.Errorf("order: Azure VM deallocated %v, deallocate step succeeded %v, power-on began %v", deallocated, deallocDone, powerOnBegan)
	}

	// The request log: one deallocate accepted before the power-on, the
	// gate's read of the VM between the deallocation and the power-on, no
	// start, and no refusal of an operation the item did not allow.
	var deallocs, gateReads int
	for _, r := range w.az.Requests() {
		p := strings.ToLower(r.Path)
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(p, "/virtualmachines/"+vm+"/deallocate"):
			deallocs++
			if r.Status != http.StatusAccepted || !r.Time.Before(powerOnBegan) {
				t.Errorf("deallocate request %+v", r)
			}
		case r.Method == http.MethodGet && strings.HasSuffix(p, "/virtualmachines/"+vm) && r.Time.After(deallocated) && r.Time.Before(powerOnBegan):
			gateReads++
		case r.Method == http.MethodPost && strings.HasSuffix(p, "/start"):
			t.Errorf("an Azure VM was started: %+v", r)
		case strings.HasSuffix(p, "/failovercancel"):
			t.Errorf("a cancel was sent to a vault that does not offer it: %+v", r)
		case r.Status == http.StatusConflict:
			t.Errorf("a request for an operation the item did not allow: %+v", r)
		}
	}
	if deallocs != 1 || gateReads == 0 {
		t.Errorf("%d deallocate requests (want 1), %d reads of the Azure VM between its deallocation and the power-on (want some)", deallocs, gateReads)
	}
}
