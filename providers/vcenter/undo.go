package vcenter

import (
	"context"
	"fmt"

	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// Undo is the before-image an operation's inverse needs. Operations hand it
// to Watch.Before before they change anything (journal it then) and return
// it completed (clone and snapshot morefs are known only at the end).
type Undo struct {
	Op Op    `json:"op"`
	VM VMRef `json:"vm"`
	// Placement is where a relocated VM was.
	Placement *Placement `json:"placement,omitempty"`
	// Snapshot is the snapshot a snapshot operation created.
	Snapshot string `json:"snapshot,omitempty"`
	// Clone is the VM a clone operation created.
	Clone *VMRef `json:"clone,omitempty"`
	// Primary is the FT primary before a make-primary.
	Primary string `json:"primary,omitempty"`
	// PowerState is the power state before a power operation.
	PowerState string `json:"powerState,omitempty"`
}

// Undo performs the inverse of the operation u was recorded for: relocate
// back, remove the snapshot, destroy the clone, make the old primary primary
// again, or restore the power state. Guest customization has no inverse.
func (c *Client) Undo(ctx context.Context, u Undo, w Watch) error {
	switch u.Op {
	case OpRelocate, OpMigrate:
		if u.Placement == nil {
			return fmt.Errorf("vcenter: undo %s VM %s: no recorded placement", u.Op, u.VM)
		}
		if u.Op == OpMigrate {
			_, err := c.Migrate(ctx, u.VM, Placement{Host: u.Placement.Host, Pool: u.Placement.Pool}, Migration{}, w)
			return err
		}
		_, err := c.Relocate(ctx, u.VM, *u.Placement, w)
		return err
	case OpSnapshot:
		if u.Snapshot == "" {
			return nil // the snapshot was never created
		}
		return c.RemoveSnapshot(ctx, u.VM, u.Snapshot, w)
	case OpClone:
		if u.Clone == nil {
			return nil
		}
		return c.Destroy(ctx, *u.Clone, w)
	case OpMakePrimary:
		if u.Primary == "" {
			return fmt.Errorf("vcenter: undo %s VM %s: no recorded primary", u.Op, u.VM)
		}
		_, err := c.MakePrimary(ctx, VMRef{MoRef: u.Primary}, w)
		return err
	case OpShutdownGuest, OpPowerOff, OpPowerOn:
		switch u.PowerState {
		case string(types.VirtualMachinePowerStatePoweredOn):
			_, err := c.PowerOn(ctx, u.VM, w)
			return err
		case string(types.VirtualMachinePowerStatePoweredOff):
			_, err := c.PowerOff(ctx, u.VM, w)
			return err
		}
		return nil
	}
	return fmt.Errorf("vcenter: undo %s VM %s: operation has no inverse", u.Op, u.VM)
}

func (w Watch) before(u Undo) {
	if w.Before != nil {
		w.Before(u)
	}
}

func vmRef(moref string) types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "VirtualMachine", Value: moref}
}

func ref(kind, moref string) *types.ManagedObjectReference {
	if moref == "" {
		return nil
	}
	return &types.ManagedObjectReference{Type: kind, Value: moref}
}

// readVM reads a few properties of one VM, for before-images and checks.
func (c *Client) readVM(ctx context.Context, vm VMRef, op Op, props ...string) (mo.VirtualMachine, error) {
	var m mo.VirtualMachine
	err := c.retry.do(ctx, vm.String(), op, nil, func() error {
		return property.DefaultCollector(c.vim).RetrieveOne(ctx, vmRef(vm.MoRef), props, &m)
	})
	return m, err
}
