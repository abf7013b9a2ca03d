package action_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"cutover/executor"
	"cutover/executor/journal"
	"cutover/planner"
)

// pollClock is the wall clock, recording every wait the executor asks for.
type pollClock struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (c *pollClock) Now() time.Time { return time.Now() }

func (c *pollClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	return time.After(d)
}

// TestGateThatCannotOpenFailsFast runs the executor on a step whose gate
// can never open: failover_commit of an item that is only protected (ASR
// does not allow Commit, and no job runs that could change that). With a
// gate poll of an hour, the step fails without a single poll and without
// a waiting event, its error naming the state and the allowed operations.
func TestGateThatCannotOpenFailsFast(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "quickstart")
	f := openWorld(t, rb, 0.001)
	r, env := f.runner(t)
	ctx := ctxT(t)
	p := f.plan(t, env)
	for _, k := range []planner.StepKind{planner.StepEnableReplication, planner.StepWaitProtected} {
		runToDone(t, ctx, r, step(t, p, "vm.app01", k))
	}

	commit := planner.Step{ID: "vm.app01.failover_commit", VM: "vm.app01", Kind: planner.StepFailoverCommit,
		Gate: "allowedOperations contains Commit"}
	store, err := journal.OpenFile(t.TempDir(), "state")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var (
		mu     sync.Mutex
		events []executor.Event
	)
	clock := &pollClock{}
	const poll = time.Hour
	ex, err := executor.New(executor.Config{
		Plan: &planner.Plan{Runbook: rb.Name, Steps: []planner.Step{commit}}, PlanID: "failfast", Store: store,
		Actions: r.Actions(), Clock: clock, GatePoll: poll, GateTimeout: 2 * time.Hour,
		Reporter: executor.ReporterFunc(func(e executor.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }),
	})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	_, err = ex.Run(ctx)
	took := time.Since(began)

	var failed string
	for _, e := range events {
		switch e.Kind {
		case executor.EventStepWaiting:
			t.Errorf("the step waited on a gate that cannot open: %+v", e)
		case executor.EventStepFailed:
			failed = e.Error
		}
	}
	if failed == "" {
		t.Fatalf("the step did not fail (run error %v, events %+v)", err, events)
	}
	for _, want := range []string{"vm.app01", "failover_commit", "cannot open", "allowedOperations lacks Commit", "protection state Protected", "no ASR job is running"} {
		if !strings.Contains(failed, want) {
			t.Errorf("the failure does not say %q: %s", want, failed)
		}
	}
	for _, d := range clock.waits {
		if d >= poll {
			t.Errorf("the executor waited %s for the gate", d)
		}
	}
	if took >= poll {
		t.Errorf("the step took %s to fail", took)
	}
	t.Logf("failed after %s with a gate poll of %s: %s", took.Round(time.Millisecond), poll, failed)
}
