package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"cutover/planner"
	"cutover/planner/planfile"
	"cutover/planner/render"
	"cutover/schema"
)

// Exit code of plan --detailed-exitcode when the plan has changes.
const exitChanges = 2

func newPlanCommand(g *globals) *cobra.Command {
	var (
		out          string
		detailed     bool
		sim          bool
		targets      []string
		format       string
		refreshLimit time.Duration
		sched        scheduleFlags
	)
	cmd := &cobra.Command{
		Use:   "plan [DIR]",
		Short: "Diff a runbook against live vCenter and Azure state and show or save the plan",
		Long: `Plan reads every vCenter and vault the runbook names, in bulk, diffs each
VM's live stage and settings against the runbook and prints the ordered steps
that would close the gap. With --out the plan is saved for review and for
'cutover apply PLAN'.

--sim plans against the simulated world kept in DIR/.cutover/sim (created
from the runbook's VMs the first time).

The plan carries a timeline: each step's expected start and duration with
apply at --parallelism, initial replication from the disks' size at
--throughput Mbit/s, other steps from the window's estimates, the median
of earlier applies of this runbook (from its journal), or defaults; and,
per window, whether the disruptive steps end before it closes, which VMs
spill over and what would fit.

Exit status: 0 no changes, 1 error, 2 changes present (with --detailed-exitcode).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			renderFn, err := render.ByName(format, render.HumanOptions{Color: colorFor(cmd.OutOrStdout(), g.noColor)})
			if err != nil {
				return usageError{err}
			}
			// !(x > 0) also refuses NaN, which every comparison fails.
			if sched.parallelism < 1 || !(sched.throughput > 0) || math.IsInf(sched.throughput, 0) {
				return usagef("--parallelism and --throughput must be more than zero")
			}
			rb, err := loadRunbook(g, cmd.ErrOrStderr(), runbookDir(args))
			if err != nil {
				return err
			}
			limitPlanMemory(len(rb.VMs))
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			ctx, cancel := context.WithTimeout(ctx, refreshLimit)
			defer cancel()

			p, err := makePlan(ctx, cmd.ErrOrStderr(), rb, sim, targets)
			if err != nil {
				return err
			}
			sched.schedule(ctx, cmd.ErrOrStderr(), rb, p)
			if err := buffered(cmd.OutOrStdout(), func(w io.Writer) error { return renderFn(w, p) }); err != nil {
				return err
			}
			if out != "" {
				if err := savePlan(out, rb, p); err != nil {
					return fmt.Errorf("saving the plan: %w", err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "Saved the plan to %s. Apply exactly this plan with: cutover apply %s\n", out, out)
			}
			if detailed && p.HasChanges() {
				return exitCodeError{exitChanges}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "save the plan to this file")
	f.BoolVar(&detailed, "detailed-exitcode", false, "exit 2 when the plan has changes, 0 when it has none")
	f.BoolVar(&sim, "sim", false, "plan against the simulated world in DIR/.cutover/sim")
	f.StringArrayVar(&targets, "target", nil, "plan only this VM (vm.NAME or vm.NAME[\"key\"]; repeatable)")
	f.StringVar(&format, "format", "human", "how to show the plan: human, markdown, json, dot or mermaid")
	f.DurationVar(&refreshLimit, "timeout", 10*time.Minute, "give up reading live state after this long")
	f.IntVar(&sched.parallelism, "parallelism", 10, "schedule the timeline for apply at this parallelism")
	f.Float64Var(&sched.throughput, "throughput", planner.DefaultThroughputMbps, "initial replication throughput per VM, in Mbit/s, for the timeline")
	return cmd
}

// makePlan connects, refreshes and builds. Problems with single VMs are
// reported together and fail the command: a plan that silently leaves VMs
// out would be reviewed as if it were whole.
func makePlan(ctx context.Context, errOut io.Writer, rb *schema.Runbook, sim bool, targets []string) (*planner.Plan, error) {
	if err := checkTargets(rb, targets); err != nil {
		return nil, err
	}
	s, err := connect(ctx, rb, sim)
	if err != nil {
		return nil, err
	}
	if s.served != nil {
		fmt.Fprintf(errOut, "Using the simulated world served by process %d (cutover sim serve).\n", s.served.PID)
	}
	defer s.Close()
	snap, problems, err := planner.Refresh(ctx, rb, s.sources)
	if err != nil {
		return nil, err
	}
	if err := markCompleted(ctx, rb, snap); err != nil {
		return nil, err
	}
	p, more := planner.Build(rb, snap.Live, planner.Options{Now: time.Now(), ToolVersion: currentVersion().Version, Targets: targets})
	p.Simulated = sim
	problems = append(problems, more...)
	if len(problems) > 0 {
		writeProblems(errOut, problems)
		if sim {
			writeSimWorldHint(errOut, rb, problems)
		}
		return nil, exitCodeError{exitError}
	}
	return p, nil
}

// checkTargets refuses a --target that names no VM of the runbook: the
// plan would silently cover nothing (and report "no changes").
func checkTargets(rb *schema.Runbook, targets []string) error {
	for _, t := range targets {
		found := false
		for _, vm := range rb.VMs {
			if t == vm.Address || t == "vm."+vm.Block {
				found = true
				break
			}
		}
		if !found {
			return usagef("--target %s names no VM of the runbook (use vm.NAME or vm.NAME[\"key\"])", safe(t))
		}
	}
	return nil
}

// savePlan records where the runbook is, relative to the plan file, and
// saves the plan.
func savePlan(path string, rb *schema.Runbook, p *planner.Plan) error {
	planDir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return err
	}
	rbDir, err := filepath.Abs(rb.Dir)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(planDir, rbDir); err == nil {
		p.RunbookDir = filepath.ToSlash(rel)
	}
	return planfile.Save(path, p)
}

func colorFor(w io.Writer, noColor bool) bool {
	return !noColor && isTerminal(w)
}
