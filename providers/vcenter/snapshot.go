package vcenter

import (
	"context"
	"fmt"
	"slices"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

// Snapshot creates a snapshot of vm (without memory unless asked) and
// returns its moref in the Undo, for RemoveSnapshot. If a start call's
// answer is lost, a snapshot of that name that was not there before is
// taken as the one created, rather than creating another.
func (c *Client) Snapshot(ctx context.Context, vm VMRef, name, description string, memory bool, w Watch) (Undo, error) {
	undo := Undo{Op: OpSnapshot, VM: vm}
	existing, err := c.snapshotsNamed(ctx, vm, name)
	if err != nil {
		return undo, err
	}
	w.before(undo)
	var adopted string
	settled := func() (bool, error) {
		now, err := c.snapshotsNamed(ctx, vm, name)
		for _, s := range now {
			if !slices.Contains(existing, s) {
				adopted = s
				return true, err
			}
		}
		return false, err
	}
	res, err := c.runUntil(ctx, vm, OpSnapshot, w, settled, func() (types.ManagedObjectReference, error) {
		r, err := methods.CreateSnapshot_Task(ctx, c.vim, &types.CreateSnapshot_Task{
			This: vmRef(vm.MoRef), Name: name, Description: description, Memory: memory,
		})
		if err != nil {
			return types.ManagedObjectReference{}, err
		}
		return r.Returnval, nil
	})
	if err != nil {
		return undo, err
	}
	if adopted != "" {
		undo.Snapshot = adopted
		return undo, nil
	}
	snap, ok := res.(types.ManagedObjectReference)
	if !ok {
		return undo, fmt.Errorf("vcenter: snapshot VM %s: task returned %T, not a snapshot", vm, res)
	}
	undo.Snapshot = snap.Value
	return undo, nil
}

// snapshotsNamed lists the morefs of vm's snapshots called name.
func (c *Client) snapshotsNamed(ctx context.Context, vm VMRef, name string) ([]string, error) {
	m, err := c.readVM(ctx, vm, OpSnapshot, "snapshot")
	if err != nil || m.Snapshot == nil {
		return nil, err
	}
	var out []string
	var walk func([]types.VirtualMachineSnapshotTree)
	walk = func(list []types.VirtualMachineSnapshotTree) {
		for _, s := range list {
			if s.Name == name {
				out = append(out, s.Snapshot.Value)
			}
			walk(s.ChildSnapshotList)
		}
	}
	walk(m.Snapshot.RootSnapshotList)
	return out, nil
}

// RemoveSnapshot removes one snapshot (keeping its children) and
// consolidates disks.
func (c *Client) RemoveSnapshot(ctx context.Context, vm VMRef, snapshot string, w Watch) error {
	consolidate := true
	_, err := c.run(ctx, vm, OpRemoveSnapshot, w, func() (types.ManagedObjectReference, error) {
		r, err := methods.RemoveSnapshot_Task(ctx, c.vim, &types.RemoveSnapshot_Task{
			This:           types.ManagedObjectReference{Type: "VirtualMachineSnapshot", Value: snapshot},
			RemoveChildren: false, Consolidate: &consolidate,
		})
		if err != nil {
			return types.ManagedObjectReference{}, err
		}
		return r.Returnval, nil
	})
	if IsFault(err, &types.ManagedObjectNotFound{}) {
		return nil // already gone: a repeated rollback is harmless
	}
	return err
}
