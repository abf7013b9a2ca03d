package azure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"cutover/providers/azure/azuresim"
)

// failOver runs an unplanned failover of the item replicating vm-000n to
// its end and returns the item as it is afterwards.
func failOver(t *testing.T, c *Client, name string) *ProtectedItem {
	t.Helper()
	ctx := ctx(t)
	it, err := c.GetProtectedItem(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.UnplannedFailover(ctx, it, UnplannedFailoverInput{PerformShutdown: true})
	if err != nil {
		t.Fatal(err)
	}
	it, err = c.Wait(ctx, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// TestFailoverCreatesAzureVM: before a failover the target VM is absent;
// afterwards it exists, runs, has a vmId, and the list of its resource
// group names it (without a power state, which a list does not carry).
func TestFailoverCreatesAzureVM(t *testing.T) {
	t.Parallel()
	w := newWorld(t, bigSeed(2), azuresim.Options{})
	c := w.client(t)
	ctx := ctx(t)
	it, err := c.GetProtectedItem(ctx, "machine-0001")
	if err != nil {
		t.Fatal(err)
	}
	before, err := c.FailedOverVM(ctx, it)
	if err != nil {
		t.Fatal(err)
	}
	if before.Exists || !before.Off() || before.State() != "absent" {
		t.Fatalf("before failover: %+v", before)
	}
	it = failOver(t, c, "machine-0001")
	vm, err := c.FailedOverVM(ctx, it)
	if err != nil {
		t.Fatal(err)
	}
	if !vm.Exists || vm.Name != "vm-0001-az" || vm.PowerState != PowerRunning || vm.VMID == "" || vm.Off() {
		t.Fatalf("after failover: %+v", vm)
	}
	if !strings.HasSuffix(vm.ID, "/resourceGroups/target/providers/Microsoft.Compute/virtualMachines/vm-0001-az") {
		t.Errorf("id %q", vm.ID)
	}
	list, err := c.ListAzureVMs(ctx, it.Target.ResourceGroupID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "vm-0001-az" || list[0].VMID != vm.VMID || list[0].PowerState != "" {
		t.Fatalf("list: %+v", list)
	}
	// The read went out with the SDK's api-version and $expand.
	var sawExpand bool
	for _, r := range w.sim.Requests() {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/virtualMachines/vm-0001-az") && r.Status == http.StatusOK {
			sawExpand = true
		}
	}
	if !sawExpand {
		t.Error("no successful GET of the VM in the request log")
	}
}

// TestAzureVMActions drives each action as a long-running operation: the
// handle carries a resume token and no secret, a client built from scratch
// re-attaches to it, and the power state read afterwards is the action's
// end state, reached through its transitional state.
func TestAzureVMActions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		prepare func(context.Context, *Client, *ProtectedItem) (VMHandle, error) // optional, run first
		act     func(context.Context, *Client, *ProtectedItem) (VMHandle, error)
		during  string
		want    string
	}{
		{name: "deallocate", act: func(ctx context.Context, c *Client, it *ProtectedItem) (VMHandle, error) {
			return c.DeallocateAzureVM(ctx, it.VM, it.Target.ResourceGroupID, it.Target.VMName)
		}, during: azuresim.PowerDeallocating, want: PowerDeallocated},
		{name: "powerOff", act: func(ctx context.Context, c *Client, it *ProtectedItem) (VMHandle, error) {
			return c.PowerOffAzureVM(ctx, it.VM, it.Target.ResourceGroupID, it.Target.VMName)
		}, during: azuresim.PowerStopping, want: PowerStopped},
		{name: "start after deallocate", prepare: func(ctx context.Context, c *Client, it *ProtectedItem) (VMHandle, error) {
			return c.DeallocateAzureVM(ctx, it.VM, it.Target.ResourceGroupID, it.Target.VMName)
		}, act: func(ctx context.Context, c *Client, it *ProtectedItem) (VMHandle, error) {
			return c.StartAzureVM(ctx, it.VM, it.Target.ResourceGroupID, it.Target.VMName)
		}, during: azuresim.PowerStarting, want: PowerRunning},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, bigSeed(1), azuresim.Options{})
			c := w.client(t)
			it := failOver(t, c, "machine-0001")
			if tc.prepare != nil {
				h, err := tc.prepare(ctx(t), c, it)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.WaitAzureVM(ctx(t), h, nil); err != nil {
					t.Fatal(err)
				}
			}
			h, err := tc.act(ctx(t), c, it)
			if err != nil {
				t.Fatal(err)
			}
			if h.ResumeToken == "" {
				t.Fatalf("handle without resume token: %+v", h)
			}
			b, _ := json.Marshal(h)
			if bytes.Contains(b, []byte(testToken)) {
				t.Fatal("handle carries the bearer token")
			}
			var back VMHandle
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			var polls int
			vm, err := w.client(t).WaitAzureVM(ctx(t), back, func(p Progress) {
				if p.Operation == h.Operation {
					polls++
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if vm.PowerState != tc.want || polls == 0 {
				t.Fatalf("after %s: power %q (want %q), %d progress reports", tc.name, vm.PowerState, tc.want, polls)
			}
			hist := w.sim.AzureVMHistory(it.Target.VMName)
			if n := len(hist); n < 2 || hist[n-1].State != tc.want || hist[n-2].State != tc.during || hist[n-1].Time.Before(hist[n-2].Time) {
				t.Fatalf("power history %+v, want ... %s, %s", hist, tc.during, tc.want)
			}
		})
	}
}

// TestAzureVMAbsentAndRefused: a VM that does not exist reads as absent;
// an action on it fails with the service's not-found; a malformed resource
// group ID is refused before sending.
func TestAzureVMAbsentAndRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t, bigSeed(1), azuresim.Options{})
	c := w.client(t)
	ctx := ctx(t)
	rg := "/subscriptions/x/resourceGroups/target"
	vm, err := c.GetAzureVM(ctx, rg, "nobody")
	if err != nil || vm.Exists {
		t.Fatalf("absent VM: %+v, %v", vm, err)
	}
	_, err = c.DeallocateAzureVM(ctx, "app", rg, "nobody")
	if KindOf(err) != KindNotFound || !strings.Contains(err.Error(), "nobody") {
		t.Fatalf("deallocate of an absent VM: %v (kind %v)", err, KindOf(err))
	}
	n := len(w.sim.Requests())
	_, err = c.DeallocateAzureVM(ctx, "app", "target", "vm")
	if KindOf(err) != KindInvalidParameter || len(w.sim.Requests()) != n {
		t.Fatalf("malformed resource group: %v, %d requests sent", err, len(w.sim.Requests())-n)
	}
}

// TestAzureVMActionFails: a deallocate the service accepts but fails comes
// back as an error with the service's message, and the VM keeps running.
func TestAzureVMActionFails(t *testing.T) {
	t.Parallel()
	w := newWorld(t, bigSeed(1), azuresim.Options{})
	c := w.client(t)
	it := failOver(t, c, "machine-0001")
	w.sim.InjectFault(azuresim.Fault{Operation: "deallocate", VM: "vm-0001-az", Async: true, Code: "AllocationFailed", Message: "The host is being serviced."})
	h, err := c.DeallocateAzureVM(ctx(t), it.VM, it.Target.ResourceGroupID, it.Target.VMName)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.WaitAzureVM(ctx(t), h, nil)
	var ae *Error
	if !errors.As(err, &ae) || ae.Code != "AllocationFailed" || !strings.Contains(err.Error(), "The host is being serviced.") {
		t.Fatalf("failed deallocate: %v", err)
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Errorf("the service's response is not kept: %v", err)
	}
	vm, err := c.FailedOverVM(ctx(t), it)
	if err != nil || vm.PowerState != PowerRunning {
		t.Fatalf("after a failed deallocate: %+v, %v", vm, err)
	}
}

// TestTestFailoverVM: a test failover creates the "-test" VM beside the
// target; its cleanup removes it, which is how a rehearsal's cleanup is
// confirmed.
func TestTestFailoverVM(t *testing.T) {
	t.Parallel()
	w := newWorld(t, bigSeed(1), azuresim.Options{})
	c := w.client(t)
	ctx := ctx(t)
	it, err := c.GetProtectedItem(ctx, "machine-0001")
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.TestFailover(ctx, it, TestFailoverInput{})
	if err != nil {
		t.Fatal(err)
	}
	if it, err = c.Wait(ctx, h, nil); err != nil {
		t.Fatal(err)
	}
	tv, err := c.TestFailoverVM(ctx, it)
	if err != nil || !tv.Exists || tv.Name != "vm-0001-az-test" || tv.PowerState != PowerRunning {
		t.Fatalf("test VM after test failover: %+v, %v", tv, err)
	}
	if real, _ := c.FailedOverVM(ctx, it); real.Exists {
		t.Fatalf("a test failover created the production VM: %+v", real)
	}
	h, err = c.TestFailoverCleanup(ctx, it, "rehearsal done")
	if err != nil {
		t.Fatal(err)
	}
	if it, err = c.Wait(ctx, h, nil); err != nil {
		t.Fatal(err)
	}
	tv, err = c.TestFailoverVM(ctx, it)
	if err != nil || tv.Exists {
		t.Fatalf("test VM after cleanup: %+v, %v", tv, err)
	}
}
