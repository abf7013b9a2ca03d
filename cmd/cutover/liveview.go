package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"cutover/executor"
	"cutover/planner"
	"cutover/window"
)

// liveView is the terminal view of an apply: finished steps scroll up as
// lines, and a block at the bottom, redrawn in place, shows the steps
// running now with their progress, the elapsed time and each window's
// state.
type liveView struct {
	mu      sync.Mutex
	w       io.Writer
	now     func() time.Time
	began   time.Time
	windows []namedWindow
	running map[string]runningStep
	// budget holds, per step, until when its request is expected to wait
	// for its subscription's write budget.
	budget map[string]time.Time
	done   int
	total  int
	drawn  int // lines of the bottom block on screen
}

type namedWindow struct {
	name string
	w    *window.Window
}

type runningStep struct {
	since   time.Time
	percent int
	message string
}

func newLiveView(w io.Writer, p *planner.Plan, now func() time.Time) *liveView {
	v := &liveView{w: w, now: now, began: now(), running: map[string]runningStep{}, budget: map[string]time.Time{}, total: len(p.Steps)}
	for _, wi := range p.Windows {
		if pw, err := window.Parse(wi.Schedule, wi.Duration, wi.Timezone); err == nil {
			v.windows = append(v.windows, namedWindow{wi.Name, pw})
		}
	}
	return v
}

// Report implements executor.Reporter.
func (v *liveView) Report(e executor.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.clear()
	switch e.Kind {
	case executor.EventStepStarted, executor.EventStepAttached:
		delete(v.budget, e.Step)
		v.running[e.Step] = runningStep{since: v.now(), percent: -1}
	case executor.EventBudgetWaiting:
		// A wait for the budget is a state of the apply, not news: it
		// shows in the bottom block, counted, not as a line per request.
		v.budget[e.Step] = v.now().Add(e.Duration)
	case executor.EventStepProgress:
		r := v.running[e.Step]
		r.percent, r.message = e.Percent, e.Message
		v.running[e.Step] = r
	case executor.EventStepSucceeded:
		delete(v.running, e.Step)
		v.done++
		fmt.Fprintf(v.w, "  ✓ %s (%s)\n", e.Step, e.Duration.Round(time.Second))
	case executor.EventStepSkipped:
		v.done++
	case executor.EventStepFailed:
		delete(v.running, e.Step)
		delete(v.budget, e.Step)
		fmt.Fprintf(v.w, "  ✗ %s: %s\n", e.Step, e.Error)
	case executor.EventStepWaiting:
		fmt.Fprintf(v.w, "  … %s: %s\n", e.Step, e.Message)
	case executor.EventStepRetrying:
		fmt.Fprintf(v.w, "  ↻ %s: %s\n", e.Step, e.Error)
	case executor.EventRunFinished:
		fmt.Fprintf(v.w, "%s\n", e.Message)
		return
	}
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
	var lines []string
	lines = append(lines, fmt.Sprintf("── %d/%d steps done, %d running, %s elapsed", v.done, v.total, len(v.running), v.now().Sub(v.began).Round(time.Second)))
	ids := make([]string, 0, len(v.running))
	for id := range v.running {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := v.running[id]
		pct := "   "
		if r.percent >= 0 {
			pct = fmt.Sprintf("%3d%%", r.percent)
		}
		lines = append(lines, fmt.Sprintf("   %s %s %s %s", pct, id, v.now().Sub(r.since).Round(time.Second), r.message))
	}
	if n, until := v.budgetWaits(); n > 0 {
		lines = append(lines, fmt.Sprintf("   waiting for the Azure write budget: %d steps, the last for about %s", n, until.Sub(v.now()).Round(time.Second)))
	}
	for _, nw := range v.windows {
		st := nw.w.At(v.now())
		if st.Open {
			lines = append(lines, fmt.Sprintf("   window %s: open, %s left", nw.name, st.Left.Round(time.Minute)))
		} else {
			lines = append(lines, fmt.Sprintf("   window %s: closed, opens %s", nw.name, st.Next.Format(time.RFC3339)))
		}
	}
	fmt.Fprintln(v.w, strings.Join(lines, "\n"))
	v.drawn = len(lines)
}

// budgetWaits counts the steps waiting for a write budget now and says
// when the last of them is expected to go.
func (v *liveView) budgetWaits() (int, time.Time) {
	now := v.now()
	var last time.Time
	n := 0
	for id, until := range v.budget {
		if !until.After(now) {
			delete(v.budget, id)
			continue
		}
		n++
		if until.After(last) {
			last = until
		}
	}
	return n, last
}
