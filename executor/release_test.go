package executor_test

import (
	"context"
	"errors"
	"testing"

	"cutover/executor"
	"cutover/executor/journal"
)

// brokenUnlock is a real file store whose Unlock fails, as it does when
// the lock file cannot be removed.
type brokenUnlock struct{ journal.Store }

var errUnlock = errors.New("remove .cutover/state.lock: read-only file system")

func (brokenUnlock) Unlock(context.Context, string) error { return errUnlock }

// TestUnlockFailureIsReturned: a run whose lock cannot be released returns
// its complete result and a *ReleaseError naming the lock, never a silent
// success.
func TestUnlockFailureIsReturned(t *testing.T) {
	p := quickstartPlan(t)
	store := brokenUnlock{openStore(t, t.TempDir())}
	res, err := newRun(t, p, newScripted(), &stepClock{now: inWindow}, store, nil).Run(context.Background())
	var re *executor.ReleaseError
	if !errors.As(err, &re) || !errors.Is(err, errUnlock) || re.LockID == "" {
		t.Fatalf("Run = %v, want *ReleaseError wrapping the unlock failure", err)
	}
	if len(res.Succeeded) != len(p.Steps) {
		t.Fatalf("result %+v, want every step succeeded", res)
	}
	if cur, _ := store.CurrentLock(context.Background()); cur == nil || cur.ID != re.LockID {
		t.Fatalf("lock %v, want the unreleased lock %s", cur, re.LockID)
	}
}

// TestWindowTooShortForEstimateIsRefused: a plan whose window is shorter
// than a disruptive step's estimate (here the default failover estimate)
// could never run that step; New refuses it naming the step and window.
func TestWindowTooShortForEstimateIsRefused(t *testing.T) {
	p := quickstartPlan(t)
	for i := range p.Windows {
		p.Windows[i].Duration = "20m"
	}
	_, err := executor.New(executor.Config{Plan: p, PlanID: "plan-1", Store: openStore(t, t.TempDir()), Actions: newScripted(), Clock: &stepClock{now: inWindow}})
	var nf *executor.NoFitError
	if !errors.As(err, &nf) || nf.Window == "" || nf.Estimate != "30m0s" {
		t.Fatalf("New = %v, want *NoFitError for a 30m estimate", err)
	}
}
