package window

import "time"

// chainHorizon bounds how far At follows openings that overlap or touch
// (for example an hourly schedule with a two-hour duration, which never
// closes). It is longer than MaxDuration so any single opening and any step
// that could fit in one are covered; a window that stays open longer than
// this reports the horizon as its end.
const chainHorizon = 8 * 24 * time.Hour

// maxFitSearch bounds NextFit when no opening is long enough.
const maxFitSearch = 1000

// State describes a window at one instant. Times are in the window's zone.
type State struct {
	// Open reports whether the window is open at the instant.
	Open bool
	// Start and End bound the current opening when Open (End exclusive).
	// Openings that overlap or touch count as one.
	Start, End time.Time
	// Left is the time from the instant until End when Open.
	Left time.Duration
	// Next is the start of the next opening: the one after the instant when
	// closed, the one after End when open. It is zero if the schedule does
	// not fire again within five years.
	Next time.Time
}

// At returns the window's state at t. Openings are half-open: the window is
// open at its start instant and closed at its end instant unless another
// opening starts then.
func (w *Window) At(t time.Time) State {
	// Cron only looks forward, so look for openings from t-duration: the
	// first one starting after that is the earliest that can still be
	// running at t.
	first := w.next(t.Add(-w.duration))
	if first.IsZero() {
		return State{}
	}
	if first.After(t) {
		return State{Next: first}
	}
	start := first
	for {
		// An earlier opening that reaches start joins this one.
		prev := w.atOrAfter(start.Add(-w.duration))
		if prev.IsZero() || !prev.Before(start) || t.Sub(prev) > chainHorizon {
			break
		}
		start = prev
	}
	last, end := first, first.Add(w.duration)
	var next time.Time
	for {
		f := w.next(last)
		if f.IsZero() {
			break
		}
		if f.After(end) || f.Sub(t) > chainHorizon {
			next = f
			break
		}
		last, end = f, f.Add(w.duration)
	}
	return State{
		Open:  true,
		Start: start,
		End:   end.In(w.loc),
		Left:  end.Sub(t),
		Next:  next,
	}
}

// Fits reports whether a step estimated to take estimate, started at t,
// ends while the window is still open (ending exactly at its close counts).
// A closed window fits nothing. A negative estimate counts as zero.
func (w *Window) Fits(t time.Time, estimate time.Duration) bool {
	s := w.At(t)
	return s.Open && !t.Add(max(estimate, 0)).After(s.End)
}

// NextFit returns the earliest instant at or after t at which a step
// estimated to take estimate fits: t itself if it fits now, else the start
// of the first later opening long enough. The executor uses it to decide how
// long to wait. It reports false if no opening within the next thousand is
// long enough, or the schedule stops firing.
func (w *Window) NextFit(t time.Time, estimate time.Duration) (time.Time, bool) {
	for range maxFitSearch {
		s := w.At(t)
		if s.Open && !t.Add(max(estimate, 0)).After(s.End) {
			return t.In(w.loc), true
		}
		if s.Next.IsZero() {
			return time.Time{}, false
		}
		t = s.Next
	}
	return time.Time{}, false
}

// String describes the state for messages, for example
// "open 2026-11-28 22:00 CST to 2026-11-29 04:00 CST, 6h left; next opens 2026-12-05 22:00 CST".
func (s State) String() string {
	const layout = "2006-01-02 15:04 MST"
	next := "never opens again"
	if !s.Next.IsZero() {
		next = "next opens " + s.Next.Format(layout)
	}
	if !s.Open {
		return "closed; " + next
	}
	return "open " + s.Start.Format(layout) + " to " + s.End.Format(layout) +
		", " + formatDuration(s.Left) + " left; " + next
}
