package action_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"cutover/executor/action"
	"cutover/planner"
	"cutover/providers/vcenter"
)

// TestMigrateFromRunbook: a pool-only move in the rehearsal example runs
// as MigrateVM_Task with the runbook's priority, is read back, and its
// rollback migrates the VM back. Powered off, the plan guards the cold
// migration with state, and vCenter refuses it once the VM is running.
func TestMigrateFromRunbook(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "rehearsal")
	vmOf(t, rb, "vm.billing01").Source.MovePriority = "high"
	f := openWorld(t, rb, 0.001)
	r, env := f.runner(t)
	ctx := ctxT(t)

	v, inv := sourceVM(t, f, "billing01")
	oldPool := v.Pool
	mv := step(t, f.plan(t, env), "vm.billing01", planner.StepRelocate)
	if mv.Inputs["method"] != planner.MethodMigrate || mv.Inputs["priority"] != "high" || mv.Inputs["state"] != "" {
		t.Fatalf("relocate step inputs %v, want MigrateVM_Task, high, no state", mv.Inputs)
	}
	st := runToDone(t, ctx, r, mv)
	var h action.Handle
	if err := json.Unmarshal(st.Handle, &h); err != nil || h.VCenter == nil || h.VCenter.Op != vcenter.OpMigrate {
		t.Fatalf("handle %s (%v), want a migrate task", st.Handle, err)
	}
	v, inv = sourceVM(t, f, "billing01")
	if e, _ := inv.Entity(v.Pool); !strings.HasSuffix(e.Path, "/Resources/prod") {
		t.Fatalf("after migrate the pool is %s", e.Path)
	}

	back, _ := planner.Inverse(rb, []planner.Applied{{ID: mv.ID, Before: st.Before}}, nil, planner.Options{Now: time.Now()})
	if len(back.Steps) != 1 || back.Steps[0].Inputs["method"] != planner.MethodMigrate || back.Steps[0].Inputs["resource_pool"] != oldPool {
		t.Fatalf("inverse plan %+v", back.Steps)
	}
	st = runToDone(t, ctx, r, back.Steps[0])
	if err := json.Unmarshal(st.Handle, &h); err != nil || h.VCenter == nil || h.VCenter.Op != vcenter.OpMigrate {
		t.Fatalf("rollback handle %s (%v), want a migrate task", st.Handle, err)
	}
	if v, _ = sourceVM(t, f, "billing01"); v.Pool != oldPool {
		t.Fatalf("after rollback the pool is %s, want %s", v.Pool, oldPool)
	}

	// Powered off: the plan asks for a cold migration only.
	off := planner.Step{ID: "vm.billing01.shutdown", VM: "vm.billing01", Kind: planner.StepShutdown, Inputs: map[string]string{"mode": "hard"}}
	runToDone(t, ctx, r, off)
	cold := step(t, f.plan(t, env), "vm.billing01", planner.StepRelocate)
	if cold.Inputs["state"] != "poweredOff" || cold.Disruptive {
		t.Fatalf("cold move inputs %v disruptive %v", cold.Inputs, cold.Disruptive)
	}
	runToDone(t, ctx, r, planner.Step{ID: "vm.billing01.power_on", VM: "vm.billing01", Kind: planner.StepPowerOn})
	st, err := r.Start(ctx, cold)
	if err == nil {
		err = r.Wait(ctx, cold, st.Handle, nil)
	}
	if err == nil || !strings.Contains(err.Error(), "InvalidPowerState") || !strings.Contains(err.Error(), "billing01") {
		t.Fatalf("cold migration of a running VM: %v, want InvalidPowerState naming billing01", err)
	}
	if v, _ = sourceVM(t, f, "billing01"); v.Pool != oldPool {
		t.Fatalf("a refused migration moved the VM to %s", v.Pool)
	}
}
