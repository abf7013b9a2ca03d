package planner

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"cutover/schema"
)

// Applied is one step a journal shows succeeded, with the before-image
// its action recorded, in the order the steps succeeded.
type Applied struct {
	ID     string
	Before json.RawMessage
}

// UndoInfix marks the steps of an inverse plan: vm.app.undo.enable_replication
// undoes vm.app.enable_replication.
const UndoInfix = ".undo."

// IsUndo reports whether a step ID belongs to an inverse plan.
func IsUndo(id string) bool { return strings.Contains(id, UndoInfix) }

// SplitStepID splits a step ID into the VM address and the kind.
func SplitStepID(id string) (vm string, kind StepKind) {
	i := strings.LastIndex(id, ".")
	if i < 0 {
		return "", StepKind(id)
	}
	return id[:i], StepKind(id[i+1:])
}

// Inverse builds the plan that undoes applied steps, newest first: relocate
// back, remove the snapshot, destroy the rehearsal clone, make the recorded
// FT primary primary again, power the source on, clean up a test failover,
// cancel an uncommitted failover, disable replication, PATCH settings back.
// Steps whose effect a later applied step already undid (a test failover
// that was cleaned up) are left out. For a VM past a point of no return,
// only what is still possible is planned, and the returned notes say what
// can no longer be undone.
func Inverse(rb *schema.Runbook, applied []Applied, live map[string]Live, opts Options) (*Plan, []string) {
	p, _ := Build(&schema.Runbook{Name: rb.Name, Hash: rb.Hash, Variables: rb.Variables, Windows: rb.Windows}, nil, opts)
	var notes []string

	done := map[string]bool{}
	committed := map[string]bool{}
	byVM := map[string][]Applied{}
	var order []string
	for _, a := range applied {
		vm, kind := SplitStepID(a.ID)
		done[a.ID] = true
		if kind.NoReturn() {
			committed[vm] = true
		}
		if _, ok := byVM[vm]; !ok {
			order = append(order, vm)
		}
		byVM[vm] = append(byVM[vm], a)
	}
	vmOf := map[string]*schema.VM{}
	for _, vm := range rb.VMs {
		vmOf[vm.Address] = vm
	}

	var steps []Step
	stepOf := map[string]*Step{}
	for _, addr := range order {
		vm := vmOf[addr]
		if vm == nil {
			notes = append(notes, fmt.Sprintf("%s is no longer in the runbook; its applied steps are not undone", addr))
			continue
		}
		c := &chain{vm: vm}
		list := byVM[addr]
		for i := len(list) - 1; i >= 0; i-- {
			a := list[i]
			_, kind := SplitStepID(a.ID)
			s, ok := inverseStep(vm, kind, a.Before, done, committed[addr])
			if !ok {
				if committed[addr] && kind != StepFailoverCommit && kind != StepCompleteMigration && kind.Inverse() != "" {
					notes = append(notes, fmt.Sprintf("%s: %s can no longer be undone: the failover was committed", addr, kind))
				}
				if kind.NoReturn() {
					notes = append(notes, fmt.Sprintf("%s: %s is a point of no return and is not undone", addr, kind))
				}
				continue
			}
			added := c.add(s)
			// The step is named after what it undoes, and its inverse is
			// that step's kind: rolling back the rollback redoes it.
			added.ID, added.Inverse = addr+UndoInfix+string(kind), kind
			c.last = added.ID
		}
		for i := range c.steps {
			steps = append(steps, c.steps[i])
		}
		if l, ok := live[addr]; ok {
			st, _ := StageOf(l)
			p.VMs = append(p.VMs, VMPlan{Address: addr, Live: st, Desired: "rollback", TargetName: shown(vm, "target.name", vm.Target.Name),
				Window: vm.Window, Fingerprint: FingerprintOf(l)})
		}
	}
	for i := range steps {
		stepOf[steps[i].ID] = &steps[i]
	}
	// Reverse depends_on: the db's failover is cancelled after the app's.
	for _, vm := range rb.VMs {
		for _, dep := range vm.DependsOn {
			for _, k := range []StepKind{StepTestFailover, StepUnplannedFailover, StepShutdown} {
				a, b := stepOf[dep+UndoInfix+string(k)], stepOf[vm.Address+UndoInfix+string(k)]
				if a != nil && b != nil {
					a.DependsOn = append(a.DependsOn, b.ID)
				}
			}
		}
	}
	p.Steps = nil
	g := (&Plan{Steps: steps}).Graph()
	if err := g.Validate(); err != nil {
		notes = append(notes, err.Error())
		return p, notes
	}
	ids, _ := g.TopoSort()
	for _, id := range ids {
		s := *stepOf[id]
		sort.Strings(s.DependsOn)
		p.Steps = append(p.Steps, s)
	}
	sort.Strings(notes)
	return p, notes
}

// inverseStep is the step that undoes one applied step of kind k.
func inverseStep(vm *schema.VM, k StepKind, before json.RawMessage, done map[string]bool, committed bool) (Step, bool) {
	id := func(kind StepKind) string { return vm.Address + "." + string(kind) }
	var b struct {
		Placement *struct {
			Host, Pool, Datastore, Folder string
		} `json:"placement"`
		Primary      string            `json:"primary"`
		PowerState   string            `json:"powerState"`
		SnapshotName string            `json:"snapshotName"`
		CloneName    string            `json:"cloneName"`
		Settings     map[string]string `json:"settings"`
	}
	_ = json.Unmarshal(before, &b)
	switch k {
	case StepRelocate:
		if b.Placement == nil {
			return Step{}, false
		}
		in := map[string]string{}
		for key, v := range map[string]string{"host": b.Placement.Host, "resource_pool": b.Placement.Pool, "datastore": b.Placement.Datastore, "folder": b.Placement.Folder} {
			if v != "" {
				in[key] = v
			}
		}
		return Step{Kind: StepRelocate, Inputs: in}, true
	case StepMakeFTPrimary:
		if b.Primary == "" {
			return Step{}, false
		}
		return Step{Kind: StepMakeFTPrimary, Inputs: map[string]string{"primary": b.Primary}}, true
	case StepCloneRehearsal:
		name := b.CloneName
		if name == "" && vm.Rehearsal != nil {
			name = vm.Rehearsal.Name
		}
		return Step{Kind: k.Inverse(), Inputs: map[string]string{"name": name}}, true
	case StepSnapshot:
		name := b.SnapshotName
		if name == "" {
			name = SnapshotName(vm)
		}
		return Step{Kind: k.Inverse(), Inputs: map[string]string{"name": shown(vm, "target.name", name)}}, true
	case StepShutdown:
		if committed {
			return Step{}, false // two live copies of the workload
		}
		return Step{Kind: StepPowerOn}, true
	case StepTestFailover:
		if done[id(StepTestCleanup)] {
			return Step{}, false // already cleaned up
		}
		return Step{Kind: StepTestCleanup}, true
	case StepUnplannedFailover:
		if committed {
			return Step{}, false
		}
		return Step{Kind: StepFailoverCancel}, true
	case StepEnableReplication:
		if committed {
			return Step{}, false
		}
		return Step{Kind: StepDisableReplication}, true
	case StepUpdateReplication:
		if committed || len(b.Settings) == 0 {
			return Step{}, false
		}
		if done[id(StepEnableReplication)] {
			// The same rollback disables replication: the item and its
			// settings go with it.
			return Step{}, false
		}
		var ch []Change
		keys := make([]string, 0, len(b.Settings))
		for key := range b.Settings {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			ch = append(ch, Change{Attribute: key, New: b.Settings[key]})
		}
		return Step{Kind: StepUpdateReplication, Changes: ch}, true
	}
	return Step{}, false
}
