package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// A command that is part of the design but not built yet. It says so and
// fails, rather than printing anything that could be mistaken for a result.
type notBuiltCommand struct {
	use, short string
}

var notBuilt = []notBuiltCommand{
	{"sim", "Serve the simulated vCenter and Azure world"},
}

func newNotBuiltCommand(s notBuiltCommand) *cobra.Command {
	return &cobra.Command{
		Use:                s.use,
		Short:              s.short + " (not built yet)",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.ErrOrStderr(), "cutover %s is not built yet in this version; nothing was done.\n", cmd.Name())
			return exitCodeError{exitError}
		},
	}
}
