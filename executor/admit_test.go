package executor_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"cutover/executor"
	"cutover/planner"
)

// admitter lets the steps of the VMs it was told about start, holds the
// others, and refuses every step once refused: the shape of apply's
// per-VM staleness check.
type admitter struct {
	mu      sync.Mutex
	passed  map[string]bool
	refused error
	changed chan struct{}
}

func newAdmitter() *admitter {
	return &admitter{passed: map[string]bool{}, changed: make(chan struct{})}
}

func (a *admitter) pass(vm string) {
	a.mu.Lock()
	a.passed[vm] = true
	close(a.changed)
	a.changed = make(chan struct{})
	a.mu.Unlock()
}

func (a *admitter) refuse(err error) {
	a.mu.Lock()
	a.refused = err
	close(a.changed)
	a.changed = make(chan struct{})
	a.mu.Unlock()
}

func (a *admitter) Admit(ctx context.Context, s planner.Step) error {
	for {
		a.mu.Lock()
		ok, err, ch := a.passed[s.VM], a.refused, a.changed
		a.mu.Unlock()
		switch {
		case err != nil:
			return err
		case ok:
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// TestAdmitHoldsStepsUntilTheirVMPasses runs the multi-tier plan with one
// worker while every VM is held: the VM let through first has its steps
// started although it is not first in the walk's order, the held VMs start
// nothing, and once the check is refused the held steps end as pending
// (never started, never failed) and the run ends.
func TestAdmitHoldsStepsUntilTheirVMPasses(t *testing.T) {
	p := quickstartPlan(t)
	acts := newScripted()
	adm := newAdmitter()
	// The VM let through: the one whose first step comes last in the plan.
	last := p.Steps[len(p.Steps)-1].VM
	var first string
	var events []executor.Event
	var mu sync.Mutex
	rep := executor.ReporterFunc(func(e executor.Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
		if e.Kind == executor.EventStepStarted && first == "" {
			first = e.VM
			// The first start belongs to the VM let through; refuse the
			// rest now, while their steps are held.
			go adm.refuse(errors.New("vm.other is stale"))
		}
	})
	ex := newRun(t, p, acts, &stepClock{now: inWindow}, openStore(t, t.TempDir()), func(c *executor.Config) {
		c.Admit, c.Reporter, c.Parallelism = adm.Admit, rep, 1
		// Disruptive steps of the VM would wait for the window: only its
		// non-disruptive steps matter here.
		c.WaitForWindow = false
	})
	adm.pass(last)
	res, err := ex.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if first != last {
		t.Fatalf("first step started was of %s, want %s (the only VM let through)", first, last)
	}
	for _, c := range acts.calls {
		_, id, _ := strings.Cut(c, " ")
		if vm := vmOf(p, id); vm != last {
			t.Errorf("%q was called for %s, which was never let through", c, vm)
		}
	}
	if len(res.Failed) != 0 || len(res.Blocked) != 0 {
		t.Errorf("refused steps must be pending, not failed or blocked: %+v", res)
	}
	for _, s := range p.Steps {
		if s.VM != last && !contains(res.Pending, s.ID) {
			t.Errorf("%s of a held VM is not pending: %+v", s.ID, res)
		}
	}
	for _, e := range events {
		if e.Kind == executor.EventStepFailed {
			t.Errorf("a refused step was reported failed: %+v", e)
		}
	}
}

func vmOf(p *planner.Plan, id string) string {
	for _, s := range p.Steps {
		if s.ID == id {
			return s.VM
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
