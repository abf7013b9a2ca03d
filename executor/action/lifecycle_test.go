package action_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"cutover/executor/action"
	"cutover/planner"
	"cutover/providers/azure/azuresim"
	"cutover/schema"
)

// TestLifecycleOneVM drives db01 of the quickstart from discovered to
// completed through the plan's own steps, checking Done before and after
// each step and reading the world back independently of the Runner.
func TestLifecycleOneVM(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "quickstart")
	vmOf(t, rb, "vm.db01").Stage = schema.StageCompleted
	f := openWorld(t, rb, 0.001)
	r, env := f.runner(t)
	ctx := ctxT(t)
	sim := f.w.Vaults["migrate"]

	steps := stepsOf(f.plan(t, env), "vm.db01")
	want := "enable_replication wait_protected test_failover test_failover_cleanup snapshot shutdown unplanned_failover failover_commit complete_migration"
	if got := kinds(steps); got != want {
		t.Fatalf("db01 steps:\n got %s\nwant %s", got, want)
	}

	for _, s := range steps {
		before, _, _ := sim.ProtectionState("db01")
		done, err := r.Done(ctx, s)
		if err != nil {
			t.Fatalf("%s: done before: %v", s.ID, err)
		}
		if s.Kind == planner.StepWaitProtected {
			// At this time scale initial replication may end at any moment,
			// so the state is read on both sides of Done.
			after, _, _ := sim.ProtectionState("db01")
			if done && after != azuresim.StateProtected || !done && before == azuresim.StateProtected {
				t.Fatalf("%s: done %v with protection state %s then %s", s.ID, done, before, after)
			}
		} else if done {
			t.Fatalf("%s: done before it started", s.ID)
		}
		ok, reason, err := r.Gate(ctx, s)
		if s.Kind == planner.StepUnplannedFailover && s.Inputs["recovery_point"] == planner.RecoveryPointAfterShutdown {
			// db01 shuts down through vCenter: the failover waits for a
			// recovery point newer than the shutdown.
			if ok || !strings.Contains(reason, "recovery point newer than the source shutdown") {
				t.Fatalf("%s: gate %v %q before a newer recovery point", s.ID, ok, reason)
			}
			for deadline := time.Now().Add(10 * time.Second); !ok && err == nil && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				ok, reason, err = r.Gate(ctx, s)
			}
		}
		if err != nil || !ok {
			t.Fatalf("%s: gate closed: %q %v", s.ID, reason, err)
		}

		st, err := r.Start(ctx, s)
		if err != nil {
			t.Fatalf("%s: start: %v", s.ID, err)
		}
		if s.Kind != planner.StepWaitProtected && st.Handle == nil {
			t.Fatalf("%s: no handle", s.ID)
		}
		var h action.Handle
		if err := json.Unmarshal(st.Handle, &h); err != nil {
			t.Fatalf("%s: handle %s: %v", s.ID, st.Handle, err)
		}
		if s.Kind.Provider() == "azure" && s.Kind != planner.StepWaitProtected && (h.Azure == nil || h.Azure.JobID == "") {
			t.Fatalf("%s: handle lacks the ASR job: %s", s.ID, st.Handle)
		}
		var events int
		if err := r.Wait(ctx, s, st.Handle, func(action.Progress) { events++ }); err != nil {
			t.Fatalf("%s: wait: %v", s.ID, err)
		}
		// A vCenter task of the simulator may end before Wait follows it;
		// an ASR job is always polled at least once.
		if events == 0 && s.Kind.Provider() == "azure" && s.Kind != planner.StepWaitProtected {
			t.Errorf("%s: no progress reported", s.ID)
		}
		if done, err := r.Done(ctx, s); err != nil || !done {
			t.Fatalf("%s: not done after wait (%v)", s.ID, err)
		}

		state, tfo, exists := sim.ProtectionState("db01")
		switch s.Kind {
		case planner.StepEnableReplication:
			if !exists {
				t.Fatal("no protected item after enable")
			}
		case planner.StepWaitProtected:
			if state != azuresim.StateProtected {
				t.Fatalf("after wait_protected: %s", state)
			}
		case planner.StepTestFailover:
			if tfo != azuresim.TestFailoverWaiting {
				t.Fatalf("after test failover: %s", tfo)
			}
		case planner.StepTestCleanup:
			if tfo != azuresim.TestFailoverCleaned || state != azuresim.StateProtected {
				t.Fatalf("after cleanup: %s %s", state, tfo)
			}
		case planner.StepSnapshot:
			v, _ := sourceVM(t, f, "db01")
			if _, ok := v.FindSnapshot("cutover-db01-az"); !ok {
				t.Fatalf("snapshot cutover-db01-az missing: %+v", v.Snapshots)
			}
			var b action.SourceBefore
			if err := json.Unmarshal(st.Before, &b); err != nil || b.SnapshotName != "cutover-db01-az" || b.VM.MoRef != v.MoRef {
				t.Fatalf("snapshot before-image %s (%v)", st.Before, err)
			}
		case planner.StepShutdown:
			v, _ := sourceVM(t, f, "db01")
			if v.PowerState != "poweredOff" {
				t.Fatalf("after shutdown: %s", v.PowerState)
			}
			var b action.SourceBefore
			if err := json.Unmarshal(st.Before, &b); err != nil || b.PowerState != "poweredOn" {
				t.Fatalf("shutdown before-image %s (%v)", st.Before, err)
			}
		case planner.StepUnplannedFailover:
			if state != azuresim.StateFailedOver {
				t.Fatalf("after failover: %s", state)
			}
			var b action.TargetBefore
			if err := json.Unmarshal(st.Before, &b); err != nil || b.ProtectionState != azuresim.StateProtected || b.Item == "" {
				t.Fatalf("failover before-image %s (%v)", st.Before, err)
			}
		case planner.StepFailoverCommit:
			if state != azuresim.StateCommitted {
				t.Fatalf("after commit: %s", state)
			}
		case planner.StepCompleteMigration:
			if exists {
				t.Fatalf("item still there after complete migration: %s", state)
			}
		}
		for _, b := range [][]byte{st.Handle, st.Before} {
			if strings.Contains(string(b), f.w.VCenter.Password) || strings.Contains(string(b), "simulated") {
				t.Fatalf("%s: a secret reached the journal: %s", s.ID, b)
			}
		}
	}

	// Complete migration is the clean remove, never the purge.
	for _, q := range sim.Requests() {
		if q.Method == "DELETE" {
			t.Fatalf("purge sent: %+v", q)
		}
	}
}
