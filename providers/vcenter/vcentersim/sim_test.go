package vcentersim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/mo"
)

func TestStartScaledWorld(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	s, err := Start(ctx, ScaledWorld(1000))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t.Logf("1000 VMs ready in %s", time.Since(start))
	c, err := govmomi.NewClient(ctx, s.URLWithCredentials(), true)
	if err != nil {
		t.Fatal(err)
	}
	v, err := view.NewManager(c.Client).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	if err != nil {
		t.Fatal(err)
	}
	var vms []mo.VirtualMachine
	if err := v.Retrieve(ctx, []string{"VirtualMachine"}, []string{"name", "runtime.powerState"}, &vms); err != nil {
		t.Fatal(err)
	}
	if len(vms) != 1000 {
		t.Fatalf("got %d VMs, want 1000", len(vms))
	}
	for _, vm := range vms {
		if !strings.HasPrefix(vm.Name, "vm-") || vm.Runtime.PowerState != "poweredOn" {
			t.Fatalf("unexpected VM %s %s", vm.Name, vm.Runtime.PowerState)
		}
	}
}
