package executor

import (
	"context"
	"time"
)

// EventKind says what happened.
type EventKind string

// Event kinds, in the order a step meets them.
const (
	EventRunStarted    EventKind = "run_started"
	EventStepSkipped   EventKind = "step_skipped"   // already succeeded in an earlier run
	EventStepWaiting   EventKind = "step_waiting"   // waiting for its window or gate
	EventBudgetWaiting EventKind = "budget_waiting" // a request of the step waits for its subscription's write budget
	EventStepStarted   EventKind = "step_started"   // request sent, handle journaled
	EventStepAttached  EventKind = "step_attached"  // re-attached to an operation of an earlier run
	EventStepProgress  EventKind = "step_progress"  // percentage or message while waiting
	EventStepRetrying  EventKind = "step_retrying"  // transient failure, retrying
	EventStepSucceeded EventKind = "step_succeeded" // done
	EventStepFailed    EventKind = "step_failed"    // gave up; descendants are skipped
	EventRunFinished   EventKind = "run_finished"
)

// Event is one thing the executor reports. The engine never prints: cmd
// renders events as a live view, plain lines or JSON lines.
type Event struct {
	Time    time.Time `json:"time"`
	Kind    EventKind `json:"kind"`
	Step    string    `json:"step,omitempty"`
	VM      string    `json:"vm,omitempty"`
	Percent int       `json:"percent,omitempty"`
	Message string    `json:"message,omitempty"`
	// Window names the window a step waits for.
	Window   string        `json:"window,omitempty"`
	Attempt  int           `json:"attempt,omitempty"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
}

// Reporter receives events. Calls come from several goroutines; an
// implementation must be safe for concurrent use and must not block long.
type Reporter interface {
	Report(Event)
}

// ReporterFunc adapts a function to Reporter.
type ReporterFunc func(Event)

// Report calls f.
func (f ReporterFunc) Report(e Event) { f(e) }

// discard drops every event.
type discard struct{}

func (discard) Report(Event) {}

type stepReporterKey struct{}

// stepReporter is what the executor puts in the context of every Actions
// call of a step, so that what happens deep in a provider (a request
// waiting for its write budget) reaches the Reporter as an event of that
// step.
type stepReporter struct {
	e    *Executor
	step string
	vm   string
}

func (e *Executor) withStep(ctx context.Context, id, vm string) context.Context {
	return context.WithValue(ctx, stepReporterKey{}, stepReporter{e: e, step: id, vm: vm})
}

// Report sends ev to the Reporter of the executor whose Actions call ctx
// belongs to, as an event of that call's step (Step, VM and Time are
// filled in). Outside an executor's call it does nothing.
func Report(ctx context.Context, ev Event) {
	r, ok := ctx.Value(stepReporterKey{}).(stepReporter)
	if !ok {
		return
	}
	ev.Step, ev.VM = r.step, r.vm
	r.e.report(ev)
}
