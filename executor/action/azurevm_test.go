package action_test

import (
	"encoding/json"
	"errors"
	"testing"

	"cutover/executor/action"
	"cutover/planner"
	"cutover/providers/azure/azuresim"
)

// TestPowerOnWaitsForTheAzureVM fails app02 over to a vault that offers
// no CancelFailover, then tries to power the source on: refused at once
// while the Azure VM runs (nothing sent to vCenter), waited for while it
// is deallocating, allowed once deallocate_azure_vm has left it
// deallocated.
func TestPowerOnWaitsForTheAzureVM(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "quickstart")
	f := openWorld(t, rb, 0.001)
	r, env := f.runner(t)
	ctx := ctxT(t)
	sim := f.w.Vaults["migrate"]
	p := f.plan(t, env)
	mk := func(k planner.StepKind, in map[string]string) planner.Step {
		return planner.Step{ID: "vm.app02." + string(k), VM: "vm.app02", Kind: k, Inputs: in}
	}
	for _, s := range []planner.Step{
		step(t, p, "vm.app02", planner.StepEnableReplication),
		step(t, p, "vm.app02", planner.StepWaitProtected),
		mk(planner.StepShutdown, map[string]string{"mode": "hard"}),
		mk(planner.StepUnplannedFailover, map[string]string{"perform_shutdown": "false", "recovery_point": "latest"}),
	} {
		runToDone(t, ctx, r, s)
	}
	if pw, _, ok := sim.AzureVM("app02"); !ok || pw != azuresim.PowerRunning {
		t.Fatalf("after the failover the Azure VM is %q (exists %v)", pw, ok)
	}

	// No inputs: the gate finds the Azure VM from the item's target.
	on := mk(planner.StepPowerOn, nil)
	cases := []struct {
		name      string
		power     string // set on the Azure VM first ("" leaves it)
		twoCopies bool
		gated     bool
	}{
		{name: "running", twoCopies: true},
		{name: "starting", power: azuresim.PowerStarting, twoCopies: true},
		{name: "deallocating", power: azuresim.PowerDeallocating, gated: true},
	}
	for _, tc := range cases {
		if tc.power != "" {
			if err := sim.SetAzureVMPower("app02", tc.power); err != nil {
				t.Fatal(err)
			}
		}
		_, err := r.Start(ctx, on)
		var two *action.TwoCopiesError
		if errors.As(err, &two) != tc.twoCopies || action.GateClosed(err) != tc.gated || action.Transient(err) {
			t.Fatalf("%s: power_on start: %v", tc.name, err)
		}
		ok, reason, gerr := r.Gate(ctx, on)
		if ok || (gerr != nil) != tc.twoCopies || tc.gated && reason == "" {
			t.Fatalf("%s: gate %v %q %v", tc.name, ok, reason, gerr)
		}
		if v, _ := sourceVM(t, f, "app02"); v.PowerState != "poweredOff" {
			t.Fatalf("%s: the source was powered on while the Azure VM was %s", tc.name, tc.name)
		}
	}

	dealloc := mk(planner.StepDeallocateAzureVM, map[string]string{"azure_vm": "app02", "azure_resource_group": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/app-prod"})
	st := runToDone(t, ctx, r, dealloc)
	var before action.AzureVMBefore
	if err := json.Unmarshal(st.Before, &before); err != nil || !before.Exists || before.PowerState != azuresim.PowerDeallocating || before.VMID == "" {
		t.Fatalf("deallocate before-image %s (%v)", st.Before, err)
	}
	if pw, _, _ := sim.AzureVM("app02"); pw != azuresim.PowerDeallocated {
		t.Fatalf("after deallocate_azure_vm: %s", pw)
	}
	runToDone(t, ctx, r, on)
	if v, _ := sourceVM(t, f, "app02"); v.PowerState != "poweredOn" {
		t.Fatalf("after power_on: %s", v.PowerState)
	}
	// Done again: a second deallocate sends nothing.
	n := writes(sim.Requests())
	if st, err := r.Start(ctx, dealloc); err != nil || st.Handle != nil || writes(sim.Requests()) != n {
		t.Fatalf("second deallocate: %v, handle %s, %d writes", err, st.Handle, writes(sim.Requests())-n)
	}
}
