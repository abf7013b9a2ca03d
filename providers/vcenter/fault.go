package vcenter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/vim25/types"
)

// OpError is a failed vCenter operation. Its message names the VM, the
// operation and the fault; Transient says whether retrying may succeed.
type OpError struct {
	VM        string // VM name or moref as the caller knows it
	Op        Op
	Fault     string // vim25 fault type name, e.g. "InvalidPowerState"; "" if not a vSphere fault
	Transient bool
	Err       error
}

// Error reads "vcenter: <op> VM <name> (<moref>): <Fault>: <detail>".
func (e *OpError) Error() string {
	f := e.Fault
	if f == "" {
		f = "error"
	}
	return fmt.Sprintf("vcenter: %s VM %s: %s: %v", e.Op, e.VM, f, e.Err)
}

// Unwrap exposes the underlying error, so fault.Is and errors.As see the
// vSphere fault.
func (e *OpError) Unwrap() error { return e.Err }

// transient reports whether f may clear by itself: the VM is busy with
// another task, a host briefly lost contact, or a phase timed out. vSphere
// fault subtypes are matched through their Base interfaces, so
// HostNotConnected and HostNotReachable count as HostCommunication.
func transient(f types.BaseMethodFault) bool {
	switch f.(type) {
	case types.BaseTaskInProgress, types.BaseHostCommunication, types.BaseTimedout, *types.ConcurrentAccess:
		return true
	}
	return false
}

// faultOf returns the vSphere fault inside err, from a SOAP fault or a
// failed task alike, or nil.
func faultOf(err error) types.BaseMethodFault {
	var found types.BaseMethodFault
	fault.In(err, func(f types.BaseMethodFault, _ string, _ []types.LocalizableMessage) bool {
		found = f
		return true
	})
	return found
}

// classify builds the OpError for err.
func classify(vm string, op Op, err error) *OpError {
	var oe *OpError
	if errors.As(err, &oe) {
		if vm != "" {
			oe.VM = vm // the caller may know the name, not just the moref
		}
		return oe
	}
	e := &OpError{VM: vm, Op: op, Err: err}
	if f := faultOf(err); f != nil {
		e.Fault = reflect.TypeOf(f).Elem().Name()
		e.Transient = transient(f)
		return e
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && !errors.Is(err, context.DeadlineExceeded) {
		e.Transient = true
	}
	return e
}

// IsFault reports whether err carries a vSphere fault of target's type (or a
// subtype), e.g. IsFault(err, &types.InvalidPowerState{}).
func IsFault(err error, target types.BaseMethodFault) bool {
	return fault.Is(err, target)
}
