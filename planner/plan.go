package planner

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"cutover/planner/dag"
	"cutover/schema"
)

// FormatVersion is the plan file format this build writes and reads.
const FormatVersion = 1

// Plan is a reviewed, applicable plan: pure data, encoded by planfile.
type Plan struct {
	FormatVersion int    `json:"format_version"`
	ToolVersion   string `json:"tool_version"`
	Runbook       string `json:"runbook"`
	RunbookHash   string `json:"runbook_hash"`
	// Variables holds the values used, sensitive ones left out.
	Variables map[string]string `json:"variables,omitempty"`
	// RunbookDir is the runbook directory relative to the plan file's
	// directory, so apply finds it wherever the repository is checked out.
	RunbookDir string `json:"runbook_dir,omitempty"`
	// Simulated plans were made against the --sim world and apply to it.
	Simulated bool         `json:"simulated,omitempty"`
	CreatedAt time.Time    `json:"created_at"`
	ExpiresAt time.Time    `json:"expires_at"`
	Windows   []WindowInfo `json:"windows,omitempty"`
	VMs       []VMPlan     `json:"vms"`
	// Steps are in a topological order of the DAG.
	Steps []Step `json:"steps"`
	// Timeline is the schedule of the steps against the windows.
	Timeline *Timeline `json:"timeline,omitempty"`
}

// WindowInfo is a window as declared.
type WindowInfo struct {
	Name     string `json:"name"`
	Schedule string `json:"schedule"`
	Duration string `json:"duration"`
	Timezone string `json:"timezone,omitempty"`
	// Estimates override step durations by kind for this window.
	Estimates map[string]string `json:"estimates,omitempty"`
}

// VMPlan summarises one VM: where it is, where it goes and what it read.
type VMPlan struct {
	Address    string    `json:"address"`
	Live       LiveStage `json:"live"`
	Desired    string    `json:"desired"`
	TargetName string    `json:"target_name"`
	Size       string    `json:"size,omitempty"`
	Subnet     string    `json:"subnet,omitempty"`
	Window     string    `json:"window,omitempty"`
	// DiskBytes is the source's provisioned disk size, which initial
	// replication has to copy.
	DiskBytes   int64       `json:"disk_bytes,omitempty"`
	Fingerprint Fingerprint `json:"fingerprint"`
	// Sensitive lists attributes rendered as (sensitive).
	Sensitive []string `json:"sensitive,omitempty"`
	// Warnings are what the plan cannot do for this VM although the
	// runbook asks for it, such as a setting ASR takes only at enable.
	Warnings []string `json:"warnings,omitempty"`
	// AzureVMs are the Azure VMs a failover or test failover of this VM
	// created, as read live when the plan was made.
	AzureVMs []LiveAzureVM `json:"azure_vms,omitempty"`
}

// Problem is a VM the planner cannot plan, with the reason.
type Problem struct {
	VM     string
	Reason string
}

func (p Problem) Error() string { return p.VM + ": " + p.Reason }

// Options tune Build.
type Options struct {
	Now         time.Time
	ToolVersion string
	// TTL is how long a plan stays applicable; zero means DefaultTTL, and
	// a plan file living longer is refused when read.
	TTL time.Duration
	// Targets limits the plan to these VM addresses (or vm block names);
	// empty means every VM.
	Targets []string
	// ResetReplication (Inverse only) also disables replication of a VM
	// whose failover is backed out without a cancel: the explicit step that
	// lets it be migrated again, after a new initial replication.
	ResetReplication bool
	// Schedule tunes the timeline every plan gets.
	Schedule ScheduleOptions
}

// DefaultTTL is how long a plan stays applicable unless Options.TTL says
// otherwise; a plan file whose expiry lies further out was edited.
const DefaultTTL = 7 * 24 * time.Hour

// Build diffs every runbook VM against its live state and returns the
// plan. VMs that cannot be planned are returned as problems; the plan then
// holds the others, and the caller decides whether to refuse it.
func Build(rb *schema.Runbook, live map[string]Live, opts Options) (*Plan, []Problem) {
	ttl := opts.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	p := &Plan{
		FormatVersion: FormatVersion,
		ToolVersion:   opts.ToolVersion,
		Runbook:       rb.Name,
		RunbookHash:   rb.Hash,
		Variables:     map[string]string{},
		CreatedAt:     opts.Now.UTC(),
		ExpiresAt:     opts.Now.UTC().Add(ttl),
	}
	for _, v := range rb.Variables {
		if !v.Sensitive && v.Value.IsWhollyKnown() {
			p.Variables[v.Name] = ctyDisplay(v.Value)
		}
	}
	for _, w := range rb.Windows {
		p.Windows = append(p.Windows, WindowInfo{Name: w.Name, Schedule: w.Schedule, Duration: w.Duration, Timezone: w.Timezone, Estimates: w.Estimates})
	}

	var problems []Problem
	selected := targetSet(rb, opts.Targets)
	byVM := map[string][]Step{}
	for _, vm := range rb.VMs {
		if !selected[vm.Address] {
			continue
		}
		l, ok := live[vm.Address]
		if !ok || l.Source == nil && !l.Completed {
			problems = append(problems, Problem{VM: vm.Address, Reason: "the source VM was not found in vCenter"})
			continue
		}
		steps, stage, err := vmSteps(vm, l)
		if err == nil {
			err = fitWindows(steps, p.Windows)
		}
		if err != nil {
			problems = append(problems, Problem{VM: vm.Address, Reason: err.Error()})
			continue
		}
		_ = stage
		live0, _ := StageOf(l)
		vp := VMPlan{
			Address: vm.Address, Live: live0, Desired: string(vm.Stage),
			TargetName: vm.Target.Name, Size: vm.Target.Size, Subnet: vm.Target.Subnet, Window: vm.Window,
			Fingerprint: FingerprintOf(l),
		}
		if l.Source != nil {
			vp.DiskBytes = l.Source.DiskBytes
		}
		for k := range vm.Sensitive {
			vp.Sensitive = append(vp.Sensitive, k)
		}
		sort.Strings(vp.Sensitive)
		vp.TargetName = shown(vm, "target.name", vp.TargetName)
		vp.Size = shown(vm, "target.size", vp.Size)
		vp.Subnet = shown(vm, "target.subnet", vp.Subnet)
		vp.Warnings = enableOnlyDrift(vm, l.Item)
		if RolledBackInPlace(l) {
			vp.Warnings = append(vp.Warnings, ReprotectNote(l))
		}
		vp.AzureVMs = l.AzureVMs()
		if l.Item != nil && l.Item.Unhealthy != "" {
			for _, st := range steps {
				if st.Kind == StepTestFailover || st.Kind == StepUnplannedFailover {
					vp.Warnings = append(vp.Warnings, "replication is not healthy ("+l.Item.Unhealthy+"): "+string(st.Kind)+" waits until it is")
					break
				}
			}
		}
		if l.Item == nil && l.Migrated != "" && !l.Completed {
			// Without the journal the live evidence alone keeps a migrated
			// VM from being enabled again: say so.
			vp.Warnings = append(vp.Warnings, "the journal has no record of this VM's migration, but "+l.Migrated+
				": it is taken as completed and replication is not enabled again")
		}
		p.VMs = append(p.VMs, vp)
		byVM[vm.Address] = steps
	}

	n := 0
	for _, steps := range byVM {
		n += len(steps)
	}
	index := make(map[string]int32, n)
	all := make([]Step, 0, n)
	for _, vm := range rb.VMs {
		all = append(all, byVM[vm.Address]...)
	}
	unique := true
	for i := range all {
		if _, dup := index[all[i].ID]; dup {
			unique = false
		}
		index[all[i].ID] = int32(i)
	}
	// depends_on between VMs orders like steps: the app's test failover
	// waits for the db's, its failover for the db's failover.
	for _, vm := range rb.VMs {
		for _, dep := range vm.DependsOn {
			for _, k := range []StepKind{StepTestFailover, StepUnplannedFailover, StepFailoverCommit} {
				a, okA := index[vm.Address+"."+string(k)]
				b, okB := index[dep+"."+string(k)]
				if okA && okB {
					all[a].DependsOn = append(all[a].DependsOn, all[b].ID)
				}
			}
		}
	}
	order, ok := stepOrder(all, index)
	if !unique || !ok {
		// Not a DAG: the graph package names what is wrong (each cycle,
		// each unknown step) the way every plan reports it.
		g := dag.New()
		for i := range all {
			g.Add(all[i].ID)
		}
		for i := range all {
			for _, d := range all[i].DependsOn {
				g.Connect(all[i].ID, d)
			}
		}
		if err := g.Validate(); err != nil {
			problems = append(problems, Problem{VM: "plan", Reason: err.Error()})
			return p, problems
		}
		ids, err := g.TopoSort()
		if err != nil {
			problems = append(problems, Problem{VM: "plan", Reason: err.Error()})
			return p, problems
		}
		order = make([]int32, len(ids))
		for i, id := range ids {
			order[i] = index[id]
		}
	}
	p.Steps = make([]Step, 0, len(order))
	for _, i := range order {
		s := all[i]
		sort.Strings(s.DependsOn)
		p.Steps = append(p.Steps, s)
	}
	p.Schedule(opts.Schedule)
	return p, problems
}

func targetSet(rb *schema.Runbook, targets []string) map[string]bool {
	out := map[string]bool{}
	for _, vm := range rb.VMs {
		if len(targets) == 0 {
			out[vm.Address] = true
			continue
		}
		for _, t := range targets {
			if t == vm.Address || t == "vm."+vm.Block {
				out[vm.Address] = true
			}
		}
	}
	return out
}

// Graph rebuilds the plan's DAG from its steps.
func (p *Plan) Graph() *dag.Graph {
	g := dag.New()
	for _, s := range p.Steps {
		g.Add(s.ID)
	}
	for _, s := range p.Steps {
		for _, d := range s.DependsOn {
			g.Connect(s.ID, d)
		}
	}
	return g
}

// Summary counts what a plan does.
type Summary struct {
	Replicate, Update, Test, Failover, Commit, Source int
	Disruptive, NoReturn                              int
	Unchanged                                         int
	// Undo counts the steps of an inverse plan (see IsUndo).
	Undo int
}

// Summarize counts the plan's steps by what they do.
func (p *Plan) Summarize() Summary {
	var s Summary
	changed := map[string]bool{}
	// A new VM's settings PATCH (NICs after Protected) is part of creating
	// it: "20 to replicate" for 20 new VMs, not also "20 to update".
	enabling := map[string]bool{}
	for _, st := range p.Steps {
		if st.Kind == StepEnableReplication {
			enabling[st.VM] = true
		}
	}
	for _, st := range p.Steps {
		changed[st.VM] = true
		if IsUndo(st.ID) {
			s.Undo++
		}
		switch st.Kind {
		case StepEnableReplication:
			s.Replicate++
		case StepUpdateReplication:
			if !enabling[st.VM] {
				s.Update++
			}
		case StepTestFailover:
			s.Test++
		case StepUnplannedFailover:
			s.Failover++
		case StepFailoverCommit:
			s.Commit++
		case StepRelocate, StepSnapshot, StepMakeFTPrimary, StepCloneRehearsal, StepCustomizeRehearsal:
			s.Source++
		}
		if st.Disruptive {
			s.Disruptive++
		}
		if st.NoReturn {
			s.NoReturn++
		}
	}
	for _, vm := range p.VMs {
		if !changed[vm.Address] {
			s.Unchanged++
		}
	}
	return s
}

// HasChanges reports whether applying the plan would do anything.
func (p *Plan) HasChanges() bool { return len(p.Steps) > 0 }

func (s Summary) String() string {
	return fmt.Sprintf("%d to replicate, %d to update, %d to test, %d to fail over, %d to commit, %d source changes; %d disruptive, %d points of no return",
		s.Replicate, s.Update, s.Test, s.Failover, s.Commit, s.Source, s.Disruptive, s.NoReturn)
}

// stepOrder sorts the steps topologically by index, the smallest step ID
// first among those whose dependencies are placed: the order
// dag.Graph.TopoSort gives, without a map of edges per step (at 50,000
// VMs the graph's maps were the largest thing live while planning). It
// reports false when the steps are not a DAG (a cycle, or a dependency on
// a step that does not exist); the caller asks the graph package why.
func stepOrder(steps []Step, index map[string]int32) ([]int32, bool) {
	waiting := make([]int32, len(steps))
	dependents := make([][]int32, len(steps))
	for i := range steps {
		deps := steps[i].DependsOn
		for k, d := range deps {
			j, ok := index[d]
			if !ok {
				return nil, false
			}
			if slices.Contains(deps[:k], d) {
				continue // an edge counts once, as in the graph
			}
			waiting[i]++
			dependents[j] = append(dependents[j], int32(i))
		}
	}
	byID := func(a, b int32) bool { return steps[a].ID < steps[b].ID }
	ready := &minHeap[int32]{less: byID}
	for i := range steps {
		if waiting[i] == 0 {
			ready.push(int32(i))
		}
	}
	order := make([]int32, 0, len(steps))
	for ready.len() > 0 {
		i := ready.pop()
		order = append(order, i)
		for _, j := range dependents[i] {
			if waiting[j]--; waiting[j] == 0 {
				ready.push(j)
			}
		}
	}
	return order, len(order) == len(steps)
}

// DefaultWindowEstimates are how long apply reckons a disruptive step of
// these kinds takes when its window declares no estimate: it starts one
// only when that much of the window is left. Other kinds count as taking
// no time. They equal DefaultDurations for these kinds.
var DefaultWindowEstimates = map[StepKind]time.Duration{
	StepShutdown:          DefaultDurations[StepShutdown],
	StepUnplannedFailover: DefaultDurations[StepUnplannedFailover],
	StepFailoverCommit:    DefaultDurations[StepFailoverCommit],
	StepRelocate:          DefaultDurations[StepRelocate],
	StepDeallocateAzureVM: DefaultDurations[StepDeallocateAzureVM],
}

// fitWindows refuses steps that could never start inside their window: a
// disruptive step starts only when its estimate (the window's declared
// one, else DefaultWindowEstimates, as apply reckons it) fits in what is
// left of the window, so one estimated longer than the window lasts would
// wait for ever. apply refuses such a plan too (executor.NoFitError); the
// plan says it first.
func fitWindows(steps []Step, windows []WindowInfo) error {
	for _, s := range steps {
		if !s.Disruptive || s.Window == "" {
			continue
		}
		i := slices.IndexFunc(windows, func(w WindowInfo) bool { return w.Name == s.Window })
		if i < 0 {
			continue
		}
		w := windows[i]
		dur, err := time.ParseDuration(w.Duration)
		if err != nil {
			continue
		}
		est, basis := DefaultWindowEstimates[s.Kind], "the default for "+string(s.Kind)
		if v, ok := w.Estimates[string(s.Kind)]; ok {
			if d, err := time.ParseDuration(v); err == nil {
				est, basis = d, "the window's estimate"
			}
		}
		if est > dur {
			return fmt.Errorf("%s is estimated at %s (%s) but window %q lasts %s, so it could never start inside it; lengthen the window or set estimates { %s = \"...\" } in it",
				s.ID, est, basis, w.Name, w.Duration, s.Kind)
		}
	}
	return nil
}
