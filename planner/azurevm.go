package planner

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"cutover/providers/azure"
)

// LiveAzureVM is an Azure VM a failover or a test failover created, as
// Microsoft.Compute reports it: the live evidence that a VM runs in Azure.
type LiveAzureVM struct {
	Name            string `json:"name"`
	ResourceGroupID string `json:"resource_group_id"`
	// Test marks the VM of a test failover.
	Test   bool `json:"test,omitempty"`
	Exists bool `json:"exists"`
	// PowerState is the instance view's PowerState (running, deallocated,
	// ...); empty when unknown.
	PowerState string `json:"power_state,omitempty"`
	VMID       string `json:"vm_id,omitempty"`
	// Error is why the VM could not be read; the other fields are then
	// unknown.
	Error string `json:"error,omitempty"`
}

// Off reports whether the VM is known not to run: absent, stopped or
// deallocated. An unreadable VM is not off.
func (v *LiveAzureVM) Off() bool {
	if v == nil || v.Error != "" {
		return false
	}
	return !v.Exists || v.PowerState == azure.PowerStopped || v.PowerState == azure.PowerDeallocated
}

// String is "<name>: <state>" for views.
func (v *LiveAzureVM) String() string {
	state := "absent"
	switch {
	case v.Error != "":
		state = "unreadable: " + v.Error
	case v.Exists && v.PowerState == "":
		state = "unknown power state"
	case v.Exists:
		state = v.PowerState
	}
	s := v.Name + ": " + state
	if v.Test {
		s += " (test failover VM)"
	}
	return s
}

// AzureVMReader reads one Azure VM with its power state. A vault
// connection that offers it lets Refresh read the VMs failovers created;
// one that does not (a test double) leaves them unread.
type AzureVMReader interface {
	GetAzureVM(ctx context.Context, resourceGroupID, name string) (azure.AzureVM, error)
}

var _ AzureVMReader = (*azure.Client)(nil)

// azureVMReads bounds the concurrent VM reads of one refresh: one GET per
// failed-over VM, far below ARM's read budget.
const azureVMReads = 8

// readAzureVMs reads, for every VM whose item is past a failover or in a
// test failover, the Azure VM it created: the target VM (targetVmName in
// targetResourceGroupId) after an unplanned failover, the test VM while a
// test failover awaits cleanup.
func readAzureVMs(ctx context.Context, snap *Snapshot, src Sources, targetOf func(addr string) string) {
	type read struct {
		addr string
		test bool
		vm   LiveAzureVM
		r    AzureVMReader
	}
	var reads []*read
	for addr, l := range snap.Live {
		if l.Item == nil {
			continue
		}
		r, ok := src.Azures[targetOf(addr)].(AzureVMReader)
		if !ok {
			continue
		}
		st, err := StageOf(l)
		name, rg := l.Item.Settings["name"], l.Item.Settings["resource_group"]
		if name == "" || rg == "" {
			continue
		}
		switch {
		case err == nil && st == LiveTesting:
			reads = append(reads, &read{addr: addr, test: true, r: r, vm: LiveAzureVM{Name: azure.TestVMName(name), ResourceGroupID: rg, Test: true}})
		case err == nil && (st == LiveFailedOver || st == LiveCommitted), failedOver(l.Item):
			reads = append(reads, &read{addr: addr, r: r, vm: LiveAzureVM{Name: name, ResourceGroupID: rg}})
		}
	}
	sem := make(chan struct{}, azureVMReads)
	var wg sync.WaitGroup
	for _, rd := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			v, err := rd.r.GetAzureVM(ctx, rd.vm.ResourceGroupID, rd.vm.Name)
			if err != nil {
				rd.vm.Error = err.Error()
				return
			}
			rd.vm.Exists, rd.vm.PowerState, rd.vm.VMID = v.Exists, v.PowerState, v.VMID
		}()
	}
	wg.Wait()
	for _, rd := range reads {
		l := snap.Live[rd.addr]
		vm := rd.vm
		if rd.test {
			l.TestVM = &vm
		} else {
			l.AzureVM = &vm
		}
		snap.Live[rd.addr] = l
	}
}

// failedOver reports an item that ASR shows as failed over and not yet
// committed, from what it allows rather than from state names: Commit is
// offered only then.
func failedOver(it *LiveItem) bool {
	return it != nil && it.Allows("Commit")
}

// AzureVMs lists the Azure VMs read for l, target first.
func (l Live) AzureVMs() []LiveAzureVM {
	var out []LiveAzureVM
	if l.AzureVM != nil {
		out = append(out, *l.AzureVM)
	}
	if l.TestVM != nil {
		out = append(out, *l.TestVM)
	}
	return out
}

// RolledBackInPlace reports a VM whose failover could not be cancelled and
// was backed out instead: the item is still failed over, the Azure VM does
// not run and the source does. Migrating it again needs replication
// disabled and enabled again.
func RolledBackInPlace(l Live) bool {
	if l.Item == nil || l.Source == nil || !failedOver(l.Item) || l.Item.Allows("CancelFailover") {
		return false
	}
	return l.AzureVM != nil && l.AzureVM.Off() && strings.EqualFold(l.Source.PowerState, "poweredOn")
}

// ReprotectNote is the warning a VM rolled back in place carries in plans
// and status.
func ReprotectNote(l Live) string {
	name := ""
	if l.AzureVM != nil {
		name = " " + l.AzureVM.Name
	}
	return fmt.Sprintf("the failover was backed out without cancelling it (ASR does not offer CancelFailover): the item stays failed over and the Azure VM%s stays deallocated; migrating this VM again needs replication disabled and enabled again, a full initial replication (cutover rollback --reset-replication plans the disable)", name)
}
