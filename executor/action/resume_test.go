package action_test

import (
	"encoding/json"
	"testing"

	"cutover/executor/action"
	"cutover/planner"
	"cutover/providers/azure/azuresim"
)

// TestResumeInNewRunner starts steps with one Runner, throws it away as a
// crash would, and finishes them with a brand-new Runner on brand-new
// connections from nothing but the journaled handle.
func TestResumeInNewRunner(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "quickstart")
	// Slow enough that jobs are still running when the new Runner looks.
	f := openWorld(t, rb, 0.05)
	ctx := ctxT(t)
	sim := f.w.Vaults["migrate"]
	first, env := f.runner(t)
	p := f.plan(t, env)

	// crash starts s with a throwaway Runner and returns the journaled
	// handle, serialized and read back as the executor's journal would.
	crash := func(s planner.Step) json.RawMessage {
		t.Helper()
		st, err := first.Start(ctx, s)
		if err != nil {
			t.Fatalf("%s: start: %v", s.ID, err)
		}
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var back action.Started
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		first.Close()
		return back.Handle
	}
	fresh := func() *action.Runner {
		r, _ := f.runner(t)
		return r
	}

	enable := step(t, p, "vm.db01", planner.StepEnableReplication)
	h := crash(enable)
	writes0 := writes(sim.Requests())
	r := fresh()
	if err := r.Wait(ctx, enable, h, nil); err != nil {
		t.Fatalf("enable: wait in new runner: %v", err)
	}
	if done, err := r.Done(ctx, enable); err != nil || !done {
		t.Fatalf("enable not done after resumed wait (%v)", err)
	}
	if n := writes(sim.Requests()); n != writes0 {
		t.Fatalf("the resumed wait sent %d writes", n-writes0)
	}

	wp := step(t, p, "vm.db01", planner.StepWaitProtected)
	var percents []int
	if err := r.Wait(ctx, wp, crash(wp), func(p action.Progress) { percents = append(percents, p.Percent) }); err != nil {
		t.Fatalf("wait_protected: %v", err)
	}
	if len(percents) == 0 || percents[len(percents)-1] != 100 {
		t.Fatalf("initial replication progress %v, want to end at 100", percents)
	}

	// A crash between request and response: the journal has no handle.
	// The new Runner must not send the test failover again but attach to
	// the running job.
	tf := step(t, p, "vm.db01", planner.StepTestFailover)
	first, _ = f.runner(t)
	lost := crash(tf)
	var lostH action.Handle
	if err := json.Unmarshal(lost, &lostH); err != nil || lostH.Azure == nil {
		t.Fatalf("test failover handle %s (%v)", lost, err)
	}
	r = fresh()
	if done, err := r.Done(ctx, tf); err != nil || done {
		t.Fatalf("test failover done while its job runs? %v %v", done, err)
	}
	writes0 = writes(sim.Requests())
	st, err := r.Start(ctx, tf)
	if err != nil {
		t.Fatalf("restart of a running test failover: %v", err)
	}
	if n := writes(sim.Requests()); n != writes0 {
		t.Fatalf("restart sent %d writes instead of attaching", n-writes0)
	}
	var got action.Handle
	if err := json.Unmarshal(st.Handle, &got); err != nil || got.Azure == nil || got.Azure.JobID != lostH.Azure.JobID {
		t.Fatalf("attached to %s, want job %s", st.Handle, lostH.Azure.JobID)
	}
	if err := r.Wait(ctx, tf, st.Handle, nil); err != nil {
		t.Fatalf("wait on the attached job: %v", err)
	}
	if _, tfo, _ := sim.ProtectionState("db01"); tfo != azuresim.TestFailoverWaiting {
		t.Fatalf("test failover state %s", tfo)
	}

	// vCenter: a snapshot task and a guest shutdown followed by handle.
	p = f.plan(t, env)
	first, _ = f.runner(t)
	snap := step(t, p, "vm.db01", planner.StepSnapshot)
	h = crash(snap)
	var sh action.Handle
	if err := json.Unmarshal(h, &sh); err != nil || sh.VCenter == nil || sh.VCenter.Task == "" {
		t.Fatalf("snapshot handle %s (%v)", h, err)
	}
	if err := fresh().Wait(ctx, snap, h, nil); err != nil {
		t.Fatalf("snapshot: wait in new runner: %v", err)
	}
	if v, _ := sourceVM(t, f, "db01"); v == nil || len(v.Snapshots) != 1 {
		t.Fatalf("want one snapshot, got %+v", v)
	}

	first, _ = f.runner(t)
	down := step(t, p, "vm.db01", planner.StepShutdown)
	h = crash(down)
	if err := json.Unmarshal(h, &sh); err != nil || sh.Shutdown == nil {
		t.Fatalf("shutdown handle %s (%v)", h, err)
	}
	r = fresh()
	if err := r.Wait(ctx, down, h, nil); err != nil {
		t.Fatalf("shutdown: wait in new runner: %v", err)
	}
	if v, _ := sourceVM(t, f, "db01"); v.PowerState != "poweredOff" {
		t.Fatalf("after resumed shutdown: %s", v.PowerState)
	}
	// Starting it again is harmless: the effect is there, nothing is sent.
	if st, err := r.Start(ctx, snap); err != nil || st.Handle != nil {
		t.Fatalf("second snapshot start: %s %v", st.Handle, err)
	}
	if v, _ := sourceVM(t, f, "db01"); len(v.Snapshots) != 1 {
		t.Fatalf("a second snapshot was taken: %+v", v.Snapshots)
	}

	// The inverse of the snapshot, resumed the same way.
	first, _ = f.runner(t)
	rm := planner.Step{ID: "vm.db01.remove_snapshot", VM: "vm.db01", Kind: action.KindRemoveSnapshot,
		Inputs: map[string]string{"name": "cutover-db01-az"}}
	h = crash(rm)
	if err := json.Unmarshal(h, &sh); err != nil || sh.VCenter == nil {
		t.Fatalf("remove_snapshot handle %s (%v)", h, err)
	}
	r = fresh()
	if err := r.Wait(ctx, rm, h, nil); err != nil {
		t.Fatalf("remove_snapshot: wait in new runner: %v", err)
	}
	if v, _ := sourceVM(t, f, "db01"); len(v.Snapshots) != 0 {
		t.Fatalf("snapshot left after remove_snapshot: %+v", v.Snapshots)
	}
	if done, err := r.Done(ctx, rm); err != nil || !done {
		t.Fatalf("remove_snapshot not done (%v)", err)
	}
}
