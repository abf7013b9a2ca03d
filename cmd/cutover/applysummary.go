package main

import (
	"fmt"
	"io"

	"cutover/executor"
	"cutover/planner"
)

// writeApplySummary closes a run: its counts, each failure with the VM, the
// step and the service's message, and what to run next. An interrupted run
// counts its interrupted steps as such (never as failed) and gives the
// exact command that resumes.
func writeApplySummary(say, errOut io.Writer, p *planner.Plan, res executor.Result, resume, rollback string) {
	undo := 0
	for _, s := range p.Steps {
		if planner.IsUndo(s.ID) {
			undo++
		}
	}
	head := "Apply"
	if undo > 0 {
		head = fmt.Sprintf("Rollback (%s)", count(undo, "undo step", "undo steps"))
	}
	if res.Stopped {
		fmt.Fprintf(say, "\n%s interrupted: %d succeeded, %d already done, %d interrupted, %d failed, %d blocked by a failure, %d not started.\n",
			head, len(res.Succeeded), len(res.Skipped), len(res.Interrupted), len(res.Failed), len(res.Blocked), len(res.Pending))
	} else {
		fmt.Fprintf(say, "\n%s: %d succeeded, %d already done, %d failed, %d blocked by a failure, %d pending.\n",
			head, len(res.Succeeded), len(res.Skipped), len(res.Failed), len(res.Blocked), len(res.Pending))
	}
	for _, f := range res.Failed {
		fmt.Fprintf(errOut, "Error: %s\n", safeText(f.Err.Error()))
	}
	switch {
	case res.Stopped:
		if len(res.Interrupted) > 0 {
			fmt.Fprintf(say, "Interrupted at a safe point: operations already sent keep running and the next apply re-attaches to them.\n")
		}
		fmt.Fprintf(say, "Resume with: %s\n", resume)
	case len(res.Failed) > 0:
		fmt.Fprintf(errOut, "Fix the cause and resume with: %s\n", resume)
		if undo == 0 && rollback != "" {
			fmt.Fprintf(errOut, "Or undo what was applied: %s (review it, then apply rollback.plan)\n", rollback)
		}
	case res.WindowClosed:
		fmt.Fprintf(say, "Disruptive steps wait for their maintenance window. Resume inside it with: %s (or add --wait-for-window).\n", resume)
	}
}
