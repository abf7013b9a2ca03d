package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"cutover/executor/journal"
	"cutover/planner"
	"cutover/planner/dag"
)

// stepState is what the journal says about one step of this plan.
type stepState struct {
	last    journal.Kind
	handle  json.RawMessage
	attempt int
}

// fold replays the records of one plan into per-step states.
func fold(records []journal.Record, planID string) map[string]*stepState {
	out := map[string]*stepState{}
	for _, r := range records {
		if r.PlanID != planID || r.StepID == "" {
			continue
		}
		st := out[r.StepID]
		if st == nil {
			st = &stepState{}
			out[r.StepID] = st
		}
		if r.Kind == journal.BeforeImage {
			continue
		}
		st.last = r.Kind
		if r.Attempt > st.attempt {
			st.attempt = r.Attempt
		}
		switch r.Kind {
		case journal.StepStarted:
			st.handle = r.Handle
		case journal.StepPending:
			st.handle = nil
		}
	}
	return out
}

func (e *Executor) stateOf(id string) stepState {
	e.mu.Lock()
	defer e.mu.Unlock()
	if st := e.state[id]; st != nil {
		return *st
	}
	return stepState{}
}

// runStep takes one step from wherever the journal left it to success or
// failure. Every transition is journaled before the next remote call.
func (e *Executor) runStep(ctx context.Context, id string) error {
	step := e.steps[id]
	ctx = e.withStep(ctx, id, step.VM)
	prev := e.stateOf(id)
	attempt := prev.attempt
	if err := e.admit(ctx, step); err != nil {
		if !errors.Is(err, errNotAdmitted) && ctx.Err() != nil {
			return e.interrupted(step, attempt, false)
		}
		return err
	}

	switch prev.last {
	case journal.StepStarted:
		// In flight when the last run stopped: re-attach, never resend.
		if ctx.Err() != nil {
			return e.interrupted(step, attempt, true)
		}
		e.report(Event{Kind: EventStepAttached, Step: id, VM: step.VM, Attempt: attempt})
		if waitsOnService(step.Kind) {
			dag.Release(ctx)
		}
		return e.finish(ctx, step, attempt, prev.handle, time.Now())
	case journal.StepPending, journal.StepUnknown, journal.StepFailed:
		// The request may or may not have gone out (a failure can be a
		// lost response to an accepted request): live state decides. A
		// request of a run that died may still be on its way, so give it
		// time to land before reading.
		if prev.last != journal.StepFailed {
			select {
			case <-ctx.Done():
				return e.interrupted(step, attempt, false)
			case <-e.cfg.Clock.After(e.cfg.SettleDelay):
			}
		}
		done, err := e.cfg.Actions.Done(ctx, step)
		if err != nil {
			if ctx.Err() != nil {
				return e.interrupted(step, attempt, false)
			}
			return e.fail(ctx, step, attempt, fmt.Errorf("deciding the outcome of an interrupted attempt: %w", err))
		}
		if done {
			return e.succeed(ctx, step, attempt, "the interrupted attempt took effect")
		}
	}

	if step.Disruptive {
		if err := e.awaitWindow(ctx, step); err != nil {
			if ctx.Err() != nil {
				return e.interrupted(step, attempt, false)
			}
			return err
		}
	}
	release, err := e.acquire(ctx, step)
	if err != nil {
		return e.interrupted(step, attempt, false)
	}
	defer func() { release() }()

	// Start reads the step's gate itself and sends nothing when it is
	// closed, so the gate is read once per step when it holds. Only a
	// refusal makes the step wait on Gate, without its connection slot,
	// and only the first: a second refusal after the gate was seen open
	// fails the step, as a gate that flaps or a refusal Gate does not see
	// would otherwise never end.
	waitedForGate := false
	backoff := e.cfg.Backoff
	for try := 0; ; try++ {
		// The first interrupt lets nothing new start: a step that has
		// not sent its request yet stops here.
		if ctx.Err() != nil {
			return e.interrupted(step, attempt, false)
		}
		attempt++
		if err := e.append(ctx, journal.Record{Kind: journal.StepPending, StepID: id, Attempt: attempt}); err != nil {
			if ctx.Err() != nil {
				return e.interrupted(step, attempt, false)
			}
			return err
		}
		began := time.Now()
		// Sent under the run's own context: the first interrupt lets a
		// request under way finish, so its handle is journaled.
		started, err := e.cfg.Actions.Start(e.sendCtx(ctx), step)
		if errors.Is(err, ErrGateClosed) && !waitedForGate {
			// Nothing was sent: the pending record stays, and a run that
			// dies here decides from live state as for any pending step.
			waitedForGate = true
			try--
			release()
			release = func() {}
			if err := e.awaitGate(ctx, step); err != nil {
				if ctx.Err() != nil {
					return e.interrupted(step, attempt, false)
				}
				return e.fail(ctx, step, attempt, err)
			}
			if release, err = e.acquire(ctx, step); err != nil {
				release = func() {}
				return e.interrupted(step, attempt, false)
			}
			continue
		}
		if err == nil {
			// The request is out: record it even if the run is being
			// cancelled, so the next run re-attaches instead of resending.
			// The before-image rides on the same record: one durable write
			// per start, not two.
			rec := context.WithoutCancel(ctx)
			if err := e.append(rec, journal.Record{Kind: journal.StepStarted, StepID: id, Attempt: attempt, Handle: started.Handle, BeforeImage: started.Before}); err != nil {
				return err
			}
			e.report(Event{Kind: EventStepStarted, Step: id, VM: step.VM, Attempt: attempt})
			if waitsOnService(step.Kind) {
				// What follows is the service's own work: it holds
				// neither a worker nor a connection slot.
				release()
				release = func() {}
				dag.Release(ctx)
			}
			return e.finish(ctx, step, attempt, started.Handle, began)
		}
		// A failed send may have been accepted all the same (its response
		// was lost): if live state shows the effect, the step is done and
		// must not be sent again.
		if e.sendCtx(ctx).Err() != nil {
			// The second interrupt tore the request: its outcome is
			// unknown, the pending record stays, and the next run decides
			// from live state.
			return e.interrupted(step, attempt, false)
		}
		if done, derr := e.cfg.Actions.Done(ctx, step); derr == nil && done {
			return e.succeed(ctx, step, attempt, "the request took effect although its response was lost")
		}
		if e.cfg.Actions.Transient(err) && ctx.Err() != nil {
			// Interrupted before a retry: nothing took effect.
			return e.interrupted(step, attempt, false)
		}
		if !e.cfg.Actions.Transient(err) || try >= e.cfg.Retries || ctx.Err() != nil {
			return e.fail(ctx, step, attempt, err)
		}
		if jerr := e.append(ctx, journal.Record{Kind: journal.StepFailed, StepID: id, Attempt: attempt, Error: err.Error()}); jerr != nil {
			return jerr
		}
		e.report(Event{Kind: EventStepRetrying, Step: id, VM: step.VM, Attempt: attempt, Error: err.Error()})
		if err := e.sleep(ctx, backoff); err != nil {
			if ctx.Err() != nil {
				return e.interrupted(step, attempt, false)
			}
			return err
		}
		backoff *= 2
	}
}

// acquire takes a slot of the step's connection, if it is limited.
func (e *Executor) acquire(ctx context.Context, step planner.Step) (func(), error) {
	if e.cfg.ConnectionOf == nil {
		return func() {}, nil
	}
	slots := e.limits[e.cfg.ConnectionOf(step)]
	if slots == nil {
		return func() {}, nil
	}
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// finish waits for a started operation and journals its outcome.
func (e *Executor) finish(ctx context.Context, step planner.Step, attempt int, handle json.RawMessage, began time.Time) error {
	err := e.cfg.Actions.Wait(ctx, step, handle, func(pct int, msg string) {
		e.report(Event{Kind: EventStepProgress, Step: step.ID, VM: step.VM, Percent: pct, Message: msg})
	})
	if err != nil {
		if ctx.Err() != nil {
			// Interrupted while waiting: the operation runs on; the next
			// run re-attaches through the journaled handle.
			return e.interrupted(step, attempt, len(handle) > 0)
		}
		if done, derr := e.cfg.Actions.Done(ctx, step); derr == nil && done {
			return e.succeed(ctx, step, attempt, "")
		}
		return e.fail(ctx, step, attempt, err)
	}
	return e.succeedAfter(ctx, step, attempt, "", time.Since(began))
}

func (e *Executor) succeed(ctx context.Context, step planner.Step, attempt int, msg string) error {
	return e.succeedAfter(ctx, step, attempt, msg, 0)
}

func (e *Executor) succeedAfter(ctx context.Context, step planner.Step, attempt int, msg string, d time.Duration) error {
	// A success seen is journaled even while the run is being
	// interrupted: the next run must not redo it.
	if err := e.append(context.WithoutCancel(ctx), journal.Record{Kind: journal.StepSucceeded, StepID: step.ID, Attempt: attempt}); err != nil {
		return err
	}
	e.report(Event{Kind: EventStepSucceeded, Step: step.ID, VM: step.VM, Message: msg, Duration: d})
	return nil
}

func (e *Executor) fail(ctx context.Context, step planner.Step, attempt int, cause error) error {
	err := cause
	if !strings.HasPrefix(cause.Error(), step.VM+": ") {
		err = fmt.Errorf("%s: %s: %w", step.VM, step.Kind, cause)
	}
	if jerr := e.append(context.WithoutCancel(ctx), journal.Record{Kind: journal.StepFailed, StepID: step.ID, Attempt: attempt, Error: cause.Error()}); jerr != nil {
		return errors.Join(err, jerr)
	}
	e.report(Event{Kind: EventStepFailed, Step: step.ID, VM: step.VM, Error: err.Error()})
	return err
}

// awaitGate polls the step's live gate until it holds or GateTimeout ends.
func (e *Executor) awaitGate(ctx context.Context, step planner.Step) error {
	deadline := e.cfg.Clock.Now().Add(e.cfg.GateTimeout)
	for {
		ok, reason, err := e.cfg.Actions.Gate(ctx, step)
		if err != nil && !e.cfg.Actions.Transient(err) {
			return fmt.Errorf("reading its gate: %w", err)
		}
		if ok {
			return nil
		}
		if !e.cfg.Clock.Now().Before(deadline) {
			return fmt.Errorf("its gate did not open within %s: %s", e.cfg.GateTimeout, reason)
		}
		e.report(Event{Kind: EventStepWaiting, Step: step.ID, VM: step.VM, Message: "gate: " + reason})
		if err := e.sleep(ctx, e.cfg.GatePoll); err != nil {
			return err
		}
	}
}

// awaitWindow lets a disruptive step start only inside its window and only
// if its estimated duration fits in what is left of it. Outside, it either
// waits for the next fitting opening or leaves the step pending.
func (e *Executor) awaitWindow(ctx context.Context, step planner.Step) error {
	if step.Window == "" {
		return nil
	}
	w := e.windows[step.Window]
	if w == nil {
		return fmt.Errorf("%s: window %q is not in the plan", step.ID, step.Window)
	}
	est := e.cfg.Estimates[step.Kind]
	if d, ok := e.estimates[step.Window][step.Kind]; ok {
		est = d
	}
	for {
		now := e.cfg.Clock.Now()
		if w.At(now).Open && w.Fits(now, est) {
			return nil
		}
		next, ok := w.NextFit(now, est)
		msg := fmt.Sprintf("window %q is closed or too short for an estimated %s; next fitting start %s", step.Window, est, next.Format(time.RFC3339))
		if !ok {
			msg = fmt.Sprintf("window %q never opens long enough for an estimated %s", step.Window, est)
		}
		e.report(Event{Kind: EventStepWaiting, Step: step.ID, VM: step.VM, Window: step.Window, Message: msg})
		if !e.cfg.WaitForWindow || !ok {
			return fmt.Errorf("%s: %w", msg, errOutsideWindow)
		}
		if err := e.sleep(ctx, next.Sub(now)); err != nil {
			return err
		}
	}
}

// admit waits for Config.Admit to let the step start, holding no worker
// meanwhile: the steps of VMs already checked go ahead of those still
// waiting, whatever their order in the walk.
func (e *Executor) admit(ctx context.Context, step planner.Step) error {
	if e.cfg.Admit == nil {
		return nil
	}
	dag.Release(ctx)
	err := e.cfg.Admit(ctx, step)
	aerr := dag.Acquire(ctx)
	switch {
	case err == nil:
		return aerr
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		// Interrupted while held: nothing was started.
		return err
	}
	// Refused, whether or not the run is stopping as well: never started.
	return fmt.Errorf("%s: %w: %w", step.ID, errNotAdmitted, err)
}

// sendCtx is the context requests are sent under: Run's own, which only
// the second interrupt cancels. Outside Run (tests calling runStep) it is
// the step's context. Either way it carries the step's values (its
// reporter, its worker slot), so that a provider's news during the send,
// such as a wait for the write budget, is still an event of the step.
func (e *Executor) sendCtx(ctx context.Context) context.Context {
	if e.hard != nil {
		return hardContext{Context: e.hard, values: ctx}
	}
	return ctx
}

// hardContext ends with Run's context but answers Value from the step's.
type hardContext struct {
	context.Context
	values context.Context
}

func (c hardContext) Value(key any) any { return c.values.Value(key) }

// waitsOnService reports whether a step kind only waits for what the
// service does on its own (initial replication): such a step holds no
// worker while it waits, so a wave of them does not keep the next VMs from
// being enabled.
func waitsOnService(k planner.StepKind) bool {
	return k == planner.StepWaitProtected
}

// sleep waits on the executor's clock without holding a worker: the step's
// slot among --parallelism is given to another step and taken back (after
// steps already waiting for one) when the time is up.
func (e *Executor) sleep(ctx context.Context, d time.Duration) error {
	dag.Release(ctx)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-e.cfg.Clock.After(d):
	}
	return dag.Acquire(ctx)
}
