package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"cutover/planner"
	"cutover/providers/azure/azuresim"
	"cutover/providers/simworld"
	"cutover/providers/vcenter/vcentersim"
	"cutover/schema"
)

// simFaultOps maps the plan's Azure steps to the simulator's operation
// names (azuresim.Fault.Operation). wait_protected sends no request.
var simFaultOps = map[planner.StepKind]string{
	planner.StepEnableReplication:  "create",
	planner.StepUpdateReplication:  "update",
	planner.StepTestFailover:       "testFailover",
	planner.StepTestCleanup:        "testFailoverCleanup",
	planner.StepUnplannedFailover:  "unplannedFailover",
	planner.StepFailoverCancel:     "failoverCancel",
	planner.StepFailoverCommit:     "failoverCommit",
	planner.StepCompleteMigration:  "remove",
	planner.StepDisableReplication: "remove",
}

// newSimFaultCommand is how a team rehearses a bad night: it arms a fault
// for one VM and step in the simulated vault, so that apply --sim shows
// the failure panel and resume and rollback can be practised. The rules
// live in the simulator's own state (azuresim fault rules), so a fault
// added while an apply runs is met by that apply.
func newSimFaultCommand(g *globals) *cobra.Command {
	fault := &cobra.Command{
		Use:   "fault",
		Short: "Make a step fail in the simulated world, to rehearse failures",
		Long: `Fault arms, lists and clears fault rules in the simulated Azure vaults of
the runbook's --sim world (DIR/.cutover/sim). A rule makes the request of
one step for one VM fail the way ASR reports it: by default the request is
accepted and its job fails with --code and --message; with --http-status
the request itself is refused with that status. A rule hits --times
requests (0: every one) and then disarms.

Azure steps: ` + strings.Join(simFaultSteps(), ", ") + `.

Steps that vCenter runs can be made to fail too: the simulated vCenter
answers the step's vSphere call for that VM (or its rehearsal clone) with
the vSphere fault --code, as vCenter does, with vCenter's message:
` + strings.Join(simVCenterSteps(), ", ") + `.
Codes: TaskInProgress (transient: cutover retries it, so --times 1 shows a
retry that succeeds), InvalidState, InvalidPowerState, ToolsUnavailable
(guest shutdown only; cutover then powers the VM off) and
InsufficientResourcesFault (power_on, relocate, clone_rehearsal). A rule
covers every call the step may make (a guest shutdown and its fallback
power-off share one count); --message and --http-status are for Azure
steps only.`,
	}
	var (
		vm, step, code, message string
		times, status           int
	)
	add := &cobra.Command{
		Use:   "add [DIR]",
		Short: "Arm a fault for a VM and step",
		Example: `  cutover sim fault add examples/quickstart --vm app01 --step test_failover --code InternalError
  cutover apply examples/quickstart --sim --auto-approve    # fails app01's test failover
  cutover sim fault clear examples/quickstart`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rb, err := loadRunbook(g, cmd.ErrOrStderr(), runbookDir(args))
			if err != nil {
				return err
			}
			op, ok := simFaultOps[planner.StepKind(step)]
			_, onVCenter := simVCenterMethods[planner.StepKind(step)]
			if !ok && !onVCenter {
				return usageError{fmt.Errorf("--step %q: faults can be armed for %s", step, strings.Join(append(simFaultSteps(), simVCenterSteps()...), ", "))}
			}
			target, err := faultVM(rb, vm)
			if err != nil {
				return usageError{err}
			}
			if times < 0 {
				return usageError{fmt.Errorf("--times must be 0 (every request) or more")}
			}
			if onVCenter {
				return addVCenterFault(cmd, rb, target, planner.StepKind(step), code, times)
			}
			sim, err := openSimVault(rb, target.Target.Azure)
			if err != nil {
				return err
			}
			f := azuresim.Fault{Operation: op, VM: sourceName(target), Code: code, Message: message, Times: times, Status: status, Async: status == 0}
			if err := sim.AddRule(f); err != nil {
				return err
			}
			how := "its job fails"
			if !f.Async {
				how = fmt.Sprintf("it is refused with HTTP %d", status)
			}
			n := "every request"
			if times > 0 {
				n = count(times, "request", "requests")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Armed: %s of %s fails with %s (%s: %s), for %s.\nThe next apply --sim meets it; clear it with: cutover sim fault clear %s\n",
				step, target.Address, code, how, message, n, shellQuote(rb.Dir))
			return nil
		},
	}
	add.Flags().StringVar(&vm, "vm", "", "the VM: its runbook address (vm.app01) or its vCenter name (app01)")
	add.Flags().StringVar(&step, "step", "", "the step that fails, such as test_failover or shutdown")
	add.Flags().StringVar(&code, "code", "InternalError", "the error code the service reports (a vSphere fault name for vCenter steps, such as InvalidState)")
	add.Flags().StringVar(&message, "message", "An internal error occurred. Please retry the operation. (Injected by cutover sim fault.)", "the service's error message")
	add.Flags().IntVar(&times, "times", 1, "how many requests the fault hits (0: every one)")
	add.Flags().IntVar(&status, "http-status", 0, "refuse the request itself with this HTTP status instead of failing its job")
	_ = add.MarkFlagRequired("vm")
	_ = add.MarkFlagRequired("step")

	list := &cobra.Command{
		Use:   "list [DIR]",
		Short: "List the armed faults",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rb, err := loadRunbook(g, cmd.ErrOrStderr(), runbookDir(args))
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			rows := 0
			for _, az := range rb.Azures {
				sim, err := openSimVault(rb, az.Name)
				if err != nil {
					return err
				}
				rules, err := sim.Rules()
				if err != nil {
					return err
				}
				for _, r := range rules {
					if rows == 0 {
						fmt.Fprintln(tw, "VAULT\tVM\tSTEP\tCODE\tFAILS\tREQUESTS LEFT")
					}
					rows++
					how, left := "job", "every"
					if !r.Async {
						how = fmt.Sprintf("HTTP %d", r.Status)
					}
					if r.Times > 0 {
						left = fmt.Sprint(r.Times)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", az.Name, dash(r.VM), stepsOfOp(r.Operation), r.Code, how, left)
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			vc, err := vcentersim.ArmedFaults(vcenterFaultFile(rb))
			if err != nil {
				return err
			}
			if len(vc) > 0 {
				if rows > 0 {
					fmt.Fprintln(cmd.OutOrStdout())
				}
				fmt.Fprintln(tw, "VCENTER VM\tSTEP\tCODE\tMETHODS\tCALLS LEFT")
				for _, f := range vc {
					left := "every"
					if f.Times > 0 {
						left = fmt.Sprint(f.Times)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.VM, dash(f.Step), f.Code, strings.Join(f.Methods, "/"), left)
				}
			}
			if rows == 0 && len(vc) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "No faults are armed.")
			}
			return tw.Flush()
		},
	}
	clear := &cobra.Command{
		Use:   "clear [DIR]",
		Short: "Disarm the faults (of one VM with --vm)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rb, err := loadRunbook(g, cmd.ErrOrStderr(), runbookDir(args))
			if err != nil {
				return err
			}
			name := ""
			var vcNames []string
			if vm != "" {
				target, err := faultVM(rb, vm)
				if err != nil {
					return usageError{err}
				}
				name = sourceName(target)
				vcNames = vcenterFaultNames(target)
			}
			total, err := vcentersim.ClearArmedFaults(vcenterFaultFile(rb), vcNames...)
			if err != nil {
				return err
			}
			for _, az := range rb.Azures {
				sim, err := openSimVault(rb, az.Name)
				if err != nil {
					return err
				}
				n, err := sim.ClearRules(name)
				if err != nil {
					return err
				}
				total += n
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Cleared %s.\n", count(total, "fault", "faults"))
			return nil
		},
	}
	clear.Flags().StringVar(&vm, "vm", "", "clear only this VM's faults")
	fault.AddCommand(add, list, clear)
	return fault
}

func simFaultSteps() []string {
	var out []string
	for k := range simFaultOps {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}

func stepsOfOp(op string) string {
	var out []string
	for _, k := range simFaultSteps() {
		if strings.EqualFold(simFaultOps[planner.StepKind(k)], op) {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return op
	}
	return strings.Join(out, "/")
}

// faultVM finds the runbook VM by address or vCenter name.
func faultVM(rb *schema.Runbook, name string) (*schema.VM, error) {
	var names []string
	for _, vm := range rb.VMs {
		if vm.Address == name || sourceName(vm) == name || "vm."+name == vm.Address {
			return vm, nil
		}
		names = append(names, vm.Address)
	}
	msg := fmt.Sprintf("--vm %q: no VM of the runbook has that address or vCenter name", name)
	if s := schema.Suggest(name, names); s != "" {
		msg += "; did you mean " + s + "?"
	} else if s := schema.Suggest("vm."+name, names); s != "" {
		msg += "; did you mean " + s + "?"
	}
	return nil, fmt.Errorf("%s", msg)
}

// sourceName is the VM's name in vCenter, which the simulated vault knows
// as the discovered machine's display name.
func sourceName(vm *schema.VM) string {
	if vm.Source.Name != "" {
		return vm.Source.Name
	}
	return strings.TrimPrefix(vm.Address, "vm.")
}

// openSimVault opens the simulated vault of one azure block on its state
// file, shared with any process serving or applying the world.
func openSimVault(rb *schema.Runbook, azure string) (*azuresim.Sim, error) {
	var az *schema.Azure
	for _, a := range rb.Azures {
		if a.Name == azure {
			az = a
		}
	}
	if az == nil {
		return nil, fmt.Errorf("the runbook has no azure %q", azure)
	}
	seed, err := simworld.AzureSeed(rb, az)
	if err != nil {
		return nil, err
	}
	dir := simDir(rb)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return azuresim.New(seed, azuresim.Options{TimeScale: simTimeScale(), StateFile: filepath.Join(dir, "azure-"+az.Name+".json")})
}

// addVCenterFault arms a fault for a vCenter step in the world's vCenter
// fault file, which the simulated vCenter of every process reads.
func addVCenterFault(cmd *cobra.Command, rb *schema.Runbook, target *schema.VM, step planner.StepKind, code string, times int) error {
	for _, flag := range []string{"message", "http-status"} {
		if cmd.Flags().Changed(flag) {
			return usageError{fmt.Errorf("--%s is for Azure steps: the simulated vCenter answers %s with the vSphere fault's own message", flag, step)}
		}
	}
	if !cmd.Flags().Changed("code") {
		return usageError{fmt.Errorf("--code is required for a vCenter step: a vSphere fault such as InvalidState or TaskInProgress")}
	}
	f, err := vcenterFault(target, step, code, times)
	if err != nil {
		return usageError{err}
	}
	if err := vcentersim.AddArmedFault(vcenterFaultFile(rb), f); err != nil {
		return err
	}
	n := "every call"
	if times > 0 {
		n = count(times, "call", "calls")
	}
	on := target.Address
	if f.VM != sourceName(target) {
		on = fmt.Sprintf("%s (on its clone %s)", target.Address, f.VM)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Armed: %s of %s fails with %s (vCenter answers %s with the fault), for %s.\n", step, on, code, strings.Join(f.Methods, " or "), n)
	if code == "TaskInProgress" {
		fmt.Fprintln(cmd.OutOrStdout(), "TaskInProgress is transient: cutover retries the call, so the step fails only if every retry meets it (--times 0).")
	}
	fmt.Fprintf(cmd.OutOrStdout(), "The next apply --sim meets it; clear it with: cutover sim fault clear %s\n", shellQuote(rb.Dir))
	return nil
}
