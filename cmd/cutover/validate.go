package main

import (
	"encoding/json"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"cutover/schema"
)

// validateResult is the JSON output of validate.
type validateResult struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Runbook       *runbookSummary  `json:"runbook,omitempty"`
	Diagnostics   []jsonDiagnostic `json:"diagnostics"`
}

// runbookSummary counts what a valid runbook declares. It holds no values:
// only names and counts reach the output.
type runbookSummary struct {
	Name     string `json:"name"`
	Hash     string `json:"hash"`
	VCenters int    `json:"vcenters"`
	Azures   int    `json:"azures"`
	Windows  int    `json:"windows"`
	VMs      int    `json:"vms"`
}

func newValidateCommand(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Check a runbook directory without contacting vCenter or Azure",
		Long: `Validate decodes every *.hcl file in DIR (default: the current directory)
and reports every problem at once, each with file, line, column and a
source snippet. It reads no live state and needs no credentials.

Exit status: 0 valid (warnings allowed), 1 invalid.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rb, diags := loadDir(g, runbookDir(args))
			if !diags.HasErrors() {
				diags = append(diags, schema.RequireVMs(rb)...)
			}
			var files map[string]*hcl.File
			if rb != nil {
				files = rb.Files
			}
			errs, warns := countDiagnostics(diags)
			if asJSON {
				res := validateResult{
					FormatVersion: "1",
					Valid:         errs == 0,
					ErrorCount:    errs,
					WarningCount:  warns,
					Diagnostics:   toJSONDiagnostics(files, diags),
				}
				if errs == 0 && rb != nil {
					res.Runbook = &runbookSummary{
						Name: rb.Name, Hash: rb.Hash, VMs: len(rb.VMs),
						VCenters: len(rb.VCenters), Azures: len(rb.Azures), Windows: len(rb.Windows),
					}
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else {
				writeDiagnostics(cmd.ErrOrStderr(), files, diags, g.noColor)
				if errs == 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "Success! The runbook %q is valid: %s, %s, %s, %s.\n",
						rb.Name, count(len(rb.VMs), "VM", "VMs"), count(len(rb.VCenters), "vCenter", "vCenters"),
						count(len(rb.Azures), "vault", "vaults"), count(len(rb.Windows), "window", "windows"))
				}
			}
			if errs > 0 {
				if !asJSON {
					fmt.Fprintf(cmd.ErrOrStderr(), "The runbook is invalid: %s, %s.\n", count(errs, "error", "errors"), count(warns, "warning", "warnings"))
				}
				return exitCodeError{exitError}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func countDiagnostics(diags hcl.Diagnostics) (errs, warns int) {
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}
