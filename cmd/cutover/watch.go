package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"cutover/executor"
	"cutover/executor/journal"
	"cutover/planner"
	"cutover/planner/planfile"
	"cutover/schema"
)

// watchPlanPath is where apply FILE keeps a copy of the plan it applies,
// for status --watch in another process; apply DIR's kept plan
// (runPlanPath) serves the same purpose. Either is removed when the plan
// is done.
func watchPlanPath(rb *schema.Runbook, digest string) string {
	return filepath.Join(rb.Dir, journal.DefaultDir, "plans", "watch-"+digest+".plan")
}

// runningApply describes the operation holding the state lock, from the
// lock and the journal: what status shows while an apply runs.
type runningApply struct {
	lock journal.LockInfo
	plan *planner.Plan // nil when no copy of the plan is kept here
	// planID and started are the journal's last run.
	planID  string
	started time.Time
	records []journal.Record
}

// readRunningApply returns the operation holding the lock, or nil.
func readRunningApply(ctx context.Context, store journal.Store, rb *schema.Runbook) (*runningApply, error) {
	held, err := store.CurrentLock(ctx)
	if err != nil || held == nil {
		return nil, err
	}
	ra := &runningApply{lock: *held}
	rep, err := store.Replay(ctx)
	if err != nil {
		return nil, err
	}
	ra.records = rep.Records
	for _, r := range rep.Records {
		if r.Kind == journal.RunStarted {
			ra.planID, ra.started = r.PlanID, r.Time
		}
	}
	if ra.planID != "" {
		for _, path := range []string{runPlanPath(rb, ra.planID), watchPlanPath(rb, ra.planID)} {
			if p, digest, err := planfile.Load(path); err == nil && digest == ra.planID {
				ra.plan = p
				break
			}
		}
	}
	return ra, nil
}

// model folds the journal into the run model: a step's last record says
// where it is. The journal records no waits, so a step waiting for its
// gate or window shows as running (after its pending record) or pending.
func (ra *runningApply) model() *runModel {
	m := newRunModel(ra.plan, 10)
	began := map[string]time.Time{}
	for _, r := range ra.records {
		if r.PlanID != ra.planID || r.StepID == "" {
			continue
		}
		t := ra.clock(r.Time)
		switch r.Kind {
		case journal.StepPending, journal.StepStarted:
			if _, ok := began[r.StepID]; !ok || r.Kind == journal.StepPending {
				began[r.StepID] = t
			}
			m.apply(executor.Event{Kind: executor.EventStepStarted, Step: r.StepID}, t)
		case journal.StepSucceeded:
			d := time.Duration(0)
			if b, ok := began[r.StepID]; ok {
				d = t.Sub(b)
			}
			m.apply(executor.Event{Kind: executor.EventStepSucceeded, Step: r.StepID, Duration: d}, t)
		case journal.StepFailed:
			m.apply(executor.Event{Kind: executor.EventStepFailed, Step: r.StepID, Error: r.Error}, t)
		}
	}
	return m
}

// clock maps a wall-clock time to the apply's clock: a --sim apply runs on
// simulated time that starts when its window opens (see newSimClock), so
// its windows are open on the watcher's screen as on the applier's.
func (ra *runningApply) clock(t time.Time) time.Time {
	if ra.plan == nil || !ra.plan.Simulated {
		return t
	}
	c, _ := newSimClock(ra.plan, ra.lock.Created)
	return c.start.Add(t.Sub(c.wall))
}

// summary is the line status prints about a running apply.
func (ra *runningApply) summary(dir string) string {
	h := ra.lock
	s := fmt.Sprintf("An %s is running: started by %s on %s (pid %d) at %s", orDash(h.Operation), orDash(h.Who), orDash(h.Host), h.PID,
		h.Created.UTC().Format(time.RFC3339))
	if ra.plan != nil {
		pr := ra.model().snapshot(ra.clock(time.Now()))
		s += fmt.Sprintf("; %d of %d steps done, %d running, %d failed", pr.Done, len(ra.plan.Steps), pr.Running, pr.Failed)
	}
	if hint := journal.StaleHint(h); hint != "" {
		return s + fmt.Sprintf(".\nIt looks abandoned: %s; the next apply takes its lock over.", hint)
	}
	return s + fmt.Sprintf(".\nFollow it with: cutover status --watch %s", shellQuote(dir))
}

// watchApply redraws the run another process applies until it releases
// the state lock: the live view on a terminal, a progress line every
// interval otherwise.
func watchApply(ctx context.Context, out io.Writer, rb *schema.Runbook, store journal.Store, tty bool, every time.Duration) error {
	var (
		view  *liveView
		first = true
	)
	for {
		ra, err := readRunningApply(ctx, store, rb)
		if err != nil {
			return err
		}
		if ra == nil {
			if first {
				fmt.Fprintf(out, "No apply is running on %s.\n", rb.Dir)
			} else {
				fmt.Fprintln(out, "The apply has ended (its lock is released); cutover status shows where each VM is.")
			}
			return nil
		}
		if ra.plan == nil {
			fmt.Fprintln(out, ra.summary(rb.Dir))
			return errors.New("the plan being applied is not kept in this directory, so its progress cannot be shown here")
		}
		m := ra.model()
		now := ra.clock(time.Now())
		if first {
			fmt.Fprintf(out, "Watching the %s of %s started by %s on %s (pid %d); Ctrl-C stops watching, not the apply.\n",
				orDash(ra.lock.Operation), rb.Dir, orDash(ra.lock.Who), orDash(ra.lock.Host), ra.lock.PID)
		}
		if tty {
			if view == nil {
				view = newLiveView(out, m, func() time.Time { return ra.clock(time.Now()) })
				view.began = ra.clock(ra.started)
			}
			view.m = m
			view.now = func() time.Time { return ra.clock(time.Now()) }
			view.redraw()
		} else {
			fmt.Fprintln(out, progressLine(m.snapshot(now)))
		}
		first = false
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every):
		}
	}
}

// keepWatchPlan keeps a copy of a plan applied from a file for watchers.
func keepWatchPlan(rb *schema.Runbook, p *planner.Plan, digest string) error {
	path := watchPlanPath(rb, digest)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return planfile.Save(path, p)
}
