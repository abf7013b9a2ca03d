package vcenter

import (
	"context"
	"fmt"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

// Snapshot creates a snapshot of vm (without memory unless asked) and
// returns its moref in the Undo, for RemoveSnapshot.
func (c *Client) Snapshot(ctx context.Context, vm VMRef, name, description string, memory bool, w Watch) (Undo, error) {
	undo := Undo{Op: OpSnapshot, VM: vm}
	w.before(undo)
	res, err := c.run(ctx, vm, OpSnapshot, w, func() (types.ManagedObjectReference, error) {
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
	snap, ok := res.(types.ManagedObjectReference)
	if !ok {
		return undo, fmt.Errorf("vcenter: snapshot VM %s: task returned %T, not a snapshot", vm, res)
	}
	undo.Snapshot = snap.Value
	return undo, nil
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
