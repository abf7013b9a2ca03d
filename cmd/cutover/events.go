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

	// Checked and ToCheck count the VMs the staleness check passed and
	// the VMs it reads (kindStalenessChecked).
	Checked *int `json:"checked,omitempty"`
	ToCheck *int `json:"to_check,omitempty"`

	// The counts, ETA and windows of a progress event (kindProgress).
	Done       *int             `json:"done,omitempty"`
	Running    *int             `json:"running,omitempty"`
	Waiting    *int             `json:"waiting,omitempty"`
	WaitingFor map[string]int   `json:"waiting_for,omitempty"`
	Failed     *int             `json:"failed,omitempty"`
	Pending    *int             `json:"pending,omitempty"`
	ETA        string           `json:"eta,omitempty"`
	Windows    []progressWindow `json:"windows,omitempty"`
}

// kindProgress is the event apply --json adds to the executor's: the
// run's counts and ETA, at least every --progress-interval.
const kindProgress = "progress"

// kindStalenessChecked is the event apply --json adds when the staleness
// check passed another batch of VMs, and once when the whole plan passed.
const kindStalenessChecked = "staleness_checked"

// progressWindow is one window in a progress event. Times are RFC 3339 in
// UTC, like every time in the stream.
type progressWindow struct {
	Name          string `json:"name"`
	State         string `json:"state"`
	OpensAt       string `json:"opens_at,omitempty"`
	ClosesAt      string `json:"closes_at,omitempty"`
	DisruptiveETA string `json:"disruptive_eta,omitempty"`
}

// progressEventOf renders the model's snapshot as a progress event.
func progressEventOf(pr progress) applyEvent {
	n := func(i int) *int { return &i }
	ev := applyEvent{Time: pr.At.UTC(), Kind: kindProgress,
		Done: n(pr.Done), Running: n(pr.Running), Waiting: n(pr.Waiting), Failed: n(pr.Failed), Pending: n(pr.Pending),
		WaitingFor: pr.WaitingFor, ETA: rfc3339(pr.ETA)}
	for _, w := range pr.Windows {
		pw := progressWindow{Name: w.Name, State: "closed", OpensAt: rfc3339(w.OpensAt), ClosesAt: rfc3339(w.ClosesAt), DisruptiveETA: rfc3339(w.DisruptiveETA)}
		if w.Open {
			pw.State = "open"
		}
		ev.Windows = append(ev.Windows, pw)
	}
	return ev
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
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
