package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"cutover/executor/journal"
	"cutover/planner"
	"cutover/providers/simworld"
	"cutover/schema"
)

// writeSimWorldHint explains VMs the simulated world lacks: the world is
// made once, from the runbook as it was at the first --sim command, and a
// runbook that names more VMs since (a longer CSV) meets "no VM matches".
func writeSimWorldHint(w io.Writer, rb *schema.Runbook, problems []planner.Problem) {
	missing := 0
	for _, p := range problems {
		if strings.Contains(p.Reason, "no VM matches") || strings.Contains(p.Reason, "no machine") {
			missing++
		}
	}
	if missing == 0 {
		return
	}
	fmt.Fprintf(w, "\nThe simulated world in %s was made from the runbook as it was at its first --sim command and lacks %s the runbook names now.\n"+
		"Rebuild it from the current runbook with: cutover sim reset %s\n",
		simDir(rb), count(missing, "VM", "VMs"), shellQuote(rb.Dir))
}

func newSimResetCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "reset [DIR]",
		Short: "Forget the simulated world, so the next --sim command makes it afresh from the runbook",
		Long: `Reset removes DIR/.cutover/sim: the simulated vCenter, the simulated vaults
and their armed faults. The next --sim command makes a new world from the
runbook as it is then, with every VM it names, powered on and not yet
replicating. The journal is kept; plans kept for a resume of the old world
are removed, as they no longer match anything.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rb, err := loadRunbook(g, cmd.ErrOrStderr(), runbookDir(args))
			if err != nil {
				return err
			}
			dir := simDir(rb)
			if served, err := simworld.Attach(dir); err != nil {
				return err
			} else if served != nil {
				return fmt.Errorf("the simulated world of %s is served by process %d: stop it (Ctrl-C) before resetting", rb.Dir, served.PID)
			}
			if err := lockFirst(cmd.Context(), rb); err != nil {
				return err
			}
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			_ = os.RemoveAll(filepath.Join(rb.Dir, journal.DefaultDir, "plans"))
			fmt.Fprintf(cmd.OutOrStdout(), "Removed the simulated world in %s; the next --sim command makes it afresh from the runbook.\n", dir)
			return nil
		},
	}
}
