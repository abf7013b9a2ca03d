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

// TestRehearsalCloneIsIsolated clones the rehearsal example's source into
// an isolated port group, and with no network (adapters disconnected);
// reads every adapter of the clone back; and rolls the clone back through
// the inverse plan. (Names holding % are covered by TestEscapeName: vcsim
// itself cannot create a VM whose name holds one, InvalidDeviceSpec.)
func TestRehearsalCloneIsIsolated(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, clone, network string
	}{
		{"isolated port group", "billing01-rehearsal", "rehearsal-isolated"},
		{"disconnected", "billing01-rehearsal", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rb := loadExample(t, "rehearsal")
			vm := vmOf(t, rb, "vm.billing01")
			vm.Rehearsal.Name, vm.Rehearsal.Network = tc.clone, tc.network
			f := openWorld(t, rb, 0.001)
			r, env := f.runner(t)
			ctx := ctxT(t)
			p := f.plan(t, env)

			clone := step(t, p, "vm.billing01", planner.StepCloneRehearsal)
			wantNet := tc.network
			if wantNet == "" {
				wantNet = planner.DisconnectedAdapters
			}
			if clone.Inputs["network"] != wantNet || !strings.Contains(clone.Inputs["customization"], "10.99.1.21/255.255.255.0") {
				t.Fatalf("clone step inputs %v", clone.Inputs)
			}
			st := runToDone(t, ctx, r, clone)

			src, inv := sourceVM(t, f, "billing01")
			escaped := vcenter.EscapeName(tc.clone)
			c, _ := sourceVM(t, f, escaped)
			if c == nil {
				t.Fatalf("no VM named %q after the clone", escaped)
			}
			if c.PowerState != "poweredOn" {
				t.Fatalf("isolated clone is %s, want poweredOn", c.PowerState)
			}
			production := map[string]bool{}
			for _, n := range src.NICs {
				production[n.Network] = true
			}
			if len(c.NICs) == 0 {
				t.Fatal("the clone has no adapters to check")
			}
			for _, n := range c.NICs {
				e, _ := inv.Entity(n.Network)
				onProduction := production[n.Network] && (n.Connected || n.StartConnected)
				if onProduction {
					t.Errorf("clone adapter %s is connected to production network %s", n.Label, e.Path)
				}
				if tc.network != "" && e.Name != tc.network {
					t.Errorf("clone adapter %s is on %s, want %s", n.Label, e.Path, tc.network)
				}
				if tc.network == "" && (n.Connected || n.StartConnected) {
					t.Errorf("clone adapter %s connected=%v startConnected=%v, want neither", n.Label, n.Connected, n.StartConnected)
				}
			}
			// The plan now sees the clone (by its escaped name): nothing
			// to do for it.
			for _, s := range stepsOf(f.plan(t, env), "vm.billing01") {
				if s.Kind == planner.StepCloneRehearsal {
					t.Fatal("a fresh plan clones again")
				}
			}

			// Rollback: the inverse plan destroys the clone.
			back, _ := planner.Inverse(rb, []planner.Applied{{ID: clone.ID, Before: st.Before}}, nil, planner.Options{Now: time.Now()})
			if len(back.Steps) != 1 || back.Steps[0].Kind != action.KindDestroyClone {
				t.Fatalf("inverse plan %+v", back.Steps)
			}
			runToDone(t, ctx, r, back.Steps[0])
			if c, _ := sourceVM(t, f, escaped); c != nil {
				t.Fatal("the clone survived its rollback")
			}
			var before action.SourceBefore
			if err := json.Unmarshal(st.Before, &before); err != nil || before.CloneName != tc.clone {
				t.Fatalf("clone before-image %s (%v)", st.Before, err)
			}
		})
	}
}

// TestRehearsalOnProductionIsRefused: a rehearsal network that is one of
// the source's own is a plan error, and the action refuses it too.
func TestRehearsalOnProductionIsRefused(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "rehearsal")
	vmOf(t, rb, "vm.billing01").Rehearsal.Network = "VM Network"
	f := openWorld(t, rb, 0.001)
	r, env := f.runner(t)
	src := planner.Sources{VCenters: map[string]planner.VCenterReader{}, Azures: map[string]planner.AzureReader{}}
	for n, c := range env.VCenters {
		src.VCenters[n] = c
	}
	for n, c := range env.Azures {
		src.Azures[n] = c
	}
	snap, _, err := planner.Refresh(ctxT(t), rb, src)
	if err != nil {
		t.Fatal(err)
	}
	_, problems := planner.Build(rb, snap.Live, planner.Options{Now: time.Now()})
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), "a network the source's adapters are on") {
		t.Fatalf("plan problems %v", problems)
	}
	s := planner.Step{ID: "vm.billing01.clone_rehearsal", VM: "vm.billing01", Kind: planner.StepCloneRehearsal, Inputs: map[string]string{"name": "billing01-rehearsal"}}
	if _, err := r.Start(ctxT(t), s); err == nil || !strings.Contains(err.Error(), "second copy of the server on production") {
		t.Fatalf("start on production: %v", err)
	}
}
