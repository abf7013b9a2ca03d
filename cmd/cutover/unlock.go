package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"cutover/executor/journal"
)

func newForceUnlockCommand(g *globals) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "force-unlock LOCK_ID [DIR]",
		Short: "Release the state lock an interrupted apply left behind",
		Long: `Force-unlock removes the state lock of the runbook in DIR (default: the
current directory) when the apply that took it can no longer release it,
for example a CI runner that was killed. The lock ID is printed in the
error of the apply that was refused; quoting it makes sure the lock you
remove is the one you looked at.

Only do this when the holder is gone: two applies at once can repeat steps.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 2 {
				dir = args[1]
			}
			store, err := unlockStore(cmd, g, dir)
			if err != nil {
				return err
			}
			defer store.Close()
			held, err := store.CurrentLock(cmd.Context())
			if err != nil {
				return err
			}
			if held == nil {
				return fmt.Errorf("the state in %s is not locked", dir)
			}
			if err := store.ForceUnlock(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Released the lock %s.\n", held)
			return nil
		},
	}
	dir = "."
	return cmd
}

// unlockStore opens the runbook's state store. Without a runbook that
// decodes (say, a variable is missing) it falls back to the local backend
// in DIR/.cutover, where most locks live.
func unlockStore(cmd *cobra.Command, g *globals, dir string) (journal.Store, error) {
	if rb, diags := loadDir(g, dir); !diags.HasErrors() {
		return openStore(cmd.Context(), rb)
	}
	return journal.OpenFile(filepath.Join(dir, journal.DefaultDir), "state")
}
