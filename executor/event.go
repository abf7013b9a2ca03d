package executor

import (
	"time"
)

// EventKind says what happened.
type EventKind string

// Event kinds, in the order a step meets them.
const (
	EventRunStarted    EventKind = "run_started"
	EventStepSkipped   EventKind = "step_skipped"   // already succeeded in an earlier run
	EventStepWaiting   EventKind = "step_waiting"   // waiting for its window or gate
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
