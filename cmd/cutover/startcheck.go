package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"cutover/executor"
	"cutover/planner"
	"cutover/planner/planfile"
	"cutover/schema"
)

// startCheck checks a plan against live state VM by VM while the apply
// runs, and holds each step until it may start (it is the executor's
// Config.Admit). Reading a thousand VMs takes about a second; the first
// VMs' steps start as soon as their own live state is read and checked,
// instead of after the last VM's.
//
// The rules (docs/runbook.md, "When apply starts"):
//   - A non-disruptive step starts once its VM's check passed: its live
//     fingerprint is the plan's, and re-planning the VM from it gives the
//     plan's entry and steps (issue 13: an edited plan is refused).
//   - A disruptive or no-return step, disabling replication, and every
//     step of a VM in a depends_on relation, wait until every VM passed and the whole plan
//     was verified (its windows, its VMs, the dependencies between VMs).
//   - A VM that fails its check refuses the whole apply, as Terraform
//     refuses a stale plan: nothing new starts for any VM, steps already
//     under way (non-disruptive, of VMs that passed) stop at a safe point
//     as at an interrupt, and apply exits 1 naming the VM.
type startCheck struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	passed  map[string]bool
	holdAll map[string]bool
	done    bool
	refused error
	// refusedCh is closed on refusal: the run's soft stop.
	refusedCh chan struct{}
	checked   int
	total     int
	// onProgress hears the counts after each batch and once at the end
	// (done set); it runs under no lock of the check's.
	onProgress func(checked, total int, done bool)
}

func newStartCheck(rb *schema.Runbook, exempt map[string]bool, total int) *startCheck {
	c := &startCheck{changed: make(chan struct{}), passed: map[string]bool{}, holdAll: map[string]bool{},
		refusedCh: make(chan struct{}), total: total}
	for vm := range exempt {
		c.passed[vm] = true
	}
	for _, vm := range rb.VMs {
		for _, dep := range vm.DependsOn {
			c.holdAll[vm.Address], c.holdAll[dep] = true, true
		}
	}
	return c
}

// Admit waits until step may start, or returns why it never will.
func (c *startCheck) Admit(ctx context.Context, step planner.Step) error {
	for {
		c.mu.Lock()
		ok := c.done || early(step) && c.passed[step.VM] && !c.holdAll[step.VM]
		refused, ch := c.refused, c.changed
		c.mu.Unlock()
		switch {
		case refused != nil:
			return fmt.Errorf("the plan was refused before this step started")
		case ok:
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			// A refusal stops the run too: say refused, not interrupted.
			c.mu.Lock()
			refused := c.refused
			c.mu.Unlock()
			if refused != nil {
				return fmt.Errorf("the plan was refused before this step started")
			}
			return ctx.Err()
		}
	}
}

// early reports whether a step may start before every VM was checked:
// it touches neither the running source nor its users, and is no point
// of no return. Disabling replication waits too: undoing it means
// replicating again from scratch.
func early(s planner.Step) bool {
	return !s.Disruptive && !s.NoReturn && s.Kind != planner.StepDisableReplication
}

func (c *startCheck) change(f func()) {
	c.mu.Lock()
	f()
	close(c.changed)
	c.changed = make(chan struct{})
	checked, total, done := c.checked, c.total, c.done
	report := c.onProgress
	c.mu.Unlock()
	if report != nil {
		report(checked, total, done)
	}
}

func (c *startCheck) pass(vms []string) {
	c.change(func() {
		for _, vm := range vms {
			c.passed[vm] = true
		}
		c.checked += len(vms)
	})
}

func (c *startCheck) finish() { c.change(func() { c.done = true }) }

// refuse records the first reason the plan may not be applied and stops
// the run softly.
func (c *startCheck) refuse(err error) {
	c.mu.Lock()
	first := c.refused == nil
	if first {
		c.refused = err
		close(c.refusedCh)
		close(c.changed)
		c.changed = make(chan struct{})
	}
	c.mu.Unlock()
}

// state reports whether the check is over and why it refused, if it did.
func (c *startCheck) state() (passedAny, done bool, refused error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checked > 0, c.done, c.refused
}

// wait blocks until the check passed a VM, ended or refused: apply starts
// the executor only then, so that a plan refused at its first VMs starts
// nothing at all, as before checks were made VM by VM.
func (c *startCheck) wait(ctx context.Context) {
	for {
		c.mu.Lock()
		over := c.checked > 0 || c.done || c.refused != nil
		ch := c.changed
		c.mu.Unlock()
		if over {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// problemsError is VMs the planner could not match or plan: apply lists
// them and exits 1.
type problemsError struct{ problems []planner.Problem }

func (e *problemsError) Error() string {
	return fmt.Sprintf("%d VM(s) cannot be planned: %s: %s", len(e.problems), e.problems[0].VM, e.problems[0].Reason)
}

// checkOrder lists the VMs of p to read, those whose steps come first in
// the plan first: the walk starts with them.
func checkOrder(p *planner.Plan, exempt map[string]bool) []string {
	var order []string
	seen := map[string]bool{}
	add := func(vm string) {
		if vm != "" && !seen[vm] && !exempt[vm] {
			seen[vm] = true
			order = append(order, vm)
		}
	}
	for _, s := range p.Steps {
		add(s.VM)
	}
	for _, vm := range p.VMs {
		add(vm.Address)
	}
	return order
}

// run reads the plan's VMs batch by batch (planner.RefreshEach), checks
// each batch, and when every VM is in, checks the whole plan. identified
// is called with the identity snapshot before the first batch (apply
// builds its action runner from it). It returns the whole snapshot; its
// error is also recorded as the check's refusal.
func (c *startCheck) run(ctx context.Context, rb *schema.Runbook, src planner.Sources, p *planner.Plan, exempt, completed map[string]bool, saved bool,
	identified func(*planner.Snapshot) error) (*planner.Snapshot, error) {
	markDone := func(live map[string]planner.Live) {
		for addr, l := range live {
			if completed[addr] {
				l.Completed = true
				live[addr] = l
			}
		}
	}
	planned := map[string]planner.VMPlan{}
	for _, vm := range p.VMs {
		planned[vm.Address] = vm
	}
	snap, err := planner.RefreshEach(ctx, rb, src, planner.Stream{
		Order:      checkOrder(p, exempt),
		Identified: identified,
		Ready: func(b planner.Batch) error {
			if len(b.Problems) > 0 {
				return &problemsError{problems: b.Problems}
			}
			markDone(b.Live)
			var vms []string
			sub := *p
			sub.VMs = nil
			for addr := range b.Live {
				vms = append(vms, addr)
				if vm, ok := planned[addr]; ok {
					sub.VMs = append(sub.VMs, vm)
				}
			}
			sort.Strings(vms)
			if err := planfile.Check(&sub, rb.Hash, time.Now(), b.Live); err != nil {
				return err
			}
			if saved {
				if err := verifySavedVMs(rb, b.Live, p, vms); err != nil {
					return err
				}
			}
			c.pass(vms)
			return nil
		},
	})
	if err == nil {
		markDone(snap.Live)
		checked := *p
		checked.VMs = nil
		for _, vm := range p.VMs {
			if !exempt[vm.Address] {
				checked.VMs = append(checked.VMs, vm)
			}
		}
		err = planfile.Check(&checked, rb.Hash, time.Now(), snap.Live)
	}
	if err == nil && saved {
		err = verifySaved(rb, snap.Live, p, exempt)
	}
	if err != nil {
		c.refuse(err)
		return nil, err
	}
	c.finish()
	return snap, nil
}

// stalenessReporter is a run view that shows the check's progress.
type stalenessReporter interface {
	staleness(checked, total int, done bool)
}

// watch sends the check's progress to r from now on, starting with where
// it stands (batches may have passed before the view existed).
func (c *startCheck) watch(r any) {
	sr, ok := r.(stalenessReporter)
	if !ok {
		return
	}
	c.mu.Lock()
	c.onProgress = func(checked, total int, done bool) {
		if total > 0 {
			sr.staleness(checked, total, done)
		}
	}
	checked, total, done, refused := c.checked, c.total, c.done, c.refused
	report := c.onProgress
	c.mu.Unlock()
	if refused == nil {
		report(checked, total, done)
	}
}

// refusal shows why the check refused the plan and returns the error apply
// exits with.
func refusal(errOut io.Writer, err error) error {
	var pe *problemsError
	if errors.As(err, &pe) {
		writeProblems(errOut, pe.problems)
		return exitCodeError{exitError}
	}
	return err
}

// writeRefusedSummary says what a run refused part way had started: steps
// of VMs whose own check passed, none of them disruptive.
func writeRefusedSummary(say io.Writer, res executor.Result) {
	if len(res.Succeeded)+len(res.Interrupted)+len(res.Failed) == 0 {
		fmt.Fprintln(say, "\nApply refused: nothing was started.")
		return
	}
	fmt.Fprintf(say, "\nApply refused part way: of the non-disruptive steps of VMs whose check had passed, %d succeeded, %d stopped at a safe point and %d failed; nothing else was started.\n",
		len(res.Succeeded), len(res.Interrupted), len(res.Failed))
	if len(res.Interrupted) > 0 {
		fmt.Fprintln(say, "Operations already sent keep running in their service. Plan again: the new plan starts from what they did.")
	} else {
		fmt.Fprintln(say, "Plan again: the new plan starts from what they did.")
	}
}
