package main

import (
	"time"

	"cutover/executor"
)

// applyEvent is one line of `apply --json`, the format docs/apply-events.md
// describes. It is the executor's event with durations in seconds and a
// percentage only where one is known.
type applyEvent struct {
	Time            time.Time `json:"time"`
	Kind            string    `json:"kind"`
	Step            string    `json:"step,omitempty"`
	VM              string    `json:"vm,omitempty"`
	Percent         *int      `json:"percent,omitempty"`
	Message         string    `json:"message,omitempty"`
	Window          string    `json:"window,omitempty"`
	Attempt         int       `json:"attempt,omitempty"`
	Error           string    `json:"error,omitempty"`
	DurationSeconds float64   `json:"duration_seconds,omitempty"`
}

func applyEventOf(e executor.Event) applyEvent {
	out := applyEvent{
		Time: e.Time.UTC(), Kind: string(e.Kind), Step: e.Step, VM: e.VM, Message: e.Message,
		Window: e.Window, Attempt: e.Attempt, Error: e.Error,
		DurationSeconds: e.Duration.Seconds(),
	}
	if e.Kind == executor.EventStepProgress && e.Percent >= 0 {
		p := e.Percent
		out.Percent = &p
	}
	return out
}
