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

// InputPrimaryMoref is the make_ft_primary input of a rollback: the moref
// of the primary recorded before the swap.
const InputPrimaryMoref = "primary_moref"

// UndoInfix marks the steps of an inverse plan: vm.app.undo.enable_replication
// undoes vm.app.enable_replication.
const UndoInfix = ".undo."

// IsUndo reports whether a step ID belongs to an inverse plan.
func IsUndo(id string) bool { return strings.Contains(id, UndoInfix) }

// AzureVMGuardSuffix ends the ID of the step that, after a failover cancel
// in a rollback, reads the Azure VM gone or deallocated (and deallocates
// it otherwise): vm.app.undo.unplanned_failover.azure_vm.
const AzureVMGuardSuffix = ".azure_vm"

// SourcePowerOnSuffix ends the ID of the step that, in a rollback, powers
// on a source ASR shut down itself (performShutdown: there is no shutdown
// step to undo): vm.app.undo.unplanned_failover.power_on.
const SourcePowerOnSuffix = ".power_on"

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
		l, haveLive := live[addr]
		back := backOutOf(vm, l, haveLive, done, committed[addr], opts.ResetReplication)
		var warnings []string
		if back.failover != "" {
			warnings = append(warnings, back.failover)
		}
		list := byVM[addr]
		for i := len(list) - 1; i >= 0; i-- {
			a := list[i]
			_, kind := SplitStepID(a.ID)
			s, ok := inverseStep(vm, kind, a.Before, done, committed[addr], back)
			if !ok && back.stays && (kind == StepEnableReplication || kind == StepUpdateReplication) {
				notes = append(notes, fmt.Sprintf("%s: %s is not undone: the item stays failed over (ASR does not offer CancelFailover)", addr, kind))
				continue
			}
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
			if kind == StepUnplannedFailover && s.Kind == StepFailoverCancel && back.vm != nil {
				// A cancel is meant to remove the Azure VM; whether it did
				// is read, not assumed: the source is powered on only after
				// the Azure VM is seen absent or deallocated.
				g := c.add(Step{Kind: StepDeallocateAzureVM, Inputs: back.vmInputs()})
				g.ID, g.Inverse = addr+UndoInfix+string(kind)+AzureVMGuardSuffix, kind
				c.last = g.ID
			}
			if kind == StepUnplannedFailover && !done[addr+"."+string(StepShutdown)] {
				// ASR shut the source down (performShutdown): no shutdown
				// step will power it on, so this one does, as part of
				// undoing the failover, gated like any power-on on the
				// Azure VM being off.
				g := c.add(Step{Kind: StepPowerOn, Inputs: back.vmInputs()})
				g.ID, g.Inverse = addr+UndoInfix+string(kind)+SourcePowerOnSuffix, kind
				c.last = g.ID
			}
		}
		for i := range c.steps {
			steps = append(steps, c.steps[i])
		}
		if haveLive {
			st, _ := StageOf(l)
			p.VMs = append(p.VMs, VMPlan{Address: addr, Live: st, Desired: "rollback", TargetName: shown(vm, "target.name", vm.Target.Name),
				Window: vm.Window, Fingerprint: FingerprintOf(l), Warnings: warnings, AzureVMs: l.AzureVMs()})
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
	p.Schedule(opts.Schedule)
	sort.Strings(notes)
	return p, notes
}

// backOut is how a VM's failover is undone, decided from live state at
// rollback time.
type backOut struct {
	// stays: the failover is backed out without a cancel (ASR does not
	// offer CancelFailover): the Azure VM is deallocated and the item
	// stays failed over.
	stays bool
	// reset: disable replication all the same (--reset-replication).
	reset bool
	// vm is the Azure VM the failover created, when known.
	vm *LiveAzureVM
	// failover is the plan's warning saying which way and at what cost.
	failover string
}

// vmInputs names the Azure VM in a step's inputs, or nil.
func (b backOut) vmInputs() map[string]string {
	if b.vm == nil {
		return nil
	}
	return map[string]string{"azure_vm": b.vm.Name, "azure_resource_group": b.vm.ResourceGroupID}
}

// backOutOf chooses the inverse of a VM's unplanned failover from what
// the item allows now: CancelFailover when ASR offers it, else deallocate
// the Azure VM and leave the item failed over (the InMageRcm case: after an
// unplanned failover ASR offers CompleteMigration, Commit,
// DisableProtection, ChangePit and SwitchProtection, per Azure CLI's
// recorded site-recovery tests).
func backOutOf(vm *schema.VM, l Live, haveLive bool, done map[string]bool, committed, reset bool) backOut {
	var b backOut
	if !done[vm.Address+"."+string(StepUnplannedFailover)] && !done[vm.Address+"."+string(StepShutdown)] {
		return b
	}
	if haveLive && l.Item != nil {
		name, rg := l.Item.Settings["name"], l.Item.Settings["resource_group"]
		if l.AzureVM != nil {
			name, rg = l.AzureVM.Name, l.AzureVM.ResourceGroupID
		}
		if name != "" && rg != "" {
			b.vm = &LiveAzureVM{Name: name, ResourceGroupID: rg}
		}
	}
	if !done[vm.Address+"."+string(StepUnplannedFailover)] || committed || !haveLive || l.Item == nil {
		return b
	}
	allowed := strings.Join(l.Item.AllowedOperations, ", ")
	if allowed == "" {
		allowed = "none"
	}
	shownVM := "the Azure VM"
	if b.vm != nil {
		shownVM = "the Azure VM " + b.vm.Name
	}
	if l.Item.Allows("CancelFailover") {
		b.failover = fmt.Sprintf("ASR offers CancelFailover: the rollback cancels the failover and waits for its job (the item returns to Protected and keeps replicating, no new initial replication), checks that %s is absent or deallocated (deallocating it if the cancel left it running), then powers the source on", shownVM)
		return b
	}
	if !failedOver(l.Item) {
		return b
	}
	b.stays, b.reset = true, reset
	if b.vm == nil {
		b.failover = fmt.Sprintf("ASR does not offer CancelFailover (allowed: %s) and the item names no target VM: the failover cannot be backed out by cutover", allowed)
		return b
	}
	b.failover = fmt.Sprintf("ASR does not offer CancelFailover (allowed: %s): the rollback deallocates %s, waits until its instance view says PowerState/deallocated, then powers the source on; the item stays failed over", allowed, shownVM)
	if reset {
		b.failover += "; replication is disabled as asked (--reset-replication): the next apply enables it again with a full initial replication, and the deallocated Azure VM is left for you to delete"
	} else {
		b.failover += "; migrating this VM again needs replication disabled and enabled again (a full initial replication): add --reset-replication to plan the disable"
	}
	return b
}

// inverseStep is the step that undoes one applied step of kind k.
func inverseStep(vm *schema.VM, k StepKind, before json.RawMessage, done map[string]bool, committed bool, back backOut) (Step, bool) {
	id := func(kind StepKind) string { return vm.Address + "." + string(kind) }
	var b struct {
		Placement *struct {
			Host, Pool, Datastore, Folder string
		} `json:"placement"`
		Op           string            `json:"op"`
		Primary      string            `json:"primary"`
		PowerState   string            `json:"powerState"`
		SnapshotName string            `json:"snapshotName"`
		CloneName    string            `json:"cloneName"`
		GuestHost    string            `json:"guestHostName"`
		GuestIP      string            `json:"guestIp"`
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
		// Back the way it came: a migration migrates back (host and pool
		// are all it changed), a relocation relocates.
		in["method"] = MethodRelocate
		if b.Op == "migrate" {
			in["method"] = MethodMigrate
			delete(in, "datastore")
			delete(in, "folder")
		}
		return Step{Kind: StepRelocate, Inputs: in}, true
	case StepMakeFTPrimary:
		if b.Primary == "" {
			return Step{}, false
		}
		// The before-image holds the old primary's moref (the provider's
		// Undo): an input of its own, so no one reads it as a path.
		return Step{Kind: StepMakeFTPrimary, Inputs: map[string]string{InputPrimaryMoref: b.Primary}}, true
	case StepCloneRehearsal:
		name := b.CloneName
		if name == "" && vm.Rehearsal != nil {
			name = vm.Rehearsal.Name
		}
		return Step{Kind: k.Inverse(), Inputs: map[string]string{"name": name}}, true
	case StepCustomizeRehearsal:
		if done[id(StepCloneRehearsal)] || b.GuestHost == "" {
			// The same rollback destroys the clone; or nothing to restore.
			return Step{}, false
		}
		in := map[string]string{"clone": b.CloneName, "restore_hostname": b.GuestHost}
		if b.GuestIP != "" {
			in["restore_ip"] = b.GuestIP
		}
		return Step{Kind: StepCustomizeRehearsal, Inputs: in, Gate: "clone powered on with VMware Tools running"}, true
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
		// The power-on reads the Azure VM named here before it starts:
		// never two running copies of one server.
		return Step{Kind: StepPowerOn, Inputs: back.vmInputs()}, true
	case StepTestFailover:
		if done[id(StepTestCleanup)] {
			return Step{}, false // already cleaned up
		}
		return Step{Kind: StepTestCleanup}, true
	case StepUnplannedFailover:
		if committed {
			return Step{}, false
		}
		if back.stays {
			if back.vm == nil {
				return Step{}, false
			}
			return Step{Kind: StepDeallocateAzureVM, Inputs: back.vmInputs()}, true
		}
		return Step{Kind: StepFailoverCancel}, true
	case StepEnableReplication:
		if committed || back.stays && !back.reset {
			return Step{}, false
		}
		return Step{Kind: StepDisableReplication}, true
	case StepUpdateReplication:
		if committed || back.stays || len(b.Settings) == 0 {
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
