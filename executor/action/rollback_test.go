package action_test

import (
	"encoding/json"
	"testing"

	"cutover/executor/action"
	"cutover/planner"
	"cutover/providers/azure/azuresim"
)

// TestFailoverAndBack runs app02 through a hard shutdown and a failover,
// then back the way an inverse plan would: cancel the failover, power the
// source on, disable replication.
func TestFailoverAndBack(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "quickstart")
	f := openWorld(t, rb, 0.001)
	r, env := f.runner(t)
	ctx := ctxT(t)
	sim := f.w.Vaults["migrate"]
	// A real InMageRcm item offers no CancelFailover after a failover
	// (see azuresim's doc); this rehearses a vault that does.
	if err := sim.SetAllowCancelFailover(true); err != nil {
		t.Fatal(err)
	}
	p := f.plan(t, env)

	mk := func(k planner.StepKind, in map[string]string) planner.Step {
		return planner.Step{ID: "vm.app02." + string(k), VM: "vm.app02", Kind: k, Inputs: in}
	}
	steps := []planner.Step{
		step(t, p, "vm.app02", planner.StepEnableReplication),
		step(t, p, "vm.app02", planner.StepWaitProtected),
		mk(planner.StepShutdown, map[string]string{"mode": "hard"}),
		mk(planner.StepUnplannedFailover, map[string]string{"perform_shutdown": "false", "recovery_point": "latest"}),
		mk(planner.StepFailoverCancel, nil),
		mk(planner.StepPowerOn, nil),
		mk(planner.StepDisableReplication, nil),
	}
	for _, s := range steps {
		if s.Kind != planner.StepWaitProtected {
			if done, err := r.Done(ctx, s); err != nil || done {
				t.Fatalf("%s: done before start (%v)", s.ID, err)
			}
		}
		st, err := r.Start(ctx, s)
		if err != nil {
			t.Fatalf("%s: %v", s.ID, err)
		}
		var h action.Handle
		_ = json.Unmarshal(st.Handle, &h)
		if s.Kind == planner.StepShutdown && (h.VCenter == nil || h.Shutdown != nil) {
			t.Fatalf("a hard shutdown is a power-off task, got handle %s", st.Handle)
		}
		if err := r.Wait(ctx, s, st.Handle, nil); err != nil {
			t.Fatalf("%s: %v", s.ID, err)
		}
		if done, err := r.Done(ctx, s); err != nil || !done {
			t.Fatalf("%s: not done after wait (%v)", s.ID, err)
		}
		state, _, exists := sim.ProtectionState("app02")
		v, _ := sourceVM(t, f, "app02")
		switch s.Kind {
		case planner.StepShutdown:
			if v.PowerState != "poweredOff" {
				t.Fatalf("after hard shutdown: %s", v.PowerState)
			}
		case planner.StepUnplannedFailover:
			if state != azuresim.StateFailedOver {
				t.Fatalf("after failover: %s", state)
			}
		case planner.StepFailoverCancel:
			if state != azuresim.StateProtected {
				t.Fatalf("after cancel: %s", state)
			}
		case planner.StepPowerOn:
			if v.PowerState != "poweredOn" {
				t.Fatalf("after power on: %s", v.PowerState)
			}
		case planner.StepDisableReplication:
			if exists {
				t.Fatalf("item still there after disable: %s", state)
			}
		}
	}
	for _, q := range sim.Requests() {
		if q.Method == "DELETE" {
			t.Fatalf("disable sent a purge: %+v", q)
		}
	}
}
