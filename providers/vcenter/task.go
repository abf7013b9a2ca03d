package vcenter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/task"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// Op names a source-side operation. The values appear in handles, journals
// and messages, so they never change.
type Op string

const (
	OpRelocate       Op = "relocate"
	OpMigrate        Op = "migrate"
	OpClone          Op = "clone"
	OpDestroy        Op = "destroy"
	OpCustomizeGuest Op = "customize-guest"
	OpMakePrimary    Op = "make-primary"
	OpShutdownGuest  Op = "shutdown-guest"
	OpPowerOff       Op = "power-off"
	OpPowerOn        Op = "power-on"
	OpSnapshot       Op = "snapshot"
	OpRemoveSnapshot Op = "remove-snapshot"
)

// Handle identifies a started vCenter task. It is what the executor journals
// before waiting, so a restarted process re-attaches with Wait instead of
// starting the operation again.
type Handle struct {
	Task string `json:"task"` // Task moref value, e.g. "task-123"
	Op   Op     `json:"op"`
	VM   string `json:"vm"` // VirtualMachine moref value
}

func (h Handle) taskRef() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "Task", Value: h.Task}
}

// Progress is one observation of a running operation.
type Progress struct {
	Handle  Handle
	State   string // queued, running, success, error
	Percent int32
	// Retry is set when a transient fault is about to be retried.
	Retry *OpError
}

// Watch is how a caller follows an operation.
type Watch struct {
	// Before is called with the before-image before anything changes.
	Before func(Undo)
	// Started is called with each task handle as soon as the task exists,
	// before any waiting: journal it. A retried operation starts a new task.
	Started func(Handle)
	// Progress is called on each poll and before each retry.
	Progress func(Progress)
}

func (w Watch) started(h Handle) {
	if w.Started != nil {
		w.Started(h)
	}
}

func (w Watch) progress(p Progress) {
	if w.Progress != nil {
		w.Progress(p)
	}
}

// ErrTaskGone means vCenter no longer knows the task (it forgets finished
// tasks after a while): the outcome must be read from live state instead.
var ErrTaskGone = errors.New("task no longer known to vCenter")

// Wait waits for a started task, reporting progress, and returns its result
// (for clone and snapshot the new object's moref). A failed task is an
// *OpError. It reads task state by
// polling rather than through a property-collector filter, so it keeps
// working across a re-login and from a different process than the one that
// started the task.
func (c *Client) Wait(ctx context.Context, h Handle, progress func(Progress)) (types.AnyType, error) {
	pc := property.DefaultCollector(c.vim)
	// Poll quickly at first (most tasks are short) and back off to the
	// configured interval for long ones.
	interval := min(50*time.Millisecond, c.poll)
	failures := 0
	for {
		var t mo.Task
		err := pc.RetrieveOne(ctx, h.taskRef(), []string{"info"}, &t)
		if err != nil {
			if fault.Is(err, &types.ManagedObjectNotFound{}) {
				return nil, fmt.Errorf("vcenter %q: %s VM %s: %s: %w", c.name, h.Op, h.VM, h.Task, ErrTaskGone)
			}
			// A failed read says nothing about the task: keep following
			// the same task rather than let the caller start another.
			oe := classify(h.VM, h.Op, err)
			failures++
			if !oe.Transient || failures >= max(c.retry.Attempts, 1) {
				return nil, oe
			}
			if werr := c.retry.wait(ctx, failures-1); werr != nil {
				return nil, oe
			}
			continue
		}
		failures = 0
		info := t.Info
		if progress != nil {
			progress(Progress{Handle: h, State: string(info.State), Percent: info.Progress})
		}
		switch info.State {
		case types.TaskInfoStateSuccess:
			return info.Result, nil
		case types.TaskInfoStateError:
			if info.Error == nil {
				return nil, fmt.Errorf("task %s failed without a fault", h.Task)
			}
			return nil, classify(h.VM, h.Op, task.Error{LocalizedMethodFault: info.Error, Description: info.Description})
		}
		timer := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-timer.C:
		}
		interval = min(2*interval, c.poll)
	}
}

// run starts a task with start and waits for it, retrying transient faults
// (at start or in the task) with the client's backoff. Each started task is
// announced through w before waiting.
func (c *Client) run(ctx context.Context, vm VMRef, op Op, w Watch, start func() (types.ManagedObjectReference, error)) (types.AnyType, error) {
	return c.runUntil(ctx, vm, op, w, nil, start)
}

// runUntil is run for operations whose effect can be read back: before each
// retry, settled reports whether the earlier attempt took effect after all
// (a start call whose answer was lost), so the operation is not started
// twice.
func (c *Client) runUntil(ctx context.Context, vm VMRef, op Op, w Watch, settled func() (bool, error), start func() (types.ManagedObjectReference, error)) (types.AnyType, error) {
	var result types.AnyType
	attempt := 0
	err := c.retry.do(ctx, vm.String(), op, func(e *OpError, attempt int) {
		c.log.Warn("retrying transient vcenter fault", "vm", vm.String(), "op", string(op), "fault", e.Fault, "attempt", attempt)
		w.progress(Progress{Handle: Handle{Op: op, VM: vm.MoRef}, State: "retrying", Retry: e})
	}, func() error {
		attempt++
		if attempt > 1 && settled != nil {
			done, err := settled()
			if err != nil {
				return err
			}
			if done {
				return nil
			}
		}
		ref, err := start()
		if err != nil {
			return err
		}
		h := Handle{Task: ref.Value, Op: op, VM: vm.MoRef}
		w.started(h)
		result, err = c.Wait(ctx, h, w.Progress)
		return err
	})
	return result, err
}

// Resume re-attaches to an operation a previous process journaled (its
// Handle and the Undo handed to Watch.Before), waits for it, and returns
// the Undo completed with what the task produced: the snapshot or clone
// moref that the inverse needs.
func (c *Client) Resume(ctx context.Context, h Handle, u Undo, progress func(Progress)) (Undo, error) {
	res, err := c.Wait(ctx, h, progress)
	if err != nil {
		return u, err
	}
	if ref, ok := res.(types.ManagedObjectReference); ok {
		switch h.Op {
		case OpSnapshot:
			u.Snapshot = ref.Value
		case OpClone:
			u.Clone = &VMRef{MoRef: ref.Value}
		}
	}
	return u, nil
}
