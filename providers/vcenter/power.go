package vcenter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

// PowerOn powers vm on; a VM already on is left alone. The Undo records the
// previous power state.
func (c *Client) PowerOn(ctx context.Context, vm VMRef, w Watch) (Undo, error) {
	return c.power(ctx, vm, OpPowerOn, types.VirtualMachinePowerStatePoweredOn, w)
}

// PowerOff powers vm off hard; a VM already off is left alone.
func (c *Client) PowerOff(ctx context.Context, vm VMRef, w Watch) (Undo, error) {
	return c.power(ctx, vm, OpPowerOff, types.VirtualMachinePowerStatePoweredOff, w)
}

func (c *Client) power(ctx context.Context, vm VMRef, op Op, want types.VirtualMachinePowerState, w Watch) (Undo, error) {
	m, err := c.readVM(ctx, vm, op, "runtime.powerState")
	if err != nil {
		return Undo{}, err
	}
	undo := Undo{Op: op, VM: vm, PowerState: string(m.Runtime.PowerState)}
	w.before(undo)
	if m.Runtime.PowerState == want {
		return undo, nil
	}
	settled := func() (bool, error) {
		m, err := c.readVM(ctx, vm, op, "runtime.powerState")
		return m.Runtime.PowerState == want, err
	}
	_, err = c.runUntil(ctx, vm, op, w, settled, func() (types.ManagedObjectReference, error) {
		if want == types.VirtualMachinePowerStatePoweredOn {
			r, err := methods.PowerOnVM_Task(ctx, c.vim, &types.PowerOnVM_Task{This: vmRef(vm.MoRef)})
			if err != nil {
				return types.ManagedObjectReference{}, err
			}
			return r.Returnval, nil
		}
		r, err := methods.PowerOffVM_Task(ctx, c.vim, &types.PowerOffVM_Task{This: vmRef(vm.MoRef)})
		if err != nil {
			return types.ManagedObjectReference{}, err
		}
		return r.Returnval, nil
	})
	return undo, err
}

// Shutdown says how a guest is shut down.
type Shutdown struct {
	// Timeout bounds the wait for the guest to power off (default 5 min).
	Timeout time.Duration
	// FallbackPowerOff powers the VM off hard when the guest does not shut
	// down in time or cannot be asked to (no tools).
	FallbackPowerOff bool
}

// ErrShutdownTimeout is returned (inside an OpError) when the guest did not
// power off in time and no fallback was allowed.
var ErrShutdownTimeout = errors.New("guest did not power off in time")

// ShutdownGuest asks the guest OS to shut down and waits, bounded, for the
// VM to power off. ShutdownGuest is not a task in vSphere, so there is no
// handle to re-attach to: a resumed step re-reads the power state and calls
// again, which is harmless.
func (c *Client) ShutdownGuest(ctx context.Context, vm VMRef, opts Shutdown, w Watch) (Undo, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	m, err := c.readVM(ctx, vm, OpShutdownGuest, "runtime.powerState")
	if err != nil {
		return Undo{}, err
	}
	undo := Undo{Op: OpShutdownGuest, VM: vm, PowerState: string(m.Runtime.PowerState)}
	w.before(undo)
	if m.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOff {
		return undo, nil
	}
	err = c.retry.do(ctx, vm.String(), OpShutdownGuest, nil, func() error {
		_, err := methods.ShutdownGuest(ctx, c.vim, &types.ShutdownGuest{This: vmRef(vm.MoRef)})
		return err
	})
	if err != nil {
		if opts.FallbackPowerOff && (IsFault(err, &types.ToolsUnavailable{}) || IsFault(err, &types.InvalidState{})) {
			return c.fallbackPowerOff(ctx, vm, undo, w)
		}
		return undo, err
	}
	deadline := time.Now().Add(opts.Timeout)
	for {
		m, err := c.readVM(ctx, vm, OpShutdownGuest, "runtime.powerState")
		if err != nil {
			return undo, err
		}
		w.progress(Progress{Handle: Handle{Op: OpShutdownGuest, VM: vm.MoRef}, State: string(m.Runtime.PowerState)})
		if m.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOff {
			return undo, nil
		}
		if time.Now().After(deadline) {
			if opts.FallbackPowerOff {
				return c.fallbackPowerOff(ctx, vm, undo, w)
			}
			return undo, &OpError{VM: vm.String(), Op: OpShutdownGuest, Fault: "Timedout",
				Err: fmt.Errorf("%w after %s", ErrShutdownTimeout, opts.Timeout)}
		}
		select {
		case <-ctx.Done():
			return undo, ctx.Err()
		case <-time.After(c.poll):
		}
	}
}

func (c *Client) fallbackPowerOff(ctx context.Context, vm VMRef, undo Undo, w Watch) (Undo, error) {
	c.log.Warn("guest shutdown did not complete; powering off", "vm", vm.String())
	_, err := c.PowerOff(ctx, vm, Watch{Started: w.Started, Progress: w.Progress})
	return undo, err
}
