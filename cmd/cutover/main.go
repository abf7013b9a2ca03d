package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command.
const (
	exitOK    = 0
	exitError = 1 // the command ran and found a problem (invalid runbook, failed step)
	// exitUsage is a mistake on the command line. It is 1, not 2 as cobra
	// and many tools use, because plan --detailed-exitcode gives 2 the
	// meaning "changes present": a CI job that reads 2 as "there is a plan
	// to review" must not take a typo for one.
	exitUsage = 1
)

// exitCodeError carries a specific exit code out of a cobra command; the
// message, if any, has already been rendered.
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	stop := startProfile(os.Stderr)
	code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line and returns the process exit code. Tests
// call it directly.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globals{}
	root := newRootCommand(g, stdin, stdout, stderr)
	root.SetArgs(terraformFlags(root, args))
	err := root.Execute()
	var ec exitCodeError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ec):
		return ec.code
	default:
		fmt.Fprintf(stderr, "Error: %s\n", safeText(err.Error()))
		if isUsageError(err) || strings.HasPrefix(err.Error(), "unknown command") {
			fmt.Fprintf(stderr, "Run 'cutover --help' for usage.\n")
			return exitUsage
		}
		return exitError
	}
}

// usageError marks mistakes on the command line; run turns it into exit
// status exitUsage after printing it with a pointer to --help. Commands
// return usageError{err} (or usagef) for any argument they refuse before
// doing work, so that every command answers a bad command line alike.
type usageError struct{ err error }

// usagef is a usageError with a formatted message.
func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func isUsageError(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

func newRootCommand(g *globals, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "cutover",
		Short: "Plan and apply VMware-to-Azure migrations with Azure Site Recovery",
		Long: `cutover moves VMware vCenter VMs to Azure with Azure Site Recovery
(agent-based replication, the InMageRcm provider behind Azure Migrate).

Runbooks are HCL files that declare which VMs move, where they land and how
they replicate. 'cutover plan' diffs a runbook against live vCenter and Azure
state; 'cutover apply' executes the plan with durable checkpoints.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if g.chdir != "" {
				if err := os.Chdir(g.chdir); err != nil {
					return usageError{fmt.Errorf("--chdir: %w", err)}
				}
			}
			return nil
		},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{twoDashHint(err)} })
	g.register(root)

	root.AddCommand(
		newValidateCommand(g),
		newFmtCommand(g),
		newVersionCommand(),
		newPlanCommand(g),
		newShowCommand(g),
		newStatusCommand(g),
		newApplyCommand(g, stdin),
		newGraphCommand(g),
		newForceUnlockCommand(g),
		newRollbackCommand(g),
		newSimCommand(g),
		newImportCommand(g),
	)
	usageArgs(root)
	return root
}
