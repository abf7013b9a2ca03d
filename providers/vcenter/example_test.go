package vcenter_test

import (
	"context"
	"fmt"

	"cutover/providers/vcenter"
	"cutover/providers/vcenter/vcentersim"
)

// Connect, discover, match a runbook's VM and take a snapshot whose undo
// record the executor journals; then roll it back.
func Example() {
	ctx := context.Background()
	sim, err := vcentersim.Start(ctx, vcentersim.World{Datacenters: []vcentersim.Datacenter{{
		Name: "dc1", Datastores: []string{"ds1"},
		Clusters: []vcentersim.Cluster{{Name: "c1", Hosts: []string{"esx1"}}},
		VMs:      []vcentersim.VM{{Name: "app01", Folder: "prod", PowerState: "poweredOn"}},
	}}})
	if err != nil {
		panic(err)
	}
	defer sim.Close()

	c, err := vcenter.Connect(ctx, vcenter.Config{
		Name: "dc1", URL: sim.URL.String(), Username: sim.Username, Password: sim.Password, Thumbprint: sim.Thumbprint,
	})
	if err != nil {
		panic(err)
	}
	defer c.Close(ctx)

	inv, err := c.Discover(ctx)
	if err != nil {
		panic(err)
	}
	vm, err := inv.MatchVM(vcenter.Selector{Name: "app01"})
	if err != nil {
		panic(err)
	}
	fmt.Println(vm.Path, vm.PowerState)

	undo, err := c.Snapshot(ctx, vm.Ref(), "pre-cutover", "", false, vcenter.Watch{
		Started: func(h vcenter.Handle) { fmt.Println("journal:", h.Op, h.VM == vm.MoRef) },
	})
	if err != nil {
		panic(err)
	}
	if err := c.Undo(ctx, undo, vcenter.Watch{}); err != nil {
		panic(err)
	}
	fmt.Println("rolled back", undo.Op)
	// Output:
	// /dc1/vm/prod/app01 poweredOn
	// journal: snapshot true
	// rolled back snapshot
}
