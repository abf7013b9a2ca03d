package action_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cutover/executor/action"
	"cutover/planner"
	"cutover/providers/simworld"
	"cutover/providers/vcenter"
	"cutover/providers/vcenter/vcentersim"
	"cutover/schema"
)

// recustomizeWorld opens the rehearsal example's world with a guest login
// the simulated guests accept, and the clone already made.
func recustomizeWorld(t *testing.T, edit func(*schema.VM)) (*fixture, *action.Runner, action.Env, *schema.Runbook) {
	t.Helper()
	rb := loadExample(t, "rehearsal")
	vm := vmOf(t, rb, "vm.billing01")
	vm.Rehearsal.Recustomize.GuestPassword = schema.NewSecret("guest-pw")
	if edit != nil {
		edit(vm)
	}
	vw := simworld.VCenterWorld(rb)
	vw.GuestLogin = &vcentersim.GuestLogin{Username: "root", Password: "guest-pw"}
	dir := t.TempDir()
	b, err := json.Marshal(vw)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vcenter.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	f := openWorldIn(t, rb, dir, 0.001)
	r, env := f.runner(t)
	runToDone(t, ctxT(t), r, step(t, f.plan(t, env), "vm.billing01", planner.StepCloneRehearsal))
	return f, r, env, rb
}

// TestRecustomizeFromRunbook: the recustomize block reaches
// CustomizeGuest_Task on the running clone; the guest reports the new host
// name and address; a fresh plan has nothing left to do; the inverse
// customizes the clone back to what it reported before.
func TestRecustomizeFromRunbook(t *testing.T) {
	t.Parallel()
	f, r, env, rb := recustomizeWorld(t, func(vm *schema.VM) { vm.Rehearsal.Recustomize.Hostname = "billing01-reh2" })
	ctx := ctxT(t)
	cu := step(t, f.plan(t, env), "vm.billing01", planner.StepCustomizeRehearsal)
	if cu.Inputs["guest_login"] != "root" || strings.Contains(cu.Inputs["customization"], "guest-pw") {
		t.Fatalf("customize step inputs %v", cu.Inputs)
	}
	old, _ := sourceVM(t, f, "billing01-rehearsal")
	st := runToDone(t, ctx, r, cu)
	c, _ := sourceVM(t, f, "billing01-rehearsal")
	if c.GuestHostName != "billing01-reh2.rehearsal.corp.example" || c.GuestIP != "10.99.1.22" {
		t.Fatalf("after recustomize the guest reports %q %q", c.GuestHostName, c.GuestIP)
	}
	if strings.Contains(string(st.Before), "guest-pw") {
		t.Fatalf("before-image holds the guest password: %s", st.Before)
	}
	for _, s := range stepsOf(f.plan(t, env), "vm.billing01") {
		if s.Kind == planner.StepCustomizeRehearsal {
			t.Fatal("a fresh plan customizes again")
		}
	}

	// Rolled back on its own (the clone stays): the recorded identity.
	back, _ := planner.Inverse(rb, []planner.Applied{{ID: cu.ID, Before: st.Before}}, nil, planner.Options{Now: time.Now()})
	if len(back.Steps) != 1 || back.Steps[0].Inputs["restore_hostname"] != old.GuestHostName {
		t.Fatalf("inverse plan %+v, want restore_hostname %q", back.Steps, old.GuestHostName)
	}
	runToDone(t, ctx, r, back.Steps[0])
	c, _ = sourceVM(t, f, "billing01-rehearsal")
	if !strings.EqualFold(c.GuestHostName, old.GuestHostName) || (old.GuestIP != "" && c.GuestIP != old.GuestIP) {
		t.Fatalf("after rollback the guest reports %q %q, want %q %q", c.GuestHostName, c.GuestIP, old.GuestHostName, old.GuestIP)
	}
	// With the clone destroyed by the same rollback, there is nothing to
	// customize back.
	back, _ = planner.Inverse(rb, []planner.Applied{{ID: "vm.billing01.clone_rehearsal"}, {ID: cu.ID, Before: st.Before}}, nil, planner.Options{Now: time.Now()})
	if len(back.Steps) != 1 || back.Steps[0].Kind != action.KindDestroyClone {
		t.Fatalf("inverse of clone and recustomize: %+v", back.Steps)
	}
}

// TestRecustomizeFaults: the faults CustomizeGuest_Task's page lists that
// the simulated vCenter raises each give an error naming the clone and the
// fault; a clone that is not running is a closed gate, not a call.
func TestRecustomizeFaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		edit  func(*schema.VM)
		off   bool
		fault string
		gate  string
	}{
		{name: "wrong guest password", edit: func(vm *schema.VM) {
			vm.Rehearsal.Recustomize.GuestPassword = schema.NewSecret("wrong")
		}, fault: `InvalidGuestLogin: the guest refused the login "root"`},
		{name: "more adapters than the clone has", edit: func(vm *schema.VM) {
			rc := vm.Rehearsal.Recustomize
			rc.NICs = append(rc.NICs, schema.CustomizationNIC{IP: "10.99.2.22", Netmask: "255.255.255.0"})
		}, fault: "NicSettingMismatch"},
		{name: "clone powered off", off: true, gate: "needs it powered on"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, r, env, _ := recustomizeWorld(t, tc.edit)
			ctx := ctxT(t)
			cu := step(t, f.plan(t, env), "vm.billing01", planner.StepCustomizeRehearsal)
			if tc.off {
				c, _ := sourceVM(t, f, "billing01-rehearsal")
				if _, err := env.VCenters["dc1"].PowerOff(ctx, c.Ref(), vcenter.Watch{}); err != nil {
					t.Fatal(err)
				}
			}
			st, err := r.Start(ctx, cu)
			if err == nil {
				err = r.Wait(ctx, cu, st.Handle, nil)
			}
			if tc.gate != "" {
				var ge *action.GateError
				if !errors.As(err, &ge) || !strings.Contains(ge.Reason, tc.gate) {
					t.Fatalf("got %v, want a closed gate saying %q", err, tc.gate)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.fault) || !strings.Contains(err.Error(), "billing01-rehearsal") {
				t.Fatalf("got %v, want %s naming billing01-rehearsal", err, tc.fault)
			}
			if strings.Contains(err.Error(), "guest-pw") || strings.Contains(err.Error(), `"wrong"`) {
				t.Fatalf("the error shows the password: %v", err)
			}
		})
	}
}
