package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"cutover/executor/journal"
	"cutover/planner"
	"cutover/planner/planfile"
	"cutover/schema"
)

// apply DIR plans, asks and applies. To resume that same plan after an
// interrupt (rather than plan afresh, which would forget the journal's
// run), it keeps the plan it applies under DIR/.cutover/plans, named by
// its digest, and removes it once every step is done. The plan holds no
// secrets, as any plan file. It is kept beside the runbook even with a
// shared state backend: the journal says which plan ran, and a runner
// without the file plans afresh as before.

func runPlanPath(rb *schema.Runbook, digest string) string {
	return filepath.Join(rb.Dir, journal.DefaultDir, "plans", digest+".plan")
}

func keepRunPlan(rb *schema.Runbook, p *planner.Plan, digest string) error {
	path := runPlanPath(rb, digest)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	return planfile.Save(path, p)
}

func dropRunPlan(rb *schema.Runbook, digest string) {
	_ = os.Remove(runPlanPath(rb, digest))
}

// unfinishedRun is the journal's last run of a plan apply DIR kept, when
// some of its steps are not done.
type unfinishedRun struct {
	plan        *planner.Plan
	digest      string
	started     time.Time
	done, total int
}

// findUnfinishedRun reads the journal for the last run and returns it when
// apply DIR kept its plan, the plan comes from this runbook as it is now,
// and not every step succeeded. A kept plan that no longer applies (the
// runbook changed, every step done) is removed.
func findUnfinishedRun(ctx context.Context, rb *schema.Runbook, store journal.Store) (*unfinishedRun, error) {
	rep, err := store.Replay(ctx)
	if err != nil {
		return nil, err
	}
	var last *journal.Record
	for i := range rep.Records {
		if rep.Records[i].Kind == journal.RunStarted {
			last = &rep.Records[i]
		}
	}
	if last == nil || last.PlanID == "" {
		return nil, nil
	}
	path := runPlanPath(rb, last.PlanID)
	p, digest, err := planfile.Load(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil || digest != last.PlanID || p.RunbookHash != rb.Hash {
		// Damaged, or made from another runbook than today's: plan afresh.
		dropRunPlan(rb, last.PlanID)
		return nil, nil
	}
	run := &unfinishedRun{plan: p, digest: digest, started: last.Time, total: len(p.Steps)}
	succeeded := map[string]bool{}
	for _, r := range rep.Records {
		if r.PlanID == digest && r.Kind == journal.StepSucceeded {
			succeeded[r.StepID] = true
		}
	}
	for _, s := range p.Steps {
		if succeeded[s.ID] {
			run.done++
		}
	}
	if run.done == run.total {
		dropRunPlan(rb, digest)
		return nil, nil
	}
	return run, nil
}

// lockHeldError is apply refused because another operation holds the
// state lock: it names the holder and the command that breaks the lock.
type lockHeldError struct {
	held  journal.LockInfo
	stale string
	dir   string
}

func (e *lockHeldError) Error() string {
	h := e.held
	msg := fmt.Sprintf("the state of %s is locked by another %s: lock ID %s, taken by %s on %s (pid %d) at %s.\n",
		e.dir, orDash(h.Operation), safe(h.ID), orDash(h.Who), orDash(h.Host), h.PID, h.Created.UTC().Format(time.RFC3339))
	if e.stale != "" {
		msg += "It looks abandoned: " + e.stale + ".\n"
	} else {
		msg += fmt.Sprintf("Wait for it to finish (cutover status %s shows it). ", shellQuote(e.dir))
	}
	return msg + fmt.Sprintf("If that process is gone for good, release its lock with:\n  cutover force-unlock %s %s", safe(shellQuote(h.ID)), shellQuote(e.dir))
}

// orDash shows a field of a lock record, which any process (or hand) may
// have written: escaped (a newline in it would forge a line of the
// message), "unknown" when empty.
func orDash(s string) string {
	if s == "" {
		return "unknown"
	}
	return safe(s)
}

// checkLock refuses at once when another operation holds the state lock,
// before any planning or reading of live state: an operator who started a
// second apply by mistake learns who runs the first, not a side effect of
// it ("test failover is running"). It takes the lock and gives it back, so
// that it judges exactly as the run will (a lock whose holder is gone is
// taken over by the store, not refused).
func checkLock(ctx context.Context, rb *schema.Runbook, store journal.Store) error {
	// Without the OS lock file no process holds the OS lock: judge from
	// the lock file alone, as Lock would, rather than take the lock and
	// create the lock files of an apply that may yet be refused (an
	// edited or stale plan) and so write nothing else.
	if fs, ok := store.(*journal.FileStore); ok && !fs.HasOSLockFile() {
		held, err := store.CurrentLock(ctx)
		if err != nil || held == nil || held.OSLock {
			// Free, or left by a holder that took the OS lock and is
			// gone: the run's Lock takes it over.
			return err
		}
		return &lockHeldError{held: *held, stale: journal.StaleHint(*held), dir: rb.Dir}
	}
	info, err := store.Lock(ctx, journal.LockInfo{Operation: "apply"})
	var locked *journal.LockedError
	if errors.As(err, &locked) {
		return &lockHeldError{held: locked.Held, stale: locked.Stale, dir: rb.Dir}
	}
	if err != nil {
		return err
	}
	return store.Unlock(ctx, info.ID)
}

// lockFirst refuses when the state lock is held, before anything else
// reads live state.
func lockFirst(ctx context.Context, rb *schema.Runbook) error {
	store, err := openStore(ctx, rb)
	if err != nil {
		return err
	}
	defer store.Close()
	return checkLock(ctx, rb, store)
}

// resumeUnfinished applies the journal's unfinished run of apply DIR, if
// there is one. It reports resumed=false when there is none or when its
// plan no longer applies (then it says why, and the caller plans afresh).
func resumeUnfinished(in *interrupts, g *globals, out, errOut, say io.Writer, rb *schema.Runbook, sim bool, approved string, o applyOptions) (bool, error) {
	store, err := openStore(in.soft, rb)
	if err != nil {
		return false, err
	}
	run, err := findUnfinishedRun(in.soft, rb, store)
	store.Close()
	if err != nil || run == nil {
		return false, err
	}
	if approved != "" && approved != run.digest {
		// --expect-digest names another plan: the fresh plan must be it.
		return false, nil
	}
	fmt.Fprintf(say, "Resuming the unfinished apply started %s (plan %s): %d of %d steps done.\n",
		run.started.UTC().Format(time.RFC3339), run.digest[:12], run.done, run.total)
	err = runApply(in, g, out, errOut, rb, run.plan, run.digest, sim, o)
	var (
		stale   *planfile.StaleError
		expired *planfile.ExpiredError
	)
	if errors.As(err, &stale) || errors.As(err, &expired) {
		fmt.Fprintf(say, "That plan no longer applies (%v); planning afresh.\n\n", err)
		dropRunPlan(rb, run.digest)
		return false, nil
	}
	return true, err
}
