package action_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cutover/executor/action"
	"cutover/planner"
	"cutover/providers/simworld"
	"cutover/providers/vcenter/vcentersim"
)

// TestFaultToleranceAndShutdownFallback uses a world where app01 is the
// primary of a fault-tolerant pair and app02 has no VMware Tools: the
// plan's make_ft_primary moves the primary to the secondary's host, and a
// guest shutdown of app02 falls back to a hard power-off.
func TestFaultToleranceAndShutdownFallback(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "quickstart")
	vmOf(t, rb, "vm.app01").Source.FTPrimary = "DC0_C0_H1"

	vw := simworld.VCenterWorld(rb)
	for i, v := range vw.Datacenters[0].VMs {
		switch v.Name {
		case "app01":
			vw.Datacenters[0].VMs[i].Host = "DC0_C0_H0"
			vw.Datacenters[0].VMs[i].FTSecondary = &vcentersim.FTSecondary{Host: "DC0_C0_H1"}
		case "app02":
			vw.Datacenters[0].VMs[i].NoTools = true
		}
	}
	dir := t.TempDir()
	b, err := json.Marshal(vw)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vcenter.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	f := openWorldIn(t, rb, dir, 0.001)
	r, env := f.runner(t, action.WithShutdownTimeout(5*time.Second))
	ctx := ctxT(t)

	ft := step(t, f.plan(t, env), "vm.app01", planner.StepMakeFTPrimary)
	if done, err := r.Done(ctx, ft); err != nil || done {
		t.Fatalf("make_ft_primary done before start (%v)", err)
	}
	st, err := r.Start(ctx, ft)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Wait(ctx, ft, st.Handle, nil); err != nil {
		t.Fatal(err)
	}
	if done, err := r.Done(ctx, ft); err != nil || !done {
		t.Fatalf("make_ft_primary not done after wait (%v)", err)
	}
	_, inv := sourceVM(t, f, "app01")
	for _, v := range inv.VMs {
		h, _ := inv.Entity(v.Host)
		if v.FTRole == 1 && h.Name != "DC0_C0_H1" {
			t.Fatalf("the primary %s runs on %s, want DC0_C0_H1", v.Name, h.Name)
		}
	}
	var before action.SourceBefore
	if err := json.Unmarshal(st.Before, &before); err != nil || before.Primary == "" {
		t.Fatalf("make_ft_primary before-image %s (%v)", st.Before, err)
	}
	// The planner agrees: a fresh plan has no make_ft_primary left.
	for _, s := range stepsOf(f.plan(t, env), "vm.app01") {
		if s.Kind == planner.StepMakeFTPrimary {
			t.Fatal("a fresh plan still makes the FT primary")
		}
	}

	// Rolled back: the inverse plan names the recorded primary by moref,
	// and the swap back makes that very VM primary again.
	back, _ := planner.Inverse(rb, []planner.Applied{{ID: ft.ID, Before: st.Before}}, nil, planner.Options{Now: time.Now()})
	var undo planner.Step
	for _, s := range back.Steps {
		if s.Kind == planner.StepMakeFTPrimary {
			undo = s
		}
	}
	if undo.Inputs[planner.InputPrimaryMoref] != before.Primary || undo.Inputs["primary"] != "" {
		t.Fatalf("inverse step %+v, want primary_moref %s alone", undo, before.Primary)
	}
	runToDone(t, ctx, r, undo)
	_, after := sourceVM(t, f, "app01")
	for _, v := range after.VMs {
		if v.FTRole == 1 && v.MoRef != before.Primary {
			t.Fatalf("after rollback the primary is %s (%s), want the recorded %s", v.Name, v.MoRef, before.Primary)
		}
	}
	// A moref that is no member is refused with the members named, not
	// matched as a path.
	bogus := undo
	bogus.Inputs = map[string]string{planner.InputPrimaryMoref: "vm-999999"}
	if _, err := r.Start(ctx, bogus); err == nil || !strings.Contains(err.Error(), "has moref vm-999999") {
		t.Fatalf("unknown moref: %v", err)
	}

	down := planner.Step{ID: "vm.app02.shutdown", VM: "vm.app02", Kind: planner.StepShutdown, Inputs: map[string]string{"mode": "guest"}}
	st, err = r.Start(ctx, down)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Wait(ctx, down, st.Handle, nil); err != nil {
		t.Fatalf("guest shutdown without tools: %v", err)
	}
	if v, _ := sourceVM(t, f, "app02"); v.PowerState != "poweredOff" {
		t.Fatalf("app02 is %s after the fallback", v.PowerState)
	}
}
