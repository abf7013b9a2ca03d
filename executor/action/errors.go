package action

import (
	"context"
	"errors"
	"fmt"

	"cutover/executor"
	"cutover/planner"
	"cutover/providers/azure"
	"cutover/providers/vcenter"
)

// Error is a failed step: it names the VM address and the step kind and
// wraps the cause, so the provider's typed error (*azure.Error,
// *vcenter.OpError) stays reachable with errors.As.
type Error struct {
	VM   string
	Step planner.StepKind
	Err  error
}

var (
	_ error = (*Error)(nil)
	_ error = (*GateError)(nil)
)

// Error renders "<vm address>: <step kind>: <cause>".
func (e *Error) Error() string { return fmt.Sprintf("%s: %s: %v", e.VM, e.Step, e.Err) }

// Unwrap exposes the cause.
func (e *Error) Unwrap() error { return e.Err }

// GateError is a step refused before any request because its live gate
// does not hold. The gate may open later (a running job ends, RPO drops),
// so the executor may wait and ask Gate again.
type GateError struct {
	Gate   string
	Reason string
	// Final is set when the gate can never open by itself (the service
	// does not allow the operation and nothing runs that could change
	// that): the step fails at once instead of waiting for the timeout.
	Final bool
}

// Error says that nothing was sent, and why.
func (e *GateError) Error() string {
	never := ""
	if e.Final {
		never = " and cannot open"
	}
	if e.Gate == "" {
		return "refused before sending: " + e.Reason
	}
	return fmt.Sprintf("refused before sending: gate %q does not hold%s: %s", e.Gate, never, e.Reason)
}

// Is makes a GateError match executor.ErrGateClosed, so that the executor
// waits for the gate instead of failing the step.
func (e *GateError) Is(target error) bool { return target == executor.ErrGateClosed && !e.Final }

// ErrOutcomeUnknown means an operation's handle can no longer be followed
// (vCenter forgot the task) and live state does not show its effect: the
// executor should decide from Done whether to start the step again.
var ErrOutcomeUnknown = errors.New("the operation's outcome is unknown")

// Transient reports whether retrying the step later may succeed:
// throttling, server errors and busy objects. A closed gate is not
// transient (ask Gate again instead), nor is a cancelled context, nor
// ErrOutcomeUnknown (ask Done instead).
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ge *GateError
	if errors.As(err, &ge) {
		return false
	}
	var ae *azure.Error
	if errors.As(err, &ae) {
		return ae.Retryable()
	}
	var oe *vcenter.OpError
	if errors.As(err, &oe) {
		return oe.Transient
	}
	return false
}

// GateClosed reports whether err is a refusal because the step's gate did
// not hold, locally (GateError) or as ASR's own refusal (OperationNotAllowed).
func GateClosed(err error) bool {
	var ge *GateError
	if errors.As(err, &ge) {
		return true
	}
	return azure.KindOf(err) == azure.KindNotAllowed
}

// wrap names the step in err, once.
func wrap(step planner.Step, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{VM: step.VM, Step: step.Kind, Err: err}
}
