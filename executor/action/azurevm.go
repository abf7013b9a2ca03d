package action

import (
	"context"
	"encoding/json"
	"fmt"

	"cutover/planner"
	"cutover/providers/azure"
	"cutover/schema"
)

// AzureVMBefore is the before-image of a deallocate_azure_vm step: which
// VM, as it was.
type AzureVMBefore struct {
	Name            string `json:"name"`
	ResourceGroupID string `json:"resourceGroupId"`
	Exists          bool   `json:"exists"`
	PowerState      string `json:"powerState,omitempty"`
	VMID            string `json:"vmId,omitempty"`
}

// azureVMOf names the Azure VM a step acts on or guards: the step's inputs
// (the planner wrote them from the item it read), else the item's target
// settings read now. ok is false when neither names one.
func (r *Runner) azureVMOf(ctx context.Context, step planner.Step, vm *schema.VM) (name, rg string, ok bool, err error) {
	if n, g := step.Inputs["azure_vm"], step.Inputs["azure_resource_group"]; n != "" && g != "" {
		return n, g, true, nil
	}
	t, err := r.readTarget(ctx, vm)
	if err != nil || t.item == nil || t.item.Target.VMName == "" || t.item.Target.ResourceGroupID == "" {
		return "", "", false, err
	}
	return t.item.Target.VMName, t.item.Target.ResourceGroupID, true, nil
}

func (r *Runner) azureClient(ctx context.Context, vm *schema.VM) (*azure.Client, error) {
	st, err := r.azure(ctx, vm.Target.Azure)
	if err != nil {
		return nil, err
	}
	return st.client, nil
}

// startAzureVM deallocates the step's Azure VM unless it is already
// absent or deallocated.
func (r *Runner) startAzureVM(ctx context.Context, step planner.Step, vm *schema.VM) (Started, error) {
	name, rg, ok, err := r.azureVMOf(ctx, step, vm)
	if err != nil {
		return Started{}, err
	}
	if !ok {
		return Started{}, &GateError{Reason: "no Azure VM is named: the step has no azure_vm input and the item names no target VM"}
	}
	c, err := r.azureClient(ctx, vm)
	if err != nil {
		return Started{}, err
	}
	live, err := c.GetAzureVM(ctx, rg, name)
	if err != nil {
		return Started{}, err
	}
	before, err := json.Marshal(AzureVMBefore{Name: name, ResourceGroupID: rg, Exists: live.Exists, PowerState: live.PowerState, VMID: live.VMID})
	if err != nil {
		return Started{}, err
	}
	if !live.Exists || live.PowerState == azure.PowerDeallocated {
		return Started{Before: before}, nil
	}
	h, err := c.DeallocateAzureVM(ctx, step.VM, rg, name)
	if err != nil {
		return Started{}, err
	}
	hb, err := json.Marshal(Handle{AzureVM: &h})
	return Started{Handle: hb, Before: before}, err
}

// waitAzureVM follows a deallocate to its end and then requires the
// instance view to say so: the source's power-on trusts this step.
func (r *Runner) waitAzureVM(ctx context.Context, step planner.Step, vm *schema.VM, h azure.VMHandle, progress func(Progress)) error {
	c, err := r.azureClient(ctx, vm)
	if err != nil {
		return err
	}
	v, err := c.WaitAzureVM(ctx, h, azureProgress(progress))
	if err != nil {
		return err
	}
	if v.Exists && v.PowerState != azure.PowerDeallocated {
		return fmt.Errorf("the deallocate of Azure VM %s ended, but its instance view says %s", v.Name, v.State())
	}
	return nil
}

// doneAzureVM: the VM is absent or deallocated.
func (r *Runner) doneAzureVM(ctx context.Context, step planner.Step, vm *schema.VM) (bool, error) {
	name, rg, ok, err := r.azureVMOf(ctx, step, vm)
	if err != nil || !ok {
		return false, err
	}
	c, err := r.azureClient(ctx, vm)
	if err != nil {
		return false, err
	}
	v, err := c.GetAzureVM(ctx, rg, name)
	if err != nil {
		return false, err
	}
	return !v.Exists || v.PowerState == azure.PowerDeallocated, nil
}

// TwoCopiesError refuses to power a source on while an Azure VM of the
// same server may run: two live copies share the host name and the domain
// computer account, which breaks the account for both. It is not a closed
// gate: nothing in the plan will stop that VM, so waiting cannot help.
type TwoCopiesError struct {
	VM    string
	Azure azure.AzureVM
	// Reason is set when the Azure VM could not be read.
	Reason string
}

func (e *TwoCopiesError) Error() string {
	what := fmt.Sprintf("the Azure VM %s (vmId %s) is %s", e.Azure.Name, e.Azure.VMID, e.Azure.State())
	if e.Reason != "" {
		what = fmt.Sprintf("the power state of Azure VM %s cannot be read: %s", e.Azure.Name, e.Reason)
	}
	return fmt.Sprintf("refused before sending: %s; powering the source on would run two copies of one server (same host name, same domain computer account). Deallocate the Azure VM first (a rollback plan does it in the step before this one)", what)
}

// copiesOff is the power-on gate: the Azure VM a failover of this VM
// created must be absent, stopped or deallocated, read live. One on its
// way down (stopping, deallocating) closes the gate, and the executor
// waits; one that runs, starts or cannot be read fails the step at once.
// A test failover's VM is not gated on: it runs in the isolated test
// network while the source runs, which is what a rehearsal is.
func (r *Runner) copiesOff(ctx context.Context, step planner.Step, vm *schema.VM) error {
	name, rg, ok, err := r.azureVMOf(ctx, step, vm)
	if err != nil && Transient(err) {
		return err
	}
	if !ok {
		// No Azure VM is named: the plan read none and the source has no
		// protected item (never replicated, or replication removed)
		// naming a target.
		return nil
	}
	c, err := r.azureClient(ctx, vm)
	if err != nil {
		return err
	}
	v, err := c.GetAzureVM(ctx, rg, name)
	if err != nil {
		if Transient(err) {
			return err
		}
		return &TwoCopiesError{VM: step.VM, Azure: azure.AzureVM{Name: name}, Reason: err.Error()}
	}
	switch {
	case v.Off():
		return nil
	case v.PowerState == azure.PowerDeallocating || v.PowerState == azure.PowerStopping:
		return &GateError{Gate: "the Azure VM is stopped, deallocated or absent", Reason: fmt.Sprintf("Azure VM %s is %s", v.Name, v.PowerState)}
	}
	return &TwoCopiesError{VM: step.VM, Azure: v}
}

// confirmCleanup reads the test failover's VM after a cleanup: the
// rehearsal is over only when it is gone.
func (r *Runner) confirmCleanup(ctx context.Context, vm *schema.VM, it *azure.ProtectedItem) error {
	if it == nil || it.Target.VMName == "" || it.Target.ResourceGroupID == "" {
		return nil
	}
	c, err := r.azureClient(ctx, vm)
	if err != nil {
		return err
	}
	v, err := c.TestFailoverVM(ctx, it)
	if err != nil {
		return err
	}
	if v.Exists {
		return fmt.Errorf("the test failover cleanup ended, but its Azure VM %s still exists (%s)", v.Name, v.State())
	}
	return nil
}
