package vcenter_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"

	"cutover/providers/vcenter"
	"cutover/providers/vcenter/vcentersim"
)

// TestSeedPageFaults: the faults the CloneVM_Task and MigrateVM_Task
// reference pages list, raised by the simulated vCenter where a world can
// cause them, each come back as an OpError naming the VM, the operation
// and the fault, classified permanent.
func TestSeedPageFaults(t *testing.T) {
	t.Parallel()
	maintenance := func(t *testing.T, s *vcentersim.Sim, inv *vcenter.Inventory, host string) {
		ref := mustResolve(t, inv, vcenter.KindHost, vcenter.Selector{Name: host}).MoRef
		ctx := s.Context()
		h := ctx.Map.Get(types.ManagedObjectReference{Type: "HostSystem", Value: ref}).(*simulator.HostSystem)
		ctx.WithLock(h, func() { h.Runtime.InMaintenanceMode = true })
	}
	poolLimit := func(t *testing.T, c *vcenter.Client, inv *vcenter.Inventory, pool string, mb int64) {
		ref := mustResolve(t, inv, vcenter.KindPool, vcenter.Selector{Name: pool}).MoRef
		p := object.NewResourcePool(c.Vim(), types.ManagedObjectReference{Type: "ResourcePool", Value: ref})
		spec := types.DefaultResourceConfigSpec()
		spec.MemoryAllocation.Limit = &mb
		if err := p.UpdateConfig(context.Background(), "", &spec); err != nil {
			t.Fatal(err)
		}
	}
	place := func(inv *vcenter.Inventory, host, pool, ds string) vcenter.Placement {
		var p vcenter.Placement
		if host != "" {
			p.Host = mustResolve(t, inv, vcenter.KindHost, vcenter.Selector{Name: host}).MoRef
		}
		if pool != "" {
			p.Pool = mustResolve(t, inv, vcenter.KindPool, vcenter.Selector{Name: pool}).MoRef
		}
		if ds != "" {
			p.Datastore = mustResolve(t, inv, vcenter.KindDatastore, vcenter.Selector{Name: ds}).MoRef
		}
		return p
	}
	cases := []struct {
		name  string
		op    vcenter.Op
		vm    string
		setup func(*testing.T, *vcentersim.Sim, *vcenter.Client, *vcenter.Inventory)
		clone func(*vcenter.Inventory) vcenter.CloneSpec
		move  func(*vcenter.Inventory) (vcenter.Placement, vcenter.Migration)
		fault types.BaseMethodFault
		want  string
	}{
		{name: "clone to a host outside the pool's cluster", op: vcenter.OpClone, vm: "web01",
			clone: func(inv *vcenter.Inventory) vcenter.CloneSpec {
				return vcenter.CloneSpec{Name: "web01-c", Placement: place(inv, "h3", "prod", "")}
			}, fault: &types.InvalidArgument{}, want: "InvalidArgument"},
		{name: "clone to a host in maintenance", op: vcenter.OpClone, vm: "web01",
			setup: func(t *testing.T, s *vcentersim.Sim, _ *vcenter.Client, inv *vcenter.Inventory) {
				maintenance(t, s, inv, "h2")
			},
			clone: func(inv *vcenter.Inventory) vcenter.CloneSpec {
				return vcenter.CloneSpec{Name: "web01-c", Placement: place(inv, "h2", "prod", "")}
			}, fault: &types.InvalidState{}, want: "InvalidState"},
		{name: "clone to a datastore the host does not mount", op: vcenter.OpClone, vm: "web01",
			clone: func(inv *vcenter.Inventory) vcenter.CloneSpec {
				return vcenter.CloneSpec{Name: "web01-c", Placement: place(inv, "h1", "prod", "ds9")}
			}, fault: &types.InvalidDatastore{}, want: "InvalidDatastore"},
		{name: "clone into a pool below the VM's memory", op: vcenter.OpClone, vm: "web01",
			setup: func(t *testing.T, _ *vcentersim.Sim, c *vcenter.Client, inv *vcenter.Inventory) {
				poolLimit(t, c, inv, "prod", 256)
			},
			clone: func(inv *vcenter.Inventory) vcenter.CloneSpec {
				return vcenter.CloneSpec{Name: "web01-c", Placement: place(inv, "", "prod", "")}
			}, fault: &types.InsufficientMemoryResourcesFault{}, want: "InsufficientMemoryResourcesFault"}, // an InsufficientResourcesFault
		{name: "clone customizing more adapters than the VM has", op: vcenter.OpClone, vm: "web01",
			clone: func(inv *vcenter.Inventory) vcenter.CloneSpec {
				return vcenter.CloneSpec{Name: "web01-c", Placement: place(inv, "", "prod", ""), Customization: &vcenter.Customization{
					Hostname: "c", NICs: []vcenter.NICSetting{{}, {}, {}}}}
			}, fault: &types.NicSettingMismatch{}, want: "NicSettingMismatch"}, // a CustomizationFault
		{name: "clone under a name the folder has", op: vcenter.OpClone, vm: "web01",
			clone: func(inv *vcenter.Inventory) vcenter.CloneSpec {
				return vcenter.CloneSpec{Name: "web01", Placement: place(inv, "", "prod", "")}
			}, want: "DuplicateName"},
		{name: "migrate to a host outside the pool's cluster", op: vcenter.OpMigrate, vm: "web01",
			move: func(inv *vcenter.Inventory) (vcenter.Placement, vcenter.Migration) {
				return place(inv, "h3", "prod", ""), vcenter.Migration{}
			}, fault: &types.InvalidArgument{}, want: "InvalidArgument"},
		{name: "migrate a VM not in the stated power state", op: vcenter.OpMigrate, vm: "web01",
			move: func(inv *vcenter.Inventory) (vcenter.Placement, vcenter.Migration) {
				return place(inv, "h2", "", ""), vcenter.Migration{State: "poweredOff"}
			}, fault: &types.InvalidPowerState{}, want: "InvalidPowerState"},
		{name: "migrate to a host in maintenance", op: vcenter.OpMigrate, vm: "web01",
			setup: func(t *testing.T, s *vcentersim.Sim, _ *vcenter.Client, inv *vcenter.Inventory) {
				maintenance(t, s, inv, "h2")
			},
			move: func(inv *vcenter.Inventory) (vcenter.Placement, vcenter.Migration) {
				return place(inv, "h2", "", ""), vcenter.Migration{}
			}, fault: &types.InvalidState{}, want: "InvalidState"},
		{name: "migrate into a pool below the VM's memory", op: vcenter.OpMigrate, vm: "db01",
			setup: func(t *testing.T, _ *vcentersim.Sim, c *vcenter.Client, inv *vcenter.Inventory) {
				poolLimit(t, c, inv, "prod", 256)
			},
			move: func(inv *vcenter.Inventory) (vcenter.Placement, vcenter.Migration) {
				return place(inv, "", "prod", ""), vcenter.Migration{Priority: vcenter.PriorityHigh}
			}, fault: &types.InsufficientMemoryResourcesFault{}, want: "InsufficientMemoryResourcesFault"}, // an InsufficientResourcesFault
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := startSim(t, testWorld())
			c := connect(t, s)
			inv := discover(t, c)
			if tc.setup != nil {
				tc.setup(t, s, c, inv)
			}
			vm := mustVM(t, inv, vcenter.Selector{Name: tc.vm})
			var err error
			if tc.clone != nil {
				_, err = c.Clone(ctx, vm.Ref(), tc.clone(inv), vcenter.Watch{})
			} else {
				to, m := tc.move(inv)
				_, err = c.Migrate(ctx, vm.Ref(), to, m, vcenter.Watch{})
			}
			var oe *vcenter.OpError
			if !errors.As(err, &oe) {
				t.Fatalf("got %v, want an OpError", err)
			}
			if oe.Op != tc.op || oe.Fault != tc.want || oe.Transient {
				t.Errorf("op %s fault %s transient %v, want %s %s permanent", oe.Op, oe.Fault, oe.Transient, tc.op, tc.want)
			}
			if tc.fault != nil && !vcenter.IsFault(err, tc.fault) {
				t.Errorf("%v does not carry a %T", err, tc.fault)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.vm) || !strings.Contains(msg, tc.want) {
				t.Errorf("message %q does not name the VM %s and the fault %s", msg, tc.vm, tc.want)
			}
		})
	}
}
