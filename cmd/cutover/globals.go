package main

import (
	"errors"
	"os"

	"github.com/spf13/cobra"

	"cutover/schema"
	"cutover/window"
)

// globals are the flags every command accepts.
type globals struct {
	vars     []string
	varFiles []string
	chdir    string
	noColor  bool
}

func (g *globals) register(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringArrayVar(&g.vars, "var", nil, "set a runbook variable, NAME=VALUE (repeatable; CUTOVER_VAR_NAME works too)")
	f.StringArrayVar(&g.varFiles, "var-file", nil, "read runbook variables from an HCL or JSON file (repeatable)")
	f.StringVar(&g.chdir, "chdir", "", "switch to this directory before doing anything else")
	f.BoolVar(&g.noColor, "no-color", false, "never colour the output")
}

// loadOptions are the schema options every runbook-reading command uses.
func (g *globals) loadOptions() schema.Options {
	return schema.Options{
		Vars:          g.vars,
		VarFiles:      g.varFiles,
		LookupEnv:     os.LookupEnv,
		CheckSchedule: checkSchedule,
	}
}

// checkSchedule checks a window's schedule with the same parser the
// executor uses to open and close windows.
func checkSchedule(s string) error {
	_, err := window.Parse(s, "1h", "")
	var we *window.Error
	if errors.As(err, &we) {
		return we.Err
	}
	return err
}

// runbookDir is the directory argument, or the current directory.
func runbookDir(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return "."
}
