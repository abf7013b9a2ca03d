package main

import (
	"strings"
	"time"

	"cutover/executor"
	"cutover/planner"
	"cutover/window"
)

// runModel follows one run of a plan, from the executor's events (apply)
// or from the journal (status --watch), and answers what the operator asks
// during a night: how far, what now, what next, what broke, when done. The
// live view, the minute lines and --json progress all read it, so they
// never disagree.
type runModel struct {
	plan        *planner.Plan
	order       []string
	steps       map[string]*stepTrack
	windows     []modelWindow
	est         *estimator
	parallelism int
	// resume and rollback are the commands the failure panel offers.
	resume, rollback string
	// checked of toCheck VMs passed the staleness check so far;
	// checkDone once the whole plan passed (see startCheck).
	checked, toCheck int
	checkDone        bool
}

type phase int

const (
	phasePending phase = iota
	phaseRunning
	phaseWaiting
	phaseDone
	phaseFailed
)

// What a waiting step waits for.
const (
	waitGate   = "gate"
	waitWindow = "window"
	waitBudget = "write_budget"
)

type stepTrack struct {
	step     planner.Step
	phase    phase
	since    time.Time
	percent  int
	message  string
	waitFor  string
	err      string
	interrup bool
}

type modelWindow struct {
	name string
	w    *window.Window
}

func newRunModel(p *planner.Plan, parallelism int) *runModel {
	m := &runModel{plan: p, steps: map[string]*stepTrack{}, est: newEstimator(p), parallelism: max(parallelism, 1)}
	for _, s := range p.Steps {
		m.order = append(m.order, s.ID)
		m.steps[s.ID] = &stepTrack{step: s, percent: -1}
	}
	for _, wi := range p.Windows {
		if w, err := window.Parse(wi.Schedule, wi.Duration, wi.Timezone); err == nil {
			m.windows = append(m.windows, modelWindow{wi.Name, w})
		}
	}
	return m
}

// apply moves one step by one event; now is when the model saw it.
func (m *runModel) apply(e executor.Event, now time.Time) {
	t := m.steps[e.Step]
	if t == nil {
		return
	}
	switch e.Kind {
	case executor.EventStepSkipped:
		t.phase = phaseDone
	case executor.EventStepWaiting:
		t.phase, t.message, t.since = phaseWaiting, e.Message, now
		t.waitFor = waitKind(e)
	case executor.EventStepStarted, executor.EventStepAttached:
		t.phase, t.since, t.percent, t.message, t.interrup = phaseRunning, now, -1, "", false
	case executor.EventStepProgress:
		if t.phase != phaseRunning {
			t.phase, t.since = phaseRunning, now
		}
		t.percent, t.message = e.Percent, e.Message
	case executor.EventStepRetrying:
		t.message = "retrying: " + e.Error
	case executor.EventStepSucceeded:
		if t.phase == phaseRunning && e.Duration > 0 {
			m.est.observe(t.step, e.Duration)
		}
		t.phase = phaseDone
	case executor.EventStepFailed:
		t.phase, t.err = phaseFailed, e.Error
	case executor.EventStepInterrupted:
		t.phase, t.interrup, t.message = phasePending, true, e.Message
	default:
		if strings.Contains(string(e.Kind), "budget") {
			t.phase, t.waitFor, t.message, t.since = phaseWaiting, waitBudget, e.Message, now
		}
	}
}

// waitKind sorts a waiting step by what holds it: its window, its live
// gate or the subscription's write budget.
func waitKind(e executor.Event) string {
	switch {
	case e.Window != "":
		return waitWindow
	case strings.Contains(strings.ToLower(e.Message), "budget"), strings.Contains(strings.ToLower(e.Message), "throttl"):
		return waitBudget
	}
	return waitGate
}

// progress is the model at one instant.
type progress struct {
	At                                      time.Time
	Done, Running, Waiting, Failed, Pending int
	// Blocked counts the pending steps behind a failure, which this run
	// will not start.
	Blocked      int
	WaitingFor   map[string]int
	ETA          time.Time
	Windows      []windowProgress
	RunningSteps []*stepTrack
	Next         []string
	Failures     []*stepTrack
}

// windowProgress is one window's state and when its disruptive part ends.
type windowProgress struct {
	Name     string
	Open     bool
	OpensAt  time.Time // the next opening, when closed
	ClosesAt time.Time // the end of the current (or next) opening
	// DisruptiveETA is when the window's last disruptive step should end;
	// zero when none is left.
	DisruptiveETA time.Time
	Loc           *time.Location
}

func (m *runModel) snapshot(now time.Time) progress {
	pr := progress{At: now, WaitingFor: map[string]int{waitGate: 0, waitWindow: 0, waitBudget: 0}}
	for _, id := range m.order {
		t := m.steps[id]
		switch t.phase {
		case phaseDone:
			pr.Done++
		case phaseRunning:
			pr.Running++
			pr.RunningSteps = append(pr.RunningSteps, t)
		case phaseWaiting:
			pr.Waiting++
			pr.WaitingFor[t.waitFor]++
		case phaseFailed:
			pr.Failed++
			pr.Failures = append(pr.Failures, t)
		default:
			pr.Pending++
		}
	}
	finish := m.finishTimes(now)
	pr.Blocked = pr.Running + pr.Waiting + pr.Pending - len(finish)
	pr.ETA = now
	for _, f := range finish {
		if f.After(pr.ETA) {
			pr.ETA = f
		}
	}
	for _, mw := range m.windows {
		st := mw.w.At(now)
		wp := windowProgress{Name: mw.name, Open: st.Open, Loc: mw.w.Location()}
		if st.Open {
			wp.ClosesAt = st.End
		} else if !st.Next.IsZero() {
			wp.OpensAt = st.Next
			wp.ClosesAt = mw.w.At(st.Next).End
		}
		for id, f := range finish {
			s := m.steps[id].step
			if s.Disruptive && s.Window == mw.name && f.After(wp.DisruptiveETA) {
				wp.DisruptiveETA = f
			}
		}
		pr.Windows = append(pr.Windows, wp)
	}
	pr.Next = m.next(5)
	return pr
}

// finishTimes estimates when each unfinished step ends: a step starts when
// its dependencies have ended (and, if disruptive, when its window is
// open) and takes its corrected estimate, less what a running step has
// already spent. Parallelism is accounted for by spreading the remaining
// work: no step ends before now + remaining work / parallelism allows.
// Steps are in topological order in the plan, so one pass suffices.
func (m *runModel) finishTimes(now time.Time) map[string]time.Time {
	out := map[string]time.Time{}
	blocked := map[string]bool{}
	var work time.Duration
	for _, id := range m.order {
		t := m.steps[id]
		if t.phase == phaseDone {
			continue
		}
		if t.phase == phaseFailed {
			blocked[id] = true
			continue
		}
		held := false
		for _, d := range t.step.DependsOn {
			held = held || blocked[d]
		}
		if held {
			// Behind a failure: it will not run in this run.
			blocked[id] = true
			continue
		}
		rem := m.est.of(t.step)
		if t.phase == phaseRunning {
			rem -= now.Sub(t.since)
			if rem < 0 {
				rem = 0
			}
		}
		work += rem
		start := now
		for _, d := range t.step.DependsOn {
			if f, ok := out[d]; ok && f.After(start) {
				start = f
			}
		}
		if t.step.Disruptive && t.step.Window != "" {
			for _, mw := range m.windows {
				if mw.name == t.step.Window {
					if st := mw.w.At(start); !st.Open && !st.Next.IsZero() {
						start = st.Next
					}
				}
			}
		}
		out[id] = start.Add(rem)
	}
	floor := now.Add(work / time.Duration(m.parallelism))
	for id, f := range out {
		if m.steps[id].phase == phasePending && f.Before(floor) && len(out) > m.parallelism {
			// Only the last steps to end are pushed out by the work ahead
			// of them; lifting every pending step keeps the ETA honest.
			out[id] = floor
		}
	}
	return out
}

// next lists the steps to start next: pending steps whose dependencies are
// done, then those whose dependencies are done or running, in plan order.
func (m *runModel) next(n int) []string {
	var ready, soon []string
	for _, id := range m.order {
		t := m.steps[id]
		if t.phase != phasePending {
			continue
		}
		allDone, noneBlocked := true, true
		for _, d := range t.step.DependsOn {
			dt := m.steps[d]
			if dt == nil {
				continue
			}
			if dt.phase != phaseDone {
				allDone = false
			}
			if dt.phase == phasePending || dt.phase == phaseFailed || dt.phase == phaseWaiting {
				noneBlocked = false
			}
		}
		switch {
		case allDone:
			ready = append(ready, id)
		case noneBlocked:
			soon = append(soon, id)
		}
	}
	out := append(ready, soon...)
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// estimator is how long a step kind takes: a conservative base per kind,
// corrected by what this run has seen. It is the apply's own small model
// (the planner's timeline estimates can replace the base when they land):
// a kind with finished steps uses their mean, any other kind its base
// scaled by how fast finished steps ran against their estimates.
type estimator struct {
	base     map[planner.StepKind]time.Duration
	window   map[string]map[planner.StepKind]time.Duration
	seen     map[planner.StepKind][]time.Duration
	estSum   time.Duration
	obsSum   time.Duration
	fallback time.Duration
}

// baseEstimates are GUESSES of typical durations per kind on a real
// vCenter and vault, used until the run has measured its own; the executor's
// DefaultEstimates (disruptive kinds) and a window's estimates win.
var baseEstimates = map[planner.StepKind]time.Duration{
	planner.StepEnableReplication:  5 * time.Minute,
	planner.StepUpdateReplication:  3 * time.Minute,
	planner.StepWaitProtected:      60 * time.Minute,
	planner.StepTestFailover:       15 * time.Minute,
	planner.StepTestCleanup:        10 * time.Minute,
	planner.StepFailoverCancel:     15 * time.Minute,
	planner.StepCompleteMigration:  5 * time.Minute,
	planner.StepDisableReplication: 5 * time.Minute,
	planner.StepSnapshot:           2 * time.Minute,
	planner.StepRemoveSnapshot:     2 * time.Minute,
	planner.StepCloneRehearsal:     20 * time.Minute,
	planner.StepDestroyClone:       5 * time.Minute,
	planner.StepPowerOn:            2 * time.Minute,
	planner.StepMakeFTPrimary:      5 * time.Minute,
}

func newEstimator(p *planner.Plan) *estimator {
	e := &estimator{base: map[planner.StepKind]time.Duration{}, window: map[string]map[planner.StepKind]time.Duration{},
		seen: map[planner.StepKind][]time.Duration{}, fallback: 5 * time.Minute}
	for k, d := range baseEstimates {
		e.base[k] = d
	}
	for k, d := range executor.DefaultEstimates {
		e.base[k] = d
	}
	for _, wi := range p.Windows {
		for k, v := range wi.Estimates {
			if d, err := time.ParseDuration(v); err == nil {
				if e.window[wi.Name] == nil {
					e.window[wi.Name] = map[planner.StepKind]time.Duration{}
				}
				e.window[wi.Name][planner.StepKind(k)] = d
			}
		}
	}
	return e
}

func (e *estimator) baseOf(s planner.Step) time.Duration {
	if d, ok := e.window[s.Window][s.Kind]; ok {
		return d
	}
	if d, ok := e.base[s.Kind]; ok {
		return d
	}
	return e.fallback
}

func (e *estimator) observe(s planner.Step, d time.Duration) {
	e.seen[s.Kind] = append(e.seen[s.Kind], d)
	e.estSum += e.baseOf(s)
	e.obsSum += d
}

func (e *estimator) of(s planner.Step) time.Duration {
	if ds := e.seen[s.Kind]; len(ds) > 0 {
		var sum time.Duration
		for _, d := range ds {
			sum += d
		}
		return sum / time.Duration(len(ds))
	}
	b := e.baseOf(s)
	if e.estSum > 0 {
		return time.Duration(float64(b) * float64(e.obsSum) / float64(e.estSum))
	}
	return b
}

// sortedWaits lists the non-zero waiting reasons in a fixed order.
func sortedWaits(m map[string]int) []string {
	var out []string
	for _, k := range []string{waitGate, waitWindow, waitBudget} {
		if m[k] > 0 {
			out = append(out, k)
		}
	}
	return out
}
