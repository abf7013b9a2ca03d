package render

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"cutover/planner"
)

// Sensitive is what every rendering shows in place of a sensitive value. It
// matches the placeholder the schema and the planner use, so that a reader
// sees one word for "hidden" wherever it came from.
const Sensitive = "(sensitive)"

// view is a plan prepared for rendering: sensitive values already replaced,
// steps grouped by VM. Every renderer reads the view, never the plan's raw
// values, so redaction cannot be skipped by a new renderer.
type view struct {
	plan  *planner.Plan
	sum   planner.Summary
	vms   []*vmView
	steps []*stepView // topological order, as in the plan
	byID  map[string]*stepView
	// orphans are steps whose VM has no VMPlan; rendered under their VM
	// address anyway so nothing the plan does is hidden.
	orphans []*vmView
	// windowOf maps VM addresses to their windows, built on first use.
	windowOf map[string]string
}

// vmView is one VM with its redacted summary fields and its steps.
type vmView struct {
	planner.VMPlan
	steps      []*stepView
	disruptive int
	noReturn   int
}

// stepView is a step with redacted inputs, changes and gate. Before is
// dropped: before-images are for the executor's rollback, not for review,
// and may hold live values of sensitive attributes.
type stepView struct {
	*planner.Step
}

func newView(p *planner.Plan) *view {
	if p.Timeline == nil && len(p.Steps) > 0 {
		// A plan saved before plans had timelines, or built by hand:
		// schedule a copy with the defaults, so that every rendering
		// shows one.
		cp := *p
		cp.Steps = append([]planner.Step(nil), p.Steps...)
		cp.Schedule(planner.ScheduleOptions{})
		p = &cp
	}
	v := &view{plan: p, sum: p.Summarize(), byID: map[string]*stepView{}}
	byVM := map[string]*vmView{}
	for _, vp := range p.VMs {
		s := secrets(vp.Sensitive)
		vp.TargetName = s.hide("target.name", vp.TargetName)
		vp.Size = s.hide("target.size", vp.Size)
		vp.Subnet = s.hide("target.subnet", vp.Subnet)
		vp.Window = s.hide("window", vp.Window)
		vp.Desired = s.hide("stage", vp.Desired)
		vp.Sensitive = append([]string(nil), vp.Sensitive...)
		vm := &vmView{VMPlan: vp}
		v.vms = append(v.vms, vm)
		byVM[vp.Address] = vm
	}
	for i := range p.Steps {
		st := &p.Steps[i]
		vm := byVM[st.VM]
		if vm == nil {
			vm = &vmView{VMPlan: planner.VMPlan{Address: st.VM}}
			byVM[st.VM] = vm
			v.orphans = append(v.orphans, vm)
		}
		sv := &stepView{Step: redactStep(st, secrets(vm.Sensitive))}
		vm.steps = append(vm.steps, sv)
		if sv.Disruptive {
			vm.disruptive++
		}
		if sv.NoReturn {
			vm.noReturn++
		}
		v.steps = append(v.steps, sv)
		v.byID[sv.ID] = sv
	}
	return v
}

// allVMs lists the runbook's VMs then any VM known only from its steps.
// warningVMsListed is how many VMs one warning line names.
const warningVMsListed = 5

// warnings lists the VMs' warnings in plan order, "vm.x: text"; VMs with
// the same warning share a line naming the first few of them, so that a
// wave enabled with another disk type is one line.
func (v *view) warnings() []string {
	var order []string
	vms := map[string][]string{}
	for _, vm := range v.allVMs() {
		for _, w := range vm.Warnings {
			if _, ok := vms[w]; !ok {
				order = append(order, w)
			}
			vms[w] = append(vms[w], vm.Address)
		}
	}
	out := make([]string, 0, len(order))
	for _, w := range order {
		named := vms[w][:min(len(vms[w]), warningVMsListed)]
		who := strings.Join(named, ", ")
		if rest := len(vms[w]) - len(named); rest > 0 {
			who += fmt.Sprintf(" and %d more", rest)
		}
		out = append(out, who+": "+w)
	}
	return out
}

// azureVMs lists the Azure VMs read for the plan's VMs, "vm.x: name:
// state", in plan order: the live evidence of what runs in Azure.
func (v *view) azureVMs() []string {
	var out []string
	for _, vm := range v.allVMs() {
		for _, a := range vm.AzureVMs {
			line := vm.Address + ": " + a.String()
			if a.VMID != "" {
				line += " (vmId " + a.VMID + ")"
			}
			out = append(out, line)
		}
	}
	return out
}

func (v *view) allVMs() []*vmView {
	return append(append([]*vmView(nil), v.vms...), v.orphans...)
}

// noReturn lists the points of no return in plan order.
func (v *view) noReturn() []*stepView {
	var out []*stepView
	for _, s := range v.steps {
		if s.NoReturn {
			out = append(out, s)
		}
	}
	return out
}

// undo is one line of the rollback preview: the kind that undoes Of, and how
// many steps of the plan it would undo.
type undo struct {
	Inverse planner.StepKind
	Of      planner.StepKind
	Count   int
}

// undos counts, for every step with an inverse, the inverse kind. Sorted by
// inverse then undone kind so the preview reads the same on every run.
func (v *view) undos() []undo {
	// An update of a VM whose enable the plan also makes is not undone on
	// its own: the rollback disables replication (see planner.Inverse).
	// Likewise a recustomization of a clone the plan also makes: the
	// rollback destroys the clone.
	enabled, cloned := map[string]bool{}, map[string]bool{}
	for _, s := range v.steps {
		switch s.Kind {
		case planner.StepEnableReplication:
			enabled[s.VM] = true
		case planner.StepCloneRehearsal:
			cloned[s.VM] = true
		}
	}
	count := map[[2]planner.StepKind]int{}
	for _, s := range v.steps {
		if s.Kind == planner.StepUpdateReplication && enabled[s.VM] || s.Kind == planner.StepCustomizeRehearsal && cloned[s.VM] {
			continue
		}
		// A rollback's own steps are not previewed as undoable: undoing
		// an undo is applying the runbook again, which plan proposes.
		if s.Inverse != "" && !planner.IsUndo(s.ID) {
			count[[2]planner.StepKind{s.Inverse, s.Kind}]++
		}
	}
	out := make([]undo, 0, len(count))
	for k, n := range count {
		out = append(out, undo{Inverse: k[0], Of: k[1], Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Inverse != out[j].Inverse {
			return out[i].Inverse < out[j].Inverse
		}
		return out[i].Of < out[j].Of
	})
	return out
}

// windows lists the window names VMs use, in first-use order, with ""
// (no window) last.
func (v *view) windows() []string {
	seen := map[string]bool{}
	var out []string
	none := false
	for _, vm := range v.allVMs() {
		if vm.Window == "" {
			none = true
			continue
		}
		if !seen[vm.Window] {
			seen[vm.Window] = true
			out = append(out, vm.Window)
		}
	}
	if none {
		out = append(out, "")
	}
	return out
}

// windowInfo finds a declared window by name.
func (v *view) windowInfo(name string) (planner.WindowInfo, bool) {
	for _, w := range v.plan.Windows {
		if w.Name == name {
			return w, true
		}
	}
	return planner.WindowInfo{}, false
}

// secrets is one VM's list of sensitive attribute paths.
type secrets []string

// covers reports whether a value shown under key may carry a sensitive
// attribute's value. It over-redacts on purpose: step inputs are named
// after what the step sends (a test failover's "subnet" comes from
// target.test_subnet or target.subnet, a snapshot's "name" from
// target.name), so a key matches a sensitive path equal to it, under it,
// or above it (a map marked sensitive hides each of its entries), or
// whose last segment is the key or ends in "_"+key.
func (s secrets) covers(key string) bool {
	last := key[strings.LastIndex(key, ".")+1:]
	for _, p := range s {
		if p == key || strings.HasPrefix(p, key+".") || strings.HasPrefix(key, p+".") {
			return true
		}
		for _, seg := range strings.Split(p, ".") {
			if seg == last || strings.HasSuffix(seg, "_"+last) {
				return true
			}
		}
	}
	return false
}

// hide returns Sensitive when key is covered, the value otherwise. An
// empty value stays empty: there is nothing to hide and "(sensitive)" would
// claim a value exists.
func (s secrets) hide(key, value string) string {
	if value == "" || value == Sensitive || !s.covers(key) {
		return value
	}
	return Sensitive
}

// redactStep copies st with every value that may be sensitive replaced.
func redactStep(st *planner.Step, s secrets) *planner.Step {
	// The view shares the plan's step, maps and slices included, unless
	// something in it must be hidden: renderers only read them, and at
	// 50,000 VMs a copy of every step's inputs was the largest thing live
	// while rendering (73 MB).
	var in map[string]string
	if len(s) > 0 {
		for k, val := range st.Inputs {
			if h := s.hide(k, val); h != val {
				if in == nil {
					in = maps.Clone(st.Inputs)
				}
				in[k] = h
			}
		}
	}
	var ch []planner.Change
	for i, c := range st.Changes {
		if c.Sensitive || s.covers(c.Attribute) {
			if ch == nil {
				ch = slices.Clone(st.Changes)
			}
			ch[i].Old, ch[i].New, ch[i].Sensitive = Sensitive, Sensitive, true
		}
	}
	gate, window := redactGate(st.Gate, s), s.hide("window", st.Window)
	if in == nil && ch == nil && gate == st.Gate && window == st.Window {
		return st
	}
	cp := *st
	if in != nil {
		cp.Inputs = in
	}
	if ch != nil {
		cp.Changes = ch
	}
	cp.Gate, cp.Window = gate, window
	return &cp
}

// redactGate hides the RPO bound in a failover gate when max_rpo came from
// a sensitive input; the rest of the gate is fixed text.
func redactGate(gate string, s secrets) string {
	const rpo = "RPO <= "
	if i := strings.Index(gate, rpo); i >= 0 && s.covers("replication.max_rpo") {
		return gate[:i+len(rpo)] + Sensitive
	}
	return gate
}

// sortedKeys returns m's keys in order, for deterministic output.
func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
