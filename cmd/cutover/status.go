package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"cutover/planner"
	"cutover/schema"
)

// vmStatus is one row of cutover status.
type vmStatus struct {
	VM         string `json:"vm"`
	Live       string `json:"live"`
	Desired    string `json:"desired"`
	Health     string `json:"health,omitempty"`
	Progress   string `json:"progress,omitempty"`
	RPO        string `json:"rpo,omitempty"`
	PowerState string `json:"power_state,omitempty"`
	NextApply  string `json:"next_apply"`
	Problem    string `json:"problem,omitempty"`
	// Warnings are what the runbook asks that no step can do (see plan).
	Warnings []string `json:"warnings,omitempty"`
	// AzureVMs are the Azure VMs a failover or test failover of the VM
	// created, read live (see planner.LiveAzureVM).
	AzureVMs []planner.LiveAzureVM `json:"azure_vms,omitempty"`
	// backedOut is the warning of a VM backed out of its failover without
	// a cancel (also in Warnings), which the table spells out.
	backedOut string
}

func newStatusCommand(g *globals) *cobra.Command {
	var (
		sim    bool
		asJSON bool
		watch  bool
		every  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "status [DIR]",
		Short: "Show the live stage of every runbook VM and what the next apply would do",
		Long: `Status reads live state and shows each VM's stage and what the next apply
would do. While an apply (or a rollback) holds the state lock, it says so
first: who runs it, where, since when and how far it is.

--watch follows an apply that another process (or a CI runner) is running,
read from the state backend's lock and journal: the same view apply shows
on a terminal (a progress line every --every otherwise), until that apply
ends. The journal does not record waits, so a step waiting for its gate or
window shows as running.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rb, err := loadRunbook(g, cmd.ErrOrStderr(), runbookDir(args))
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			store, err := openStore(ctx, rb)
			if err != nil {
				return err
			}
			defer store.Close()
			if watch {
				return watchApply(ctx, cmd.OutOrStdout(), rb, store, !g.noColor && isTerminal(cmd.OutOrStdout()), every)
			}
			if ra, err := readRunningApply(ctx, store, rb); err != nil {
				return err
			} else if ra != nil {
				say := cmd.OutOrStdout()
				if asJSON {
					say = cmd.ErrOrStderr()
				}
				fmt.Fprintf(say, "%s\n\n", ra.summary(rb.Dir))
			}
			rows, err := statusRows(ctx, rb, sim)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VM\tLIVE\tDESIRED\tHEALTH\tPROGRESS\tRPO\tSOURCE\tAZURE VM\tNEXT APPLY")
			for _, r := range rows {
				next := r.NextApply
				if r.Problem != "" {
					next = "cannot plan: " + r.Problem
				}
				if n := len(r.Warnings); n > 0 {
					word := "warnings"
					if n == 1 {
						word = "warning"
					}
					next += fmt.Sprintf(" (%d %s: see plan)", n, word)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.VM, r.Live, r.Desired, dash(r.Health), dash(r.Progress), dash(r.RPO), dash(r.PowerState), dash(azureVMCell(r.AzureVMs)), next)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			// A VM backed out of its failover without a cancel is the one
			// warning status spells out: the next step is a decision, not
			// something the next apply does.
			for _, r := range rows {
				if r.backedOut != "" {
					fmt.Fprintf(out, "\n%s: %s\n", r.VM, r.backedOut)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&sim, "sim", false, "read the simulated world in DIR/.cutover/sim")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	cmd.Flags().BoolVar(&watch, "watch", false, "follow the apply another process is running, until it ends")
	cmd.Flags().DurationVar(&every, "every", 2*time.Second, "with --watch, how often to read the journal")
	return cmd
}

// azureVMCell is "name: state" for each Azure VM, test VMs marked.
func azureVMCell(vms []planner.LiveAzureVM) string {
	var parts []string
	for _, v := range vms {
		parts = append(parts, v.String())
	}
	return strings.Join(parts, "; ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// statusRows refreshes and plans every VM, one row each; a VM that cannot
// be planned still gets a row saying why.
func statusRows(ctx context.Context, rb *schema.Runbook, sim bool) ([]vmStatus, error) {
	s, err := connect(ctx, rb, sim)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	snap, problems, err := planner.Refresh(ctx, rb, s.sources)
	if err != nil {
		return nil, err
	}
	if err := markCompleted(ctx, rb, snap); err != nil {
		return nil, err
	}
	p, more := planner.Build(rb, snap.Live, planner.Options{Now: time.Now()})
	problems = append(problems, more...)
	why := map[string]string{}
	for _, pr := range problems {
		why[pr.VM] = pr.Reason
	}
	warnings := map[string][]string{}
	for _, vp := range p.VMs {
		warnings[vp.Address] = vp.Warnings
	}
	next := map[string][]string{}
	for _, st := range p.Steps {
		next[st.VM] = append(next[st.VM], string(st.Kind))
	}
	var rows []vmStatus
	for _, vm := range rb.VMs {
		r := vmStatus{VM: vm.Address, Desired: string(vm.Stage), Problem: why[vm.Address], NextApply: "nothing", Warnings: warnings[vm.Address]}
		if steps := next[vm.Address]; len(steps) > 0 {
			r.NextApply = strings.Join(steps, ", ")
		}
		if l, ok := snap.Live[vm.Address]; ok {
			r.AzureVMs = l.AzureVMs()
			if planner.RolledBackInPlace(l) {
				r.backedOut = planner.ReprotectNote(l)
			}
			if st, err := planner.StageOf(l); err == nil {
				r.Live = st.String()
			} else {
				r.Live = "unsettled"
			}
			if l.Source != nil {
				r.PowerState = l.Source.PowerState
			}
			if it := l.Item; it != nil {
				r.Health = it.ReplicationHealth
				if it.InitialReplicationPercent != nil && *it.InitialReplicationPercent < 100 {
					r.Progress = fmt.Sprintf("%d%% initial replication", *it.InitialReplicationPercent)
				}
				if it.LastRPO > 0 {
					r.RPO = it.LastRPO.String()
				}
			}
		} else {
			r.Live = "not found"
		}
		rows = append(rows, r)
	}
	return rows, nil
}
