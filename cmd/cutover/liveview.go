package main

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"cutover/executor"
)

// viewWidth is the width the live view fits: a default terminal.
const viewWidth = 80

// liveView is the terminal view of an apply: finished, failed and waiting
// steps scroll up as lines, and a block at the bottom, redrawn in place,
// answers the night's questions: the window and when it closes (in its own
// zone), the counts, the ETA of the run and of each window's disruptive
// part, the running steps against their estimates, what starts next and a
// panel of failures with the commands that resume or roll back. Callers
// serialise calls (modelReporter holds its lock).
type liveView struct {
	w     io.Writer
	m     *runModel
	now   func() time.Time
	began time.Time
	drawn int // lines of the bottom block on screen
}

func newLiveView(w io.Writer, m *runModel, now func() time.Time) *liveView {
	return &liveView{w: w, m: m, now: now, began: now()}
}

// event prints what scrolls for e and redraws the block. The model has
// already taken e in.
func (v *liveView) event(e executor.Event) {
	v.clear()
	switch e.Kind {
	case executor.EventStepSucceeded:
		fmt.Fprintln(v.w, fit(fmt.Sprintf("  ✓ %s (%s)", e.Step, e.Duration.Round(time.Second))))
	case executor.EventStepFailed:
		fmt.Fprintln(v.w, fit(fmt.Sprintf("  ✗ %s failed", e.Step)))
	case executor.EventStepWaiting:
		fmt.Fprintln(v.w, fit(fmt.Sprintf("  … %s: %s", e.Step, e.Message)))
	case executor.EventStepRetrying:
		fmt.Fprintln(v.w, fit(fmt.Sprintf("  ↻ %s: %s", e.Step, e.Error)))
	case executor.EventStepInterrupted:
		fmt.Fprintln(v.w, fit(fmt.Sprintf("  ⏸ %s: %s", e.Step, e.Message)))
	case executor.EventRunFinished:
		// The summary follows; the final block stays for the record.
		v.draw()
		return
	}
	v.draw()
}

// redraw refreshes the block so elapsed times and ETAs move.
func (v *liveView) redraw() {
	v.clear()
	v.draw()
}

// clear erases the bottom block so lines can be printed above it.
func (v *liveView) clear() {
	if v.drawn > 0 {
		fmt.Fprintf(v.w, "\x1b[%dF\x1b[J", v.drawn)
		v.drawn = 0
	}
}

func (v *liveView) draw() {
	lines := renderBlock(v.m, v.m.snapshot(v.now()), v.began)
	fmt.Fprintln(v.w, strings.Join(lines, "\n"))
	v.drawn = len(lines)
}

// renderBlock lays out the model at one instant in lines of at most
// viewWidth columns. status --watch draws the same block from the journal.
func renderBlock(m *runModel, pr progress, began time.Time) []string {
	var lines []string
	add := func(format string, a ...any) { lines = append(lines, fit(fmt.Sprintf(format, a...))) }

	add("── %s: %d/%d done · %s elapsed", m.plan.Runbook, pr.Done, len(m.order), pr.At.Sub(began).Round(time.Second))
	waits := ""
	if pr.Waiting > 0 {
		var parts []string
		for _, k := range sortedWaits(pr.WaitingFor) {
			parts = append(parts, fmt.Sprintf("%s %d", waitLabel(k), pr.WaitingFor[k]))
		}
		waits = " (" + strings.Join(parts, ", ") + ")"
	}
	blocked := ""
	if pr.Blocked > 0 {
		blocked = fmt.Sprintf(" (%d behind a failure)", pr.Blocked)
	}
	add("   %d running · %d waiting%s · %d failed · %d pending%s", pr.Running, pr.Waiting, waits, pr.Failed, pr.Pending, blocked)
	if m.toCheck > 0 && !m.checkDone {
		add("   checked %d/%d VMs against the plan; disruptive steps wait for all", m.checked, m.toCheck)
	}
	if pr.Running+pr.Waiting+pr.Pending > pr.Blocked {
		add("   ETA %s (in %s)", etaStamp(pr.ETA, pr.At), roundETA(pr.ETA.Sub(pr.At)))
	}
	for _, w := range pr.Windows {
		if w.Open {
			add("   window %s: open, closes %s", w.Name, zoneStamp(w.ClosesAt, w.Loc))
		} else if !w.OpensAt.IsZero() {
			add("   window %s: closed, opens %s", w.Name, zoneStamp(w.OpensAt, w.Loc))
		}
		if !w.DisruptiveETA.IsZero() {
			add("     disruptive steps done by %s", zoneStamp(w.DisruptiveETA, w.Loc))
		}
	}
	if len(pr.RunningSteps) > 0 {
		add("   running:")
		for i, t := range pr.RunningSteps {
			if i == 6 {
				add("     … and %d more", len(pr.RunningSteps)-i)
				break
			}
			pct := "    "
			if t.percent >= 0 {
				pct = fmt.Sprintf("%3d%%", t.percent)
			}
			add("   %s %s %s of ~%s %s", pct, t.step.ID, pr.At.Sub(t.since).Round(time.Second), roundETA(m.est.of(t.step)), t.message)
		}
	}
	if len(pr.Next) > 0 {
		add("   next: %s", strings.Join(pr.Next, ", "))
	}
	for i, t := range pr.Failures {
		if i == 3 {
			add("   … and %d more failed; see the summary when the run ends", len(pr.Failures)-i)
			break
		}
		add("   FAILED %s %s", t.step.VM, t.step.Kind)
		for _, l := range wrap(serviceMessage(t), viewWidth-7, 3) {
			add("       %s", l)
		}
	}
	if len(pr.Failures) > 0 {
		// Commands are never cut: a person copies them. One longer than
		// the terminal wraps there rather than losing its end.
		if m.resume != "" {
			lines = append(lines, "   resume:    "+m.resume)
		}
		if m.rollback != "" {
			lines = append(lines, "   roll back: "+m.rollback)
		}
	}
	return lines
}

// serviceMessage is a failure's text without the "VM: step:" prefix the
// panel already shows.
func serviceMessage(t *stepTrack) string {
	msg := strings.TrimPrefix(safeText(t.err), t.step.VM+": ")
	return strings.TrimPrefix(msg, string(t.step.Kind)+": ")
}

// roundETA shows an estimate as people say it: "45s", "12m", "1h40m".
func roundETA(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Minute:
		return d.Round(time.Second).String()
	}
	s := d.Round(time.Minute).String()
	return strings.TrimSuffix(s, "0s")
}

// fit cuts a line to viewWidth columns (runes: the view's symbols are one
// column wide).
func fit(s string) string {
	if utf8.RuneCountInString(s) <= viewWidth {
		return s
	}
	r := []rune(s)
	return string(r[:viewWidth-1]) + "…"
}

// wrap breaks s into at most n lines of width runes, at spaces when it can.
func wrap(s string, width, n int) []string {
	var out []string
	words := strings.Fields(s)
	line := ""
	for _, w := range words {
		switch {
		case line == "":
			line = w
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) <= width:
			line += " " + w
		default:
			out = append(out, line)
			line = w
		}
	}
	if line != "" {
		out = append(out, line)
	}
	if len(out) > n {
		out = out[:n]
		out[n-1] = fit(out[n-1] + " …")
	}
	return out
}
