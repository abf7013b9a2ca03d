package main

import (
	"fmt"

	"cutover/executor/journal"
	"cutover/planner"
	"cutover/planner/planfile"
	"cutover/schema"
)

// verifySaved re-plans a saved plan's VMs from its own runbook (whose hash
// the caller has already matched) and the live state just read for the
// staleness check, and refuses the file if it differs: a reviewed plan is
// only as good as the guarantee that its steps are the planner's. VMs in
// done were already changed by this plan file and are left out.
func verifySaved(rb *schema.Runbook, live map[string]planner.Live, saved *planner.Plan, done map[string]bool) error {
	fresh, problems := planner.Build(rb, live, planner.Options{
		Now: saved.CreatedAt, ToolVersion: saved.ToolVersion, Targets: planfile.Targets(saved),
	})
	for _, pr := range problems {
		if !done[pr.VM] {
			return &planfile.EditedError{Step: pr.VM, Reason: "the planner cannot plan it now: " + pr.Reason}
		}
	}
	return planfile.Verify(saved, fresh, done)
}

// verifyRollback checks a saved rollback plan against the journal: every
// step must undo a step the journal shows succeeded. A rollback plan
// cannot be re-planned like a forward one (it depends on which apply was
// undone), but an edited one that undoes what never happened, on a VM it
// never touched, is refused.
func verifyRollback(saved *planner.Plan, records []journal.Record) error {
	succeeded := map[string]bool{}
	for _, r := range records {
		if r.Kind == journal.StepSucceeded {
			succeeded[r.StepID] = true
		}
	}
	for _, s := range saved.Steps {
		forward := s.VM + "." + string(s.Inverse)
		if !succeeded[forward] {
			return &planfile.EditedError{Step: s.ID, Reason: fmt.Sprintf("the journal shows no applied %s for it to undo", forward)}
		}
	}
	return nil
}

// verifySavedVMs is verifySaved for some VMs of a saved plan, as their
// live state is read: it re-plans those VMs alone and compares them and
// their steps (planfile.VerifyVMs). What lies between VMs (their
// dependencies, the windows, the list of VMs) is left to verifySaved once
// every VM is read.
func verifySavedVMs(rb *schema.Runbook, live map[string]planner.Live, saved *planner.Plan, vms []string) error {
	if len(vms) == 0 {
		return nil
	}
	fresh, problems := planner.Build(rb, live, planner.Options{
		Now: saved.CreatedAt, ToolVersion: saved.ToolVersion, Targets: vms,
	})
	for _, pr := range problems {
		return &planfile.EditedError{Step: pr.VM, Reason: "the planner cannot plan it now: " + pr.Reason}
	}
	set := map[string]bool{}
	for _, vm := range vms {
		set[vm] = true
	}
	return planfile.VerifyVMs(saved, fresh, set)
}

// verifySavedWindows compares a saved plan's windows, runbook name and
// variables with its runbook's, before any VM is read: windows govern the
// disruptive steps, and an edit to any of them is refused before anything
// starts.
func verifySavedWindows(rb *schema.Runbook, saved *planner.Plan) error {
	fresh, _ := planner.Build(rb, nil, planner.Options{Now: saved.CreatedAt, ToolVersion: saved.ToolVersion, Targets: planfile.Targets(&planner.Plan{})})
	return planfile.VerifyHeader(saved, fresh)
}
