package vcenter

import (
	"context"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

// MakePrimary makes vm, a member of a fault-tolerant pair, its primary. The
// task runs on the current primary (as vSphere requires); the Undo records
// that previous primary, so the inverse is MakePrimary of it. A VM that is
// already primary is left alone.
func (c *Client) MakePrimary(ctx context.Context, vm VMRef, w Watch) (Undo, error) {
	m, err := c.readVM(ctx, vm, OpMakePrimary, "name", "config.ftInfo")
	if err != nil {
		return Undo{}, err
	}
	if vm.Name == "" {
		vm.Name = m.Name
	}
	undo := Undo{Op: OpMakePrimary, VM: vm}
	var primary string
	if m.Config != nil {
		switch ft := m.Config.FtInfo.(type) {
		case *types.FaultTolerancePrimaryConfigInfo:
			primary = vm.MoRef
		case *types.FaultToleranceSecondaryConfigInfo:
			primary = ft.PrimaryVM.Value
		}
	}
	if primary == "" {
		return undo, &OpError{VM: vm.String(), Op: OpMakePrimary, Fault: "VmFaultToleranceIssue",
			Err: errNotFaultTolerant}
	}
	undo.Primary = primary
	w.before(undo)
	if primary == vm.MoRef {
		return undo, nil
	}
	settled := func() (bool, error) {
		m, err := c.readVM(ctx, vm, OpMakePrimary, "config.ftInfo")
		if err != nil || m.Config == nil {
			return false, err
		}
		_, primary := m.Config.FtInfo.(*types.FaultTolerancePrimaryConfigInfo)
		return primary, nil
	}
	_, err = c.runUntil(ctx, vm, OpMakePrimary, w, settled, func() (types.ManagedObjectReference, error) {
		r, err := methods.MakePrimaryVM_Task(ctx, c.vim, &types.MakePrimaryVM_Task{
			This: vmRef(primary), Vm: vmRef(vm.MoRef),
		})
		if err != nil {
			return types.ManagedObjectReference{}, err
		}
		return r.Returnval, nil
	})
	return undo, err
}

type constError string

func (e constError) Error() string { return string(e) }

const errNotFaultTolerant = constError("VM is not part of a fault-tolerant pair")
