package main

import (
	"context"
	"fmt"
	"io"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"cutover/executor/action"
	"cutover/executor/journal"
	"cutover/planner"
	"cutover/planner/render"
	"cutover/schema"
)

func newRollbackCommand(g *globals) *cobra.Command {
	var (
		out       string
		sim       bool
		toStep    string
		format    string
		lastApply bool
		targets   []string
		reset     bool
	)
	cmd := &cobra.Command{
		Use:   "rollback [DIR]",
		Short: "Build the inverse plan of the last apply, from the journal",
		Long: `Rollback reads the journal in DIR/.cutover and builds the plan that undoes
the last apply, newest step first: relocate back, remove the snapshot,
destroy the rehearsal clone, make the recorded FT primary primary again,
power the source on, clean up a test failover, back out of an uncommitted
failover, disable replication, PATCH settings back. It is planned against
live state like any plan: a step already undone by hand is left out and said
so, and what a point of no return (failover commit, complete migration) put
beyond reach is named. Review it, save it with --out and apply it with
'cutover apply FILE' like a forward plan.

A failover is backed out the way ASR allows at rollback time: with
CancelFailover when the item offers it (the item returns to Protected);
otherwise, as after an InMageRcm unplanned failover, by deallocating the
Azure VM the failover created, and the item stays failed over. Either way the
source is powered on only once the Azure VM is read absent, stopped or
deallocated: never two running copies of one server. Migrating a VM backed
out without a cancel again needs replication disabled and enabled again (a
full initial replication); --reset-replication plans the disable.

A VM whose failover was committed (or migration completed) cannot be rolled
back: rollback refuses with exit status 1, naming the commit and when it
was done. --target limits the rollback to the VMs named.

--last-apply (the default) undoes everything the last apply did; --to-step ID
undoes only the steps it applied after ID.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if lastApply && toStep != "" {
				return usageError{fmt.Errorf("--last-apply and --to-step are alternatives")}
			}
			renderFn, err := render.ByName(format, render.HumanOptions{Color: colorFor(cmd.OutOrStdout(), g.noColor)})
			if err != nil {
				return usageError{err}
			}
			rb, err := loadRunbook(g, cmd.ErrOrStderr(), runbookDir(args))
			if err != nil {
				return err
			}
			if err := checkTargets(rb, targets); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			p, notes, err := inversePlan(ctx, rb, sim, toStep, rollbackOptions{targets: targets, reset: reset})
			if err != nil {
				return err
			}
			if err := buffered(cmd.OutOrStdout(), func(w io.Writer) error { return renderFn(w, p) }); err != nil {
				return err
			}
			// Notes follow a human or Markdown plan; they would corrupt JSON
			// or a graph, so they go to stderr then.
			notesOut := cmd.OutOrStdout()
			if format != "human" && format != "markdown" {
				notesOut = cmd.ErrOrStderr()
			}
			writeNotes(notesOut, notes)
			if out != "" {
				if err := savePlan(out, rb, p); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "Saved the rollback plan to %s. Apply it with: cutover apply %s\n", out, out)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "save the rollback plan to this file")
	cmd.Flags().BoolVar(&sim, "sim", false, "roll back in the simulated world in DIR/.cutover/sim")
	cmd.Flags().StringVar(&toStep, "to-step", "", "undo only the steps applied after this step ID")
	cmd.Flags().BoolVar(&lastApply, "last-apply", false, "undo everything the last apply did (the default)")
	cmd.Flags().StringVar(&format, "format", "human", "human, markdown, json, dot or mermaid")
	cmd.Flags().StringArrayVar(&targets, "target", nil, "roll back only this VM (vm.NAME or vm.NAME[\"key\"]; repeatable)")
	cmd.Flags().BoolVar(&reset, "reset-replication", false, "also disable replication of a VM whose failover is backed out without a cancel, so that it can be migrated again (after a full initial replication)")
	return cmd
}

// rollbackOptions are the choices of one rollback command.
type rollbackOptions struct {
	targets []string
	reset   bool
}

// selected reports whether the rollback covers the VM at addr.
func (o rollbackOptions) selected(rb *schema.Runbook, addr string) bool {
	if len(o.targets) == 0 {
		return true
	}
	for _, vm := range rb.VMs {
		if vm.Address != addr {
			continue
		}
		for _, t := range o.targets {
			if t == vm.Address || t == "vm."+vm.Block {
				return true
			}
		}
	}
	return false
}

// pastNoReturn finds the selected VMs a rollback cannot take back: a point
// of no return (failover commit, complete migration) succeeded in the
// journal, or ASR reports the failover committed. Each line names what was
// done and when.
func pastNoReturn(records []journal.Record, live map[string]planner.Live, keep func(string) bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range records {
		if r.Kind != journal.StepSucceeded || planner.IsUndo(r.StepID) {
			continue
		}
		vm, kind := planner.SplitStepID(r.StepID)
		if !kind.NoReturn() || !keep(vm) || seen[vm] {
			continue
		}
		seen[vm] = true
		out = append(out, fmt.Sprintf("%s: %s (step %s) succeeded at %s, a point of no return", vm, kind, r.StepID, r.Time.UTC().Format(time.RFC3339)))
	}
	addrs := make([]string, 0, len(live))
	for addr := range live {
		addrs = append(addrs, addr)
	}
	sort.Strings(addrs)
	for _, addr := range addrs {
		if seen[addr] || !keep(addr) {
			continue
		}
		if st, err := planner.StageOf(live[addr]); err == nil && (st == planner.LiveCommitted || st == planner.LiveCompleted) {
			state := ""
			if it := live[addr].Item; it != nil {
				state = " (protection state " + it.ProtectionState + ")"
			}
			out = append(out, fmt.Sprintf("%s: ASR reports the failover %s%s, a point of no return", addr, st, state))
		}
	}
	return out
}

func writeNotes(w io.Writer, notes []string) {
	if len(notes) == 0 {
		return
	}
	fmt.Fprintln(w, "\nWhat rollback cannot do:")
	for _, n := range notes {
		fmt.Fprintf(w, "  - %s\n", n)
	}
}

// lastApplied finds the last forward plan in the journal and the steps of
// it that succeeded, in order, with their before-images.
func lastApplied(records []journal.Record, toStep string) (string, []planner.Applied, error) {
	planID := ""
	for _, r := range records {
		if r.Kind == journal.StepSucceeded && !planner.IsUndo(r.StepID) {
			planID = r.PlanID
		}
	}
	if planID == "" {
		return "", nil, fmt.Errorf("the journal holds no applied step to roll back")
	}
	before := map[string][]byte{}
	var applied []planner.Applied
	seen := map[string]bool{}
	for _, r := range records {
		if r.PlanID != planID {
			continue
		}
		if len(r.BeforeImage) > 0 {
			// On the started record, or on its own (kind BeforeImage).
			before[r.StepID] = r.BeforeImage
		}
		switch r.Kind {
		case journal.StepSucceeded:
			if !seen[r.StepID] {
				seen[r.StepID] = true
				applied = append(applied, planner.Applied{ID: r.StepID, Before: before[r.StepID]})
			}
		}
	}
	if toStep != "" {
		for i, a := range applied {
			if a.ID == toStep {
				return planID, applied[i+1:], nil
			}
		}
		return "", nil, fmt.Errorf("step %s was not applied by the last apply", toStep)
	}
	return planID, applied, nil
}

func inversePlan(ctx context.Context, rb *schema.Runbook, sim bool, toStep string, ro rollbackOptions) (*planner.Plan, []string, error) {
	store, err := openStore(ctx, rb)
	if err != nil {
		return nil, nil, err
	}
	defer store.Close()
	rep, err := store.Replay(ctx)
	if err != nil {
		return nil, nil, err
	}
	_, applied, err := lastApplied(rep.Records, toStep)
	if err != nil {
		return nil, nil, err
	}
	keep := func(addr string) bool { return ro.selected(rb, addr) }
	var chosen []planner.Applied
	for _, a := range applied {
		if vm, _ := planner.SplitStepID(a.ID); keep(vm) {
			chosen = append(chosen, a)
		}
	}
	if len(chosen) == 0 && len(ro.targets) > 0 {
		return nil, nil, fmt.Errorf("the last apply changed none of the VMs named by --target")
	}
	applied = chosen
	s, err := connect(ctx, rb, sim)
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	snap, _, err := planner.Refresh(ctx, rb, s.sources)
	if err != nil {
		return nil, nil, err
	}
	touched := map[string]planner.Live{}
	for _, a := range applied {
		vm, _ := planner.SplitStepID(a.ID)
		if l, ok := snap.Live[vm]; ok {
			touched[vm] = l
		}
	}
	if past := pastNoReturn(rep.Records, touched, keep); len(past) > 0 {
		return nil, nil, fmt.Errorf("rollback refused: a committed failover cannot be rolled back:\n  - %s\nRoll back the other VMs with --target", strings.Join(past, "\n  - "))
	}
	p, notes := planner.Inverse(rb, applied, snap.Live, planner.Options{Now: time.Now(), ToolVersion: currentVersion().Version, ResetReplication: ro.reset})
	p.Simulated = sim

	// Planned against live state: what was undone by hand is left out.
	runner, err := action.NewRunner(action.Env{Runbook: rb, VCenters: s.vcenters, Azures: s.azures, Refresh: snap})
	if err != nil {
		return nil, nil, err
	}
	defer runner.Close()
	dropped := map[string]bool{}
	var kept []planner.Step
	for _, st := range p.Steps {
		if done, err := runner.Done(ctx, st); err == nil && done {
			dropped[st.ID] = true
			notes = append(notes, fmt.Sprintf("%s: already undone (live state shows it), skipped", st.ID))
			continue
		}
		kept = append(kept, st)
	}
	for i := range kept {
		var deps []string
		for _, d := range kept[i].DependsOn {
			if !dropped[d] {
				deps = append(deps, d)
			}
		}
		kept[i].DependsOn = deps
	}
	p.Steps = kept
	return p, notes, nil
}
