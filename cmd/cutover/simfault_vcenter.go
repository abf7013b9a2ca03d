package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"cutover/planner"
	"cutover/providers/simworld"
	"cutover/providers/vcenter/vcentersim"
	"cutover/schema"
)

// simVCenterMethods maps the plan's vCenter steps to the vSphere methods
// each may call (executor/action/source.go and providers/vcenter): a guest
// shutdown falls back to a power-off when the guest refuses, a move is a
// RelocateVM_Task or a MigrateVM_Task as the plan chose, and a rehearsal
// clone is powered off before it is destroyed. One armed fault covers the
// step's methods with one count.
var simVCenterMethods = map[planner.StepKind][]string{
	planner.StepShutdown:           {"ShutdownGuest", "PowerOffVM_Task"},
	planner.StepPowerOn:            {"PowerOnVM_Task"},
	planner.StepRelocate:           {"RelocateVM_Task", "MigrateVM_Task"},
	planner.StepSnapshot:           {"CreateSnapshot_Task"},
	planner.StepRemoveSnapshot:     {"RemoveSnapshot_Task"},
	planner.StepCloneRehearsal:     {"CloneVM_Task"},
	planner.StepDestroyClone:       {"Destroy_Task", "PowerOffVM_Task"},
	planner.StepMakeFTPrimary:      {"MakePrimaryVM_Task"},
	planner.StepCustomizeRehearsal: {"CustomizeGuest_Task"},
}

// onClone lists the steps whose calls are made on the rehearsal clone, not
// on the VM itself.
var onClone = map[planner.StepKind]bool{planner.StepDestroyClone: true, planner.StepCustomizeRehearsal: true}

// vcenterFault builds the fault that makes step of vm fail with code: the
// step's methods that can raise code, on the VM or its rehearsal clone.
func vcenterFault(vm *schema.VM, step planner.StepKind, code string, times int) (vcentersim.ArmedFault, error) {
	all, ok := simVCenterMethods[step]
	if !ok {
		return vcentersim.ArmedFault{}, fmt.Errorf("--step %q is not a vCenter step", step)
	}
	var methods, codes []string
	for _, m := range all {
		can := vcentersim.FaultCodes(m)
		codes = append(codes, can...)
		if slices.Contains(can, code) {
			methods = append(methods, m)
		}
	}
	if len(methods) == 0 {
		slices.Sort(codes)
		return vcentersim.ArmedFault{}, fmt.Errorf("--code %q: %s (%s) does not raise it; use %s", code, step, strings.Join(all, ", "), vcentersim.JoinOr(slices.Compact(codes)))
	}
	name := sourceName(vm)
	if onClone[step] {
		if vm.Rehearsal == nil || vm.Rehearsal.Name == "" {
			return vcentersim.ArmedFault{}, fmt.Errorf("--step %s: %s has no rehearsal block, so no clone to fail", step, vm.Address)
		}
		name = vm.Rehearsal.Name
	}
	return vcentersim.ArmedFault{VM: name, Step: string(step), Methods: methods, Code: code, Times: times}, nil
}

// vcenterFaultNames are the vCenter names a VM's faults may be armed on.
func vcenterFaultNames(vm *schema.VM) []string {
	names := []string{sourceName(vm)}
	if vm.Rehearsal != nil && vm.Rehearsal.Name != "" {
		names = append(names, vm.Rehearsal.Name)
	}
	return names
}

func simVCenterSteps() []string {
	var out []string
	for k := range simVCenterMethods {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}

// vcenterFaultFile is the fault file of the runbook's simulated vCenter.
func vcenterFaultFile(rb *schema.Runbook) string { return simworld.VCenterFaultFile(simDir(rb)) }
