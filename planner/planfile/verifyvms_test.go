package planfile_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cutover/planner"
	"cutover/planner/planfile"
	"cutover/schema"
)

// TestVerifyVMs plans the multi-tier example (whose VMs depend on each
// other), then checks one VM at a time as apply does: a plan of that VM
// alone agrees with the saved plan's entries for it (its dependencies on
// other VMs' steps left to the whole-plan Verify), each edit of its own
// entry or steps is named, and an edit of another VM is not its concern.
func TestVerifyVMs(t *testing.T) {
	rb, diags := schema.LoadDir(filepath.Join("..", "..", "examples", "multi-tier"), schema.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	live := map[string]planner.Live{}
	for _, vm := range rb.VMs {
		live[vm.Address] = planner.Live{Source: &planner.LiveSource{PowerState: "poweredOn", ChangeVersion: "1"}}
	}
	opts := planner.Options{Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), ToolVersion: "test"}
	build := func(targets []string) *planner.Plan {
		o := opts
		o.Targets = targets
		p, problems := planner.Build(rb, live, o)
		if len(problems) > 0 {
			t.Fatal(problems)
		}
		return p
	}
	saved := build(nil)
	// The VM checked: one with a step that depends on another VM's step.
	var vm, cross, other string
	for _, s := range saved.Steps {
		for _, d := range s.DependsOn {
			if !strings.HasPrefix(d, s.VM+".") && vm == "" {
				vm, cross = s.VM, s.ID
			}
		}
	}
	for _, v := range saved.VMs {
		if v.Address != vm {
			other = v.Address
		}
	}
	if vm == "" || other == "" {
		t.Fatal("the multi-tier plan has no dependency between VMs")
	}
	stepOf := func(p *planner.Plan, id string) *planner.Step {
		for i := range p.Steps {
			if p.Steps[i].ID == id {
				return &p.Steps[i]
			}
		}
		t.Fatalf("no step %s", id)
		return nil
	}
	firstOf := func(p *planner.Plan, vm string) *planner.Step {
		for i := range p.Steps {
			if p.Steps[i].VM == vm {
				return &p.Steps[i]
			}
		}
		t.Fatalf("no step of %s", vm)
		return nil
	}
	for _, tc := range []struct {
		name string
		edit func(p *planner.Plan)
		want string // "" when the VM still verifies
	}{
		{"unedited", func(*planner.Plan) {}, ""},
		{"another VM's step edited", func(p *planner.Plan) { firstOf(p, other).Inputs = map[string]string{"x": "y"} }, ""},
		{"cross-VM dependency dropped", func(p *planner.Plan) { dropCross(stepOf(p, cross)) }, ""},
		{"own step inputs", func(p *planner.Plan) { firstOf(p, vm).Inputs = map[string]string{"target.name": "evil"} }, "its inputs differ"},
		{"own step made disruptive", func(p *planner.Plan) { firstOf(p, vm).Disruptive = !firstOf(p, vm).Disruptive }, "disruptive is"},
		{"own dependency on no step", func(p *planner.Plan) {
			s := stepOf(p, cross)
			s.DependsOn = append(s.DependsOn, "vm.nowhere.shutdown")
		}, "depends_on is"},
		{"own step left out", func(p *planner.Plan) {
			first := firstOf(p, vm).ID
			var steps []planner.Step
			for _, s := range p.Steps {
				if s.ID != first {
					steps = append(steps, s)
				}
			}
			p.Steps = steps
		}, "the plan leaves out this step"},
		{"desired stage", func(p *planner.Plan) {
			for i := range p.VMs {
				if p.VMs[i].Address == vm {
					p.VMs[i].Desired = "completed"
				}
			}
		}, "desired stage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			edited := build(nil)
			tc.edit(edited)
			err := planfile.VerifyVMs(edited, build([]string{vm}), map[string]bool{vm: true})
			var ee *planfile.EditedError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (!errors.As(err, &ee) || !strings.Contains(ee.Reason, tc.want) || !strings.HasPrefix(ee.Step, vm)):
				t.Fatalf("want an EditedError at a step of %s saying %q, got %v", vm, tc.want, err)
			}
		})
	}
	// The whole-plan Verify still sees the dropped dependency.
	edited := build(nil)
	dropCross(stepOf(edited, cross))
	if err := planfile.Verify(edited, saved, nil); err == nil || !strings.Contains(err.Error(), cross) {
		t.Fatalf("Verify of the whole plan = %v, want %s named", err, cross)
	}
}

// dropCross removes a step's dependencies on other VMs' steps.
func dropCross(s *planner.Step) {
	var keep []string
	for _, d := range s.DependsOn {
		if strings.HasPrefix(d, s.VM+".") {
			keep = append(keep, d)
		}
	}
	s.DependsOn = keep
}
