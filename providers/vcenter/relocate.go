package vcenter

import (
	"context"
	"fmt"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

// Placement is where a VM runs, as morefs. Empty fields mean "leave as is".
type Placement struct {
	Host      string `json:"host,omitempty"`
	Pool      string `json:"pool,omitempty"`
	Datastore string `json:"datastore,omitempty"`
	Folder    string `json:"folder,omitempty"`
}

// Relocate moves vm to the placement given with RelocateVM_Task, the call
// for any move that changes datastore or folder (Migrate moves host and
// pool alone). It returns the previous placement for the inverse.
func (c *Client) Relocate(ctx context.Context, vm VMRef, to Placement, w Watch) (Undo, error) {
	before, name, err := c.placement(ctx, vm, OpRelocate)
	if err != nil {
		return Undo{}, err
	}
	if vm.Name == "" {
		vm.Name = name
	}
	undo := Undo{Op: OpRelocate, VM: vm, Placement: &before}
	w.before(undo)
	if to.satisfiedBy(before) {
		// Already there: a resumed step whose task outcome was lost, or an
		// undo of a relocation that never happened.
		return undo, nil
	}

	spec := types.VirtualMachineRelocateSpec{
		Host:      ref("HostSystem", to.Host),
		Pool:      ref("ResourcePool", to.Pool),
		Datastore: ref("Datastore", to.Datastore),
		Folder:    ref("Folder", to.Folder),
	}
	settled := func() (bool, error) {
		now, _, err := c.placement(ctx, vm, OpRelocate)
		return to.satisfiedBy(now), err
	}
	_, err = c.runUntil(ctx, vm, OpRelocate, w, settled, func() (types.ManagedObjectReference, error) {
		res, err := methods.RelocateVM_Task(ctx, c.vim, &types.RelocateVM_Task{
			This: vmRef(vm.MoRef), Spec: spec, Priority: types.VirtualMachineMovePriorityDefaultPriority,
		})
		if err != nil {
			return types.ManagedObjectReference{}, err
		}
		return res.Returnval, nil
	})
	return undo, err
}

// MovePriority is MigrateVM_Task's priority (vim.VirtualMachine.MovePriority).
type MovePriority string

// The priorities vSphere knows.
const (
	PriorityDefault MovePriority = "defaultPriority"
	PriorityHigh    MovePriority = "highPriority"
	PriorityLow     MovePriority = "lowPriority"
)

// Migration tunes a MigrateVM_Task.
type Migration struct {
	Priority MovePriority `json:"priority,omitempty"`
	// State, when set, makes vCenter migrate only a VM in that power state
	// (InvalidPowerState otherwise): a cold migration planned for a
	// powered-off VM is not turned into a hot one.
	State string `json:"state,omitempty"`
}

// Migrate moves vm to another host and/or resource pool with
// MigrateVM_Task (vsphere-MigrateVM_Task: pool, host, priority, state).
// It cannot change datastore or folder: those need Relocate. It returns
// the previous placement for the inverse, which migrates back.
func (c *Client) Migrate(ctx context.Context, vm VMRef, to Placement, m Migration, w Watch) (Undo, error) {
	if to.Datastore != "" || to.Folder != "" {
		return Undo{}, &OpError{VM: vm.String(), Op: OpMigrate, Fault: "InvalidArgument",
			Err: fmt.Errorf("MigrateVM_Task moves host and pool only; a datastore or folder change needs RelocateVM_Task")}
	}
	before, name, err := c.placement(ctx, vm, OpMigrate)
	if err != nil {
		return Undo{}, err
	}
	if vm.Name == "" {
		vm.Name = name
	}
	undo := Undo{Op: OpMigrate, VM: vm, Placement: &Placement{Host: before.Host, Pool: before.Pool}}
	w.before(undo)
	if to.satisfiedBy(before) {
		return undo, nil
	}
	prio := m.Priority
	if prio == "" {
		prio = PriorityDefault
	}
	settled := func() (bool, error) {
		now, _, err := c.placement(ctx, vm, OpMigrate)
		return to.satisfiedBy(now), err
	}
	_, err = c.runUntil(ctx, vm, OpMigrate, w, settled, func() (types.ManagedObjectReference, error) {
		res, err := methods.MigrateVM_Task(ctx, c.vim, &types.MigrateVM_Task{
			This: vmRef(vm.MoRef), Pool: ref("ResourcePool", to.Pool), Host: ref("HostSystem", to.Host),
			Priority: types.VirtualMachineMovePriority(prio), State: types.VirtualMachinePowerState(m.State),
		})
		if err != nil {
			return types.ManagedObjectReference{}, err
		}
		return res.Returnval, nil
	})
	if err != nil && (IsFault(err, &types.NotSupported{}) || IsFault(err, &types.MethodNotFound{})) {
		// A template: MigrateVM_Task refuses it (its page), RelocateVM_Task
		// moves it. A vCenter without the deprecated method at all (vcsim
		// answers MethodNotFound) gets the same move through
		// RelocateVM_Task.
		c.log.Info("migrate refused; relocating instead", "vm", vm.String(), "fault", faultName(err))
		u, rerr := c.Relocate(ctx, vm, to, w)
		return u, rerr
	}
	return undo, err
}

func (p Placement) satisfiedBy(at Placement) bool {
	same := func(want, have string) bool { return want == "" || want == have }
	return same(p.Host, at.Host) && same(p.Pool, at.Pool) && same(p.Datastore, at.Datastore) && same(p.Folder, at.Folder)
}

// placement reads where vm runs now, and its name.
func (c *Client) placement(ctx context.Context, vm VMRef, op Op) (Placement, string, error) {
	m, err := c.readVM(ctx, vm, op, "name", "parent", "resourcePool", "datastore", "runtime.host")
	if err != nil {
		return Placement{}, "", err
	}
	var p Placement
	if m.Runtime.Host != nil {
		p.Host = m.Runtime.Host.Value
	}
	if m.ResourcePool != nil {
		p.Pool = m.ResourcePool.Value
	}
	if len(m.Datastore) > 0 {
		p.Datastore = m.Datastore[0].Value
	}
	if m.Parent != nil {
		p.Folder = m.Parent.Value
	}
	return p, m.Name, nil
}
