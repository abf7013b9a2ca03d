package main

import (
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
