package executor

import (
	"context"
	"errors"
	"fmt"

	"cutover/planner"
)

// EventStepInterrupted says a step stopped because the run was asked to
// stop: its remote operation (if one was sent) runs on and the next run
// re-attaches to it; a local wait (window, gate, backoff) simply ended.
// It is never a failure.
const EventStepInterrupted EventKind = "step_interrupted"

// errInterrupted marks a step that stopped at a safe point because the run
// was interrupted; Run counts such steps as interrupted, never as failed.
var errInterrupted = errors.New("interrupted")

// interrupted reports a step that stopped at a safe point and returns the
// error that tells Run so. remote says whether an operation was sent and
// left running.
func (e *Executor) interrupted(step planner.Step, attempt int, remote bool) error {
	msg := "stopped waiting; the next run starts it again after reading live state"
	if remote {
		msg = fmt.Sprintf("left running in %s; the next run re-attaches to it", serviceOf(step))
	}
	e.report(Event{Kind: EventStepInterrupted, Step: step.ID, VM: step.VM, Attempt: attempt, Message: msg})
	return fmt.Errorf("%s: %w", step.ID, errInterrupted)
}

// serviceOf names the service that runs a step's operation, for people.
func serviceOf(step planner.Step) string {
	if step.Kind.Provider() == "azure" {
		return "Azure Site Recovery"
	}
	return "vCenter"
}

// softStop derives the context the walk and the local waits use: it ends
// on the first interrupt (Config.Stop) as well as with ctx. Requests being
// sent use ctx itself, so that the first interrupt never tears a request
// whose answer would be lost; ctx ending is the second interrupt.
func softStop(ctx context.Context, stop <-chan struct{}) (context.Context, context.CancelFunc) {
	soft, cancel := context.WithCancel(ctx)
	if stop != nil {
		go func() {
			select {
			case <-stop:
				cancel()
			case <-soft.Done():
			}
		}()
	}
	return soft, cancel
}
