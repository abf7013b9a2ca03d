package vcentersim

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func TestStartScaledWorld(t *testing.T) {
	t.Parallel()
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
	if err := v.Retrieve(ctx, []string{"VirtualMachine"}, []string{"name", "runtime.powerState", "guest.toolsRunningStatus"}, &vms); err != nil {
		t.Fatal(err)
	}
	if len(vms) != 1000 {
		t.Fatalf("got %d VMs, want 1000", len(vms))
	}
	for _, vm := range vms {
		if !strings.HasPrefix(vm.Name, "vm-") || vm.Runtime.PowerState != "poweredOn" || vm.Guest.ToolsRunningStatus != "guestToolsRunning" {
			t.Fatalf("unexpected VM %s %s %s", vm.Name, vm.Runtime.PowerState, vm.Guest.ToolsRunningStatus)
		}
	}
}

func TestDecodeWorld(t *testing.T) {
	t.Parallel()
	w, err := DecodeWorld(strings.NewReader(`{"datacenters":[{"name":"dc","clusters":[{"name":"c","hosts":["h"]}],"datastores":["ds"],
		"vms":[{"name":"a","powerState":"poweredOn","disks":[{"sizeGB":4}],"nics":[{"network":"VM Network"}]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if w.Datacenters[0].VMs[0].Disks[0].SizeGB != 4 {
		t.Fatalf("decoded %+v", w)
	}
	if _, err := DecodeWorld(strings.NewReader(`{"datacenters":[{"name":"dc","clusterz":[]}]}`)); err == nil {
		t.Fatal("unknown field accepted")
	}
}

func TestStartRejects(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		w    World
		opts []Option
		want string
	}{
		"non-loopback address": {World{}, []Option{WithAddr("0.0.0.0:0")}, "loopback"},
		"unknown host": {World{Datacenters: []Datacenter{{Name: "dc", Datastores: []string{"ds"},
			Clusters: []Cluster{{Name: "c", Hosts: []string{"h"}}}, VMs: []VM{{Name: "a", Host: "nope"}}}}}, nil, `host "nope"`},
		"unknown network": {World{Datacenters: []Datacenter{{Name: "dc", Datastores: []string{"ds"},
			Clusters: []Cluster{{Name: "c", Hosts: []string{"h"}}}, VMs: []VM{{Name: "a", NICs: []NIC{{Network: "x"}}}}}}}, nil, `network "x"`},
		"duplicate datacenter": {World{Datacenters: []Datacenter{{Name: "dc"}, {Name: "dc"}}}, nil, "twice"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := Start(context.Background(), tt.w, tt.opts...)
			if err == nil {
				s.Close()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

// extWorld has an FT pair, a template and a VM without tools.
func extWorld() World {
	return World{Datacenters: []Datacenter{{
		Name: "dc", Datastores: []string{"ds"},
		Clusters: []Cluster{{Name: "c1", Hosts: []string{"h1", "h2"}}, {Name: "c2", Hosts: []string{"h3"}}},
		VMs: []VM{
			{Name: "ft", Host: "h1", PowerState: "poweredOn", FTSecondary: &FTSecondary{Host: "h2"}},
			{Name: "tmpl", Host: "h1", Template: true},
			{Name: "off", Host: "h1"},
			{Name: "on", Host: "h1", PowerState: "poweredOn", NICs: []NIC{{}}},
			{Name: "bare", Host: "h1", PowerState: "poweredOn", NoTools: true},
		},
	}}}
}

type simClient struct {
	c      *govmomi.Client
	finder *find.Finder
}

func dial(t *testing.T, s *Sim) simClient {
	t.Helper()
	ctx := context.Background()
	c, err := govmomi.NewClient(ctx, s.URLWithCredentials(), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Logout(ctx) })
	f := find.NewFinder(c.Client)
	dc, err := f.Datacenter(ctx, "dc")
	if err != nil {
		t.Fatal(err)
	}
	f.SetDatacenter(dc)
	return simClient{c, f}
}

func (sc simClient) vm(t *testing.T, name string) *object.VirtualMachine {
	t.Helper()
	vm, err := sc.finder.VirtualMachine(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return vm
}

func (sc simClient) ref(t *testing.T, path string) types.ManagedObjectReference {
	t.Helper()
	r, err := object.NewSearchIndex(sc.c.Client).FindByInventoryPath(context.Background(), path)
	if err != nil || r == nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r.Reference()
}

func taskFault(t *testing.T, task types.ManagedObjectReference, c *govmomi.Client) error {
	t.Helper()
	return object.NewTask(c.Client, task).Wait(context.Background())
}

func TestMigrateVM(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Start(ctx, extWorld())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sc := dial(t, s)
	on := sc.vm(t, "on")
	h2 := sc.ref(t, "/dc/host/c1/h2")
	h3 := sc.ref(t, "/dc/host/c2/h3")
	c2pool := sc.ref(t, "/dc/host/c2/Resources")
	migrate := func(vm *object.VirtualMachine, pool, host *types.ManagedObjectReference, state types.VirtualMachinePowerState) error {
		res, err := methods.MigrateVM_Task(ctx, sc.c.Client, &types.MigrateVM_Task{
			This: vm.Reference(), Pool: pool, Host: host, Priority: types.VirtualMachineMovePriorityDefaultPriority, State: state,
		})
		if err != nil {
			return err
		}
		return taskFault(t, res.Returnval, sc.c)
	}
	if err := migrate(on, nil, &h2, ""); err != nil {
		t.Fatal(err)
	}
	if err := migrate(on, &c2pool, &h3, types.VirtualMachinePowerStatePoweredOn); err != nil {
		t.Fatal(err)
	}
	var m mo.VirtualMachine
	if err := property.DefaultCollector(sc.c.Client).RetrieveOne(ctx, on.Reference(), []string{"runtime.host", "resourcePool"}, &m); err != nil {
		t.Fatal(err)
	}
	if *m.Runtime.Host != h3 || *m.ResourcePool != c2pool {
		t.Fatalf("after migrate: host %v pool %v", m.Runtime.Host, m.ResourcePool)
	}
	faults := []struct {
		name  string
		err   error
		fault types.BaseMethodFault
	}{
		{"template", migrate(sc.vm(t, "tmpl"), nil, &h2, ""), &types.NotSupported{}},
		{"state mismatch", migrate(sc.vm(t, "off"), nil, &h2, types.VirtualMachinePowerStatePoweredOn), &types.InvalidPowerState{}},
		{"host outside pool", migrate(on, &c2pool, &h2, ""), &types.InvalidArgument{}},
	}
	for _, f := range faults {
		if !fault.Is(f.err, f.fault) {
			t.Errorf("%s: got %v, want %T", f.name, f.err, f.fault)
		}
	}
	// Without a host, a DRS cluster (vcsim's default) picks one.
	off := sc.vm(t, "off")
	if err := migrate(off, &c2pool, nil, ""); err != nil {
		t.Fatal(err)
	}
	if err := property.DefaultCollector(sc.c.Client).RetrieveOne(ctx, off.Reference(), []string{"runtime.host"}, &m); err != nil {
		t.Fatal(err)
	}
	if *m.Runtime.Host != h3 {
		t.Fatalf("DRS placed the VM on %v, want the cluster's only host %v", m.Runtime.Host, h3)
	}
}

func TestMakePrimaryVM(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Start(ctx, extWorld())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sc := dial(t, s)
	primary, secondary := sc.vm(t, "ft"), sc.vm(t, "ft (secondary)")
	makePrimary := func(this, vm *object.VirtualMachine) error {
		res, err := methods.MakePrimaryVM_Task(ctx, sc.c.Client, &types.MakePrimaryVM_Task{This: this.Reference(), Vm: vm.Reference()})
		if err != nil {
			return err
		}
		return taskFault(t, res.Returnval, sc.c)
	}
	role := func(vm *object.VirtualMachine) int32 {
		var m mo.VirtualMachine
		if err := property.DefaultCollector(sc.c.Client).RetrieveOne(ctx, vm.Reference(), []string{"config.ftInfo"}, &m); err != nil {
			t.Fatal(err)
		}
		if m.Config.FtInfo == nil {
			return 0
		}
		return m.Config.FtInfo.GetFaultToleranceConfigInfo().Role
	}
	if err := makePrimary(secondary, primary); !fault.Is(err, &types.InvalidOperationOnSecondaryVm{}) {
		t.Fatalf("on the secondary: %v", err)
	}
	if err := makePrimary(sc.vm(t, "on"), primary); !fault.Is(err, &types.VmFaultToleranceIssue{}) {
		t.Fatalf("on a VM without FT: %v", err)
	}
	if err := makePrimary(primary, secondary); err != nil {
		t.Fatal(err)
	}
	if role(primary) != 2 || role(secondary) != 1 {
		t.Fatalf("roles after swap: %d %d", role(primary), role(secondary))
	}
	if err := makePrimary(secondary, primary); err != nil {
		t.Fatal(err)
	}
	if role(primary) != 1 || role(secondary) != 2 {
		t.Fatalf("roles after swap back: %d %d", role(primary), role(secondary))
	}
}

func TestCustomizeGuestAndShutdown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Start(ctx, extWorld())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sc := dial(t, s)
	mgr := sc.c.ServiceContent.GuestCustomizationManager
	if mgr == nil {
		t.Fatal("no GuestCustomizationManager in ServiceContent")
	}
	spec := types.CustomizationSpec{
		Identity:      &types.CustomizationLinuxPrep{HostName: &types.CustomizationFixedName{Name: "renamed"}},
		NicSettingMap: []types.CustomizationAdapterMapping{{Adapter: types.CustomizationIPSettings{Ip: &types.CustomizationFixedIp{IpAddress: "10.0.0.7"}}}},
	}
	customize := func(vm *object.VirtualMachine, spec types.CustomizationSpec) error {
		res, err := methods.CustomizeGuest_Task(ctx, sc.c.Client, &types.CustomizeGuest_Task{
			This: *mgr, Vm: vm.Reference(), Spec: spec, Auth: &types.NamePasswordAuthentication{Username: "root"},
		})
		if err != nil {
			return err
		}
		return taskFault(t, res.Returnval, sc.c)
	}
	on := sc.vm(t, "on")
	if err := customize(on, spec); err != nil {
		t.Fatal(err)
	}
	var m mo.VirtualMachine
	if err := property.DefaultCollector(sc.c.Client).RetrieveOne(ctx, on.Reference(), []string{"guest"}, &m); err != nil {
		t.Fatal(err)
	}
	if m.Guest.HostName != "renamed" || m.Guest.IpAddress != "10.0.0.7" || m.Guest.CustomizationInfo == nil {
		t.Fatalf("guest after customization: %q %q", m.Guest.HostName, m.Guest.IpAddress)
	}
	tooMany := spec
	tooMany.NicSettingMap = append(tooMany.NicSettingMap, spec.NicSettingMap...)
	if err := customize(on, tooMany); !fault.Is(err, &types.NicSettingMismatch{}) {
		t.Fatalf("two NIC settings for one NIC: %v", err)
	}
	if err := customize(sc.vm(t, "off"), spec); !fault.Is(err, &types.InvalidPowerState{}) {
		t.Fatalf("powered off: %v", err)
	}
	bare := sc.vm(t, "bare")
	if err := customize(bare, spec); !fault.Is(err, &types.InvalidState{}) {
		t.Fatalf("no tools: %v", err)
	}
	if err := bare.ShutdownGuest(ctx); !fault.Is(err, &types.ToolsUnavailable{}) {
		t.Fatalf("shutdown without tools: %v", err)
	}
	if err := on.ShutdownGuest(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestFaultInjectionAndTaskDelay(t *testing.T) {
	// Not parallel: SetTaskDelay is process-global.
	restore := SetTaskDelay(map[string]time.Duration{"PowerOn": 300 * time.Millisecond})
	defer restore()
	ctx := context.Background()
	s, err := Start(ctx, extWorld())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sc := dial(t, s)
	off := sc.vm(t, "off")
	if err := s.InjectFault(FaultRule{Method: "PowerOnVM_Task", Object: "off", Fault: &types.InsufficientResourcesFault{}, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := off.PowerOn(ctx); !fault.Is(err, &types.InsufficientResourcesFault{}) {
		t.Fatalf("first power on: %v", err)
	}
	start := time.Now()
	task, err := off.PowerOn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("power on took %s despite a 300ms task delay", d)
	}
	if err := s.InjectFault(FaultRule{Method: "PowerOnVM_Task"}); err == nil {
		t.Fatal("rule without fault accepted")
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *Sim, 1)
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, "127.0.0.1:0", extWorld(), func(s *Sim) { ready <- s }) }()
	var s *Sim
	select {
	case s = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	c, err := govmomi.NewClient(ctx, s.URLWithCredentials(), true)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Logout(ctx)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%#v", s), fmt.Sprintf("%+v", s)} {
		if strings.Contains(out, s.Password) || !strings.Contains(out, s.URL.Host) {
			t.Errorf("printing the simulator: %s", out)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Start(ctx, extWorld(), WithLatency(0, map[string]time.Duration{"CurrentTime": time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := govmomi.NewClient(ctx, s.URLWithCredentials(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Logout(ctx)
	start := time.Now()
	if _, err := methods.GetCurrentTime(ctx, c.Client); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("CurrentTime took %s with 1s latency injected", d)
	}
	// Other methods are not slowed down: a call that took the injected
	// second would take at least that, however loaded the machine.
	start = time.Now()
	if _, err := methods.GetServiceContent(ctx, c.Client); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= time.Second {
		t.Fatalf("RetrieveServiceContent took %s; latency leaked to other methods", d)
	}
}
