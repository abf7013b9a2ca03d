package action_test

import (
	"encoding/json"
	"strings"
	"testing"

	"cutover/executor/action"
	"cutover/planner"
	"cutover/providers/vcenter"
)

// TestRelocateAndCloneRehearsal plans the rehearsal example (relocate the
// source into the prod pool, clone it into the rehearsal pool with a guest
// customization), performs both and reads vCenter back; the relocation's
// before-image then moves the VM back.
func TestRelocateAndCloneRehearsal(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "rehearsal")
	f := openWorld(t, rb, 0.001)
	r, env := f.runner(t)
	ctx := ctxT(t)
	p := f.plan(t, env)

	pathOf := func(inv *vcenter.Inventory, moref string) string {
		e, _ := inv.Entity(moref)
		return e.Path
	}
	v, inv := sourceVM(t, f, "billing01")
	oldPool := v.Pool
	if strings.HasSuffix(pathOf(inv, v.Pool), "/prod") {
		t.Fatalf("world starts in the prod pool already")
	}

	run := func(s planner.Step) action.Started {
		t.Helper()
		if done, err := r.Done(ctx, s); err != nil || done {
			t.Fatalf("%s: done before start (%v)", s.ID, err)
		}
		st, err := r.Start(ctx, s)
		if err != nil {
			t.Fatalf("%s: %v", s.ID, err)
		}
		if st.Handle == nil {
			t.Fatalf("%s: no handle", s.ID)
		}
		if err := r.Wait(ctx, s, st.Handle, nil); err != nil {
			t.Fatalf("%s: %v", s.ID, err)
		}
		if done, err := r.Done(ctx, s); err != nil || !done {
			t.Fatalf("%s: not done after wait (%v)", s.ID, err)
		}
		return st
	}

	rel := run(step(t, p, "vm.billing01", planner.StepRelocate))
	v, inv = sourceVM(t, f, "billing01")
	if got := pathOf(inv, v.Pool); !strings.HasSuffix(got, "/Resources/prod") {
		t.Fatalf("after relocate the pool is %s", got)
	}
	var before action.SourceBefore
	if err := json.Unmarshal(rel.Before, &before); err != nil || before.Placement == nil || before.Placement.Pool != oldPool {
		t.Fatalf("relocate before-image %s (%v), want pool %s", rel.Before, err, oldPool)
	}

	clone := step(t, p, "vm.billing01", planner.StepCloneRehearsal)
	cst := run(clone)
	c, inv := sourceVM(t, f, "billing01-rehearsal")
	if c == nil {
		t.Fatal("the rehearsal clone does not exist")
	}
	if got := pathOf(inv, c.Pool); !strings.HasSuffix(got, "/Resources/rehearsal") || c.PowerState != "poweredOn" {
		t.Fatalf("clone in %s, %s; want the rehearsal pool, powered on", got, c.PowerState)
	}
	if err := json.Unmarshal(cst.Before, &before); err != nil || before.CloneName != "billing01-rehearsal" {
		t.Fatalf("clone before-image %s (%v)", cst.Before, err)
	}
	// A second start finds the clone and sends nothing.
	if st, err := r.Start(ctx, clone); err != nil || st.Handle != nil {
		t.Fatalf("second clone start: %s %v", st.Handle, err)
	}

	// The inverse plan: destroy the clone by the name the before-image
	// recorded, relocate back to the recorded placement (morefs).
	run(planner.Step{ID: "vm.billing01.destroy_clone", VM: "vm.billing01", Kind: action.KindDestroyClone,
		Inputs: map[string]string{"name": before.CloneName}})
	if c, _ := sourceVM(t, f, "billing01-rehearsal"); c != nil {
		t.Fatal("the clone survived destroy_clone")
	}
	var relBefore action.SourceBefore
	if err := json.Unmarshal(rel.Before, &relBefore); err != nil {
		t.Fatal(err)
	}
	run(planner.Step{ID: "vm.billing01.relocate", VM: "vm.billing01", Kind: planner.StepRelocate,
		Inputs: map[string]string{"resource_pool": relBefore.Placement.Pool}})
	if v, _ := sourceVM(t, f, "billing01"); v.Pool != oldPool {
		t.Fatalf("the inverse relocate left the VM in %s, want %s", v.Pool, oldPool)
	}

	// The before-image also decodes as the provider's own Undo.
	var undo vcenter.Undo
	if err := json.Unmarshal(rel.Before, &undo); err != nil || undo.Op != vcenter.OpMigrate || undo.Placement == nil || undo.Placement.Pool != oldPool {
		t.Fatalf("before-image as vcenter.Undo: %+v (%v)", undo, err)
	}
}
