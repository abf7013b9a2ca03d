package planfile

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"cutover/planner"
)

// EditedError is a saved plan that differs from what the planner makes of
// the same runbook and live state: someone or something changed the file
// after it was planned (a window or disruptive flag cleared, a step's VM
// swapped, a step left out). Applying it would do what nobody reviewed.
type EditedError struct {
	// Step is the first differing step's ID, or a VM address or "windows"
	// when the difference is not in a step.
	Step string
	// Reason says what differs.
	Reason string
}

func (e *EditedError) Error() string {
	return fmt.Sprintf("the plan file differs from what its runbook and the live state give at %s: %s; it was edited after planning or the live state changed in ways the staleness check does not cover. Plan again and review the new plan", e.Step, e.Reason)
}

// Targets returns what to pass as planner.Options.Targets to plan the same
// VMs as saved: its VM addresses, or, for a plan with none, a target no VM
// matches (an empty list would mean every VM).
func Targets(saved *planner.Plan) []string {
	if len(saved.VMs) == 0 {
		return []string{"\x00none"}
	}
	out := make([]string, 0, len(saved.VMs))
	for _, vm := range saved.VMs {
		out = append(out, vm.Address)
	}
	return out
}

// Verify compares a saved plan with fresh, the plan the planner makes now
// from the same runbook, live state and targets. VMs in done (those a
// resumed apply of this very plan file already changed) are left out:
// their live state moved on because of the plan, and the file was checked
// when they were first applied. It returns the first difference, in the
// saved plan's step order, as an *EditedError.
func Verify(saved, fresh *planner.Plan, done map[string]bool) error {
	if err := VerifyHeader(saved, fresh); err != nil {
		return err
	}
	savedVMs := map[string]bool{}
	for _, vm := range saved.VMs {
		savedVMs[vm.Address] = true
	}
	for _, vm := range fresh.VMs {
		if !savedVMs[vm.Address] {
			return &EditedError{Step: vm.Address, Reason: "the plan leaves out this VM"}
		}
	}
	return verifyEach(saved, fresh, func(vm string) bool { return !done[vm] })
}

// VerifyHeader compares what of a saved plan comes from the runbook and
// the variables alone, not from any VM: the runbook's name, the variables'
// values and the windows. fresh may be a plan of no VM, so apply checks
// these before it reads anything live.
func VerifyHeader(saved, fresh *planner.Plan) error {
	if saved.Runbook != fresh.Runbook {
		return &EditedError{Step: "runbook", Reason: fmt.Sprintf("the plan names runbook %q, the runbook is %q", saved.Runbook, fresh.Runbook)}
	}
	if !sameMap(saved.Variables, fresh.Variables) {
		return &EditedError{Step: "variables", Reason: "the plan's variables differ from the values given now: " + mapDiff(saved.Variables, fresh.Variables)}
	}
	return VerifyWindows(saved, fresh)
}

// VerifyWindows compares the windows of a saved plan with fresh's (which
// come from the runbook alone, so fresh may be a plan of no VM): apply
// checks them before it reads any VM.
func VerifyWindows(saved, fresh *planner.Plan) error {
	if !reflect.DeepEqual(normalWindows(saved.Windows), normalWindows(fresh.Windows)) {
		return &EditedError{Step: "windows", Reason: fmt.Sprintf("the plan holds windows %s, the runbook declares %s", windowList(saved.Windows), windowList(fresh.Windows))}
	}
	return nil
}

// VerifyVMs is Verify for some VMs only, for an apply that checks a plan
// VM by VM as their live state is read: the saved plan's entries for the
// VMs in vms must equal fresh's (a plan of those VMs alone), and so must
// each of their steps and the set of their steps. A step's dependencies on
// steps of other VMs are left out here, as fresh cannot have them: Verify
// of the whole plan, once every VM was read, compares them, with the
// windows and the list of VMs. The first difference, in the saved plan's
// order, is returned as an *EditedError.
func VerifyVMs(saved, fresh *planner.Plan, vms map[string]bool) error {
	return verifyEach(saved, fresh, func(vm string) bool { return vms[vm] })
}

// verifyEach compares the entries of the VMs that check selects, and each
// of their steps, and the set of their steps, between saved and fresh.
// A dependency on a step of a VM it does not select counts as met (a VM
// done, or one checked elsewhere). The first difference, in the saved
// plan's order, is returned as an *EditedError.
func verifyEach(saved, fresh *planner.Plan, check func(vm string) bool) error {
	freshVMs := map[string]planner.VMPlan{}
	for _, vm := range fresh.VMs {
		freshVMs[vm.Address] = vm
	}
	for _, vm := range saved.VMs {
		if !check(vm.Address) {
			continue
		}
		f, ok := freshVMs[vm.Address]
		if !ok {
			return &EditedError{Step: vm.Address, Reason: "the runbook plans no such VM"}
		}
		if d := vmDiff(vm, f); d != "" {
			return &EditedError{Step: vm.Address, Reason: d}
		}
	}
	stepVM := map[string]string{}
	freshSteps := map[string]planner.Step{}
	for _, s := range fresh.Steps {
		freshSteps[s.ID] = s
		stepVM[s.ID] = s.VM
	}
	for _, s := range saved.Steps {
		if _, ok := stepVM[s.ID]; !ok {
			stepVM[s.ID] = s.VM
		}
	}
	met := map[string]bool{}
	for _, vm := range stepVM {
		if !check(vm) {
			met[vm] = true
		}
	}
	savedSteps := map[string]bool{}
	for _, s := range saved.Steps {
		if !check(s.VM) {
			continue
		}
		savedSteps[s.ID] = true
		f, ok := freshSteps[s.ID]
		if !ok {
			return &EditedError{Step: s.ID, Reason: "the planner makes no such step"}
		}
		if d := stepDiff(s, f, stepVM, met); d != "" {
			return &EditedError{Step: s.ID, Reason: d}
		}
	}
	for _, s := range fresh.Steps {
		if check(s.VM) && !savedSteps[s.ID] {
			return &EditedError{Step: s.ID, Reason: "the plan leaves out this step"}
		}
	}
	return nil
}

func vmDiff(a, b planner.VMPlan) string {
	for _, f := range []struct{ name, saved, fresh string }{
		{"desired stage", a.Desired, b.Desired},
		{"target name", a.TargetName, b.TargetName},
		{"size", a.Size, b.Size},
		{"subnet", a.Subnet, b.Subnet},
		{"window", a.Window, b.Window},
		{"live stage", a.Live.String(), b.Live.String()},
	} {
		if f.saved != f.fresh {
			return fmt.Sprintf("%s is %q in the plan, %q when planned now", f.name, f.saved, f.fresh)
		}
	}
	if !sameStrings(a.Sensitive, b.Sensitive) {
		return "the attributes shown as (sensitive) differ"
	}
	return ""
}

func stepDiff(a, b planner.Step, stepVM map[string]string, met map[string]bool) string {
	switch {
	case a.VM != b.VM:
		return fmt.Sprintf("vm is %q in the plan, %q when planned now", a.VM, b.VM)
	case a.Kind != b.Kind:
		return fmt.Sprintf("kind is %q in the plan, %q when planned now", a.Kind, b.Kind)
	case a.Disruptive != b.Disruptive:
		return fmt.Sprintf("disruptive is %t in the plan, %t when planned now", a.Disruptive, b.Disruptive)
	case a.Window != b.Window:
		return fmt.Sprintf("window is %q in the plan, %q when planned now", a.Window, b.Window)
	case a.Gate != b.Gate:
		return fmt.Sprintf("gate is %q in the plan, %q when planned now", a.Gate, b.Gate)
	case a.NoReturn != b.NoReturn:
		return fmt.Sprintf("no_return is %t in the plan, %t when planned now", a.NoReturn, b.NoReturn)
	case a.Inverse != b.Inverse:
		return fmt.Sprintf("inverse is %q in the plan, %q when planned now", a.Inverse, b.Inverse)
	case !sameMap(a.Inputs, b.Inputs):
		return "its inputs differ: " + mapDiff(a.Inputs, b.Inputs)
	case !sameMap(a.Before, b.Before):
		return "its recorded before-values differ: " + mapDiff(a.Before, b.Before)
	case !reflect.DeepEqual(normalChanges(a.Changes), normalChanges(b.Changes)):
		return "its attribute changes differ"
	}
	// A dependency on a step of a VM in met (done, or checked elsewhere)
	// is left out: a fresh plan may no longer have that step, the saved
	// one still names it.
	keep := func(deps []string) []string {
		var out []string
		for _, d := range deps {
			if !met[stepVM[d]] {
				out = append(out, d)
			}
		}
		sort.Strings(out)
		return out
	}
	if da, db := keep(a.DependsOn), keep(b.DependsOn); !sameStrings(da, db) {
		return fmt.Sprintf("depends_on is [%s] in the plan, [%s] when planned now", strings.Join(da, ", "), strings.Join(db, ", "))
	}
	return ""
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// mapDiff names the first key that differs, in key order.
func mapDiff(a, b map[string]string) string {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		va, oka := a[k]
		vb, okb := b[k]
		switch {
		case !oka:
			return fmt.Sprintf("%s is missing from the plan", k)
		case !okb:
			return fmt.Sprintf("%s is in the plan but not planned now", k)
		case va != vb:
			return fmt.Sprintf("%s is %q in the plan, %q when planned now", k, va, vb)
		}
	}
	return ""
}

func normalWindows(ws []planner.WindowInfo) []planner.WindowInfo {
	out := make([]planner.WindowInfo, 0, len(ws))
	for _, w := range ws {
		if len(w.Estimates) == 0 {
			w.Estimates = nil
		}
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func windowList(ws []planner.WindowInfo) string {
	if len(ws) == 0 {
		return "none"
	}
	var parts []string
	for _, w := range normalWindows(ws) {
		parts = append(parts, fmt.Sprintf("%s (%s for %s %s)", w.Name, w.Schedule, w.Duration, w.Timezone))
	}
	return strings.Join(parts, ", ")
}

func normalChanges(cs []planner.Change) []planner.Change {
	if len(cs) == 0 {
		return nil
	}
	return cs
}
