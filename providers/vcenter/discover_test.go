package vcenter_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"cutover/providers/vcenter"
	"cutover/providers/vcenter/vcentersim"
)

func TestDiscoverReadsEveryField(t *testing.T) {
	t.Parallel()
	s := startSim(t, testWorld())
	inv := discover(t, connect(t, s))

	web := mustVM(t, inv, vcenter.Selector{Name: "web01"})
	if web.Path != "/dc1/vm/apps/web/web01" {
		t.Errorf("path = %q", web.Path)
	}
	if web.PowerState != "poweredOn" || web.Template || web.GuestID != "ubuntu64Guest" || web.GuestFullName == "" {
		t.Errorf("state/guest wrong: %+v", web)
	}
	if web.InstanceUUID == "" || web.BIOSUUID == "" || web.ChangeVersion == "" || !strings.HasPrefix(web.MoRef, "vm-") {
		t.Errorf("identity missing: uuid=%q bios=%q change=%q moref=%q", web.InstanceUUID, web.BIOSUUID, web.ChangeVersion, web.MoRef)
	}
	if web.ToolsStatus != "guestToolsRunning" {
		t.Errorf("tools = %q", web.ToolsStatus)
	}
	if e, _ := inv.Entity(web.Host); e.Name != "h1" || e.Path != "/dc1/host/C1/h1" {
		t.Errorf("host = %+v", e)
	}
	if e, _ := inv.Entity(web.Pool); e.Path != "/dc1/host/C1/Resources/prod" {
		t.Errorf("pool = %+v", e)
	}
	if e, _ := inv.Entity(web.Folder); e.Path != "/dc1/vm/apps/web" {
		t.Errorf("folder = %+v", e)
	}
	if len(web.Disks) != 2 || web.Disks[1].SizeBytes != 20<<30 || web.Disks[0].Label == "" || web.Disks[0].BackingUUID == "" {
		t.Fatalf("disks = %+v", web.Disks)
	}
	if e, _ := inv.Entity(web.Disks[1].Datastore); e.Name != "ds2" {
		t.Errorf("second disk datastore = %+v", e)
	}
	if len(web.NICs) != 2 || web.NICs[0].MAC != "00:50:56:aa:bb:01" || web.NICs[0].Label == "" {
		t.Fatalf("nics = %+v", web.NICs)
	}
	if e, _ := inv.Entity(web.NICs[0].Network); e.Name != "pg-app" {
		t.Errorf("nic network = %+v", e)
	}
	if e, _ := inv.Entity(web.NICs[1].Network); e.Name != "VM Network" {
		t.Errorf("second nic network = %+v", e)
	}
	if len(web.Snapshots) != 1 || web.Snapshots[0].Name != "base" ||
		len(web.Snapshots[0].Children) != 1 || web.Snapshots[0].Children[0].Name != "patched" ||
		web.CurrentSnapshot != web.Snapshots[0].Children[0].MoRef {
		t.Errorf("snapshot tree = %+v current %q", web.Snapshots, web.CurrentSnapshot)
	}

	db := mustVM(t, inv, vcenter.Selector{Name: "db01"})
	sec := mustVM(t, inv, vcenter.Selector{Name: "db01 (secondary)"})
	if db.FTRole != 1 || sec.FTRole != 2 || db.FTState != "running" ||
		len(db.FTPartner) != 1 || db.FTPartner[0] != sec.MoRef || sec.FTPartner[0] != db.MoRef {
		t.Errorf("FT: primary %d %q %v, secondary %d %v", db.FTRole, db.FTState, db.FTPartner, sec.FTRole, sec.FTPartner)
	}
	if tmpl := mustVM(t, inv, vcenter.Selector{Name: "tmpl-linux"}); !tmpl.Template {
		t.Error("template flag not read")
	}
	if nt := mustVM(t, inv, vcenter.Selector{Name: "notools"}); nt.ToolsStatus == "guestToolsRunning" {
		t.Error("guest without tools reports tools running")
	}
	if len(inv.Hosts) != 4 || len(inv.Datacenters) != 2 {
		t.Errorf("hosts %d datacenters %d", len(inv.Hosts), len(inv.Datacenters))
	}
}

func TestDiscoverScopedToDatacenter(t *testing.T) {
	t.Parallel()
	s := startSim(t, testWorld())
	cfg := simConfig(s)
	cfg.Datacenter = "dc2"
	c, err := vcenter.Connect(context.Background(), cfg, vcenter.WithGetenv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	inv := discover(t, c)
	if len(inv.VMs) != 1 || inv.VMs[0].Path != "/dc2/vm/app" {
		t.Fatalf("VMs = %v", inv.VMs)
	}
	// govc users set the datacenter in the environment.
	cfg.Datacenter = ""
	fromEnv, err := vcenter.Connect(context.Background(), cfg, vcenter.WithGetenv(func(k string) string {
		if k == "GOVC_DATACENTER" {
			return "dc2"
		}
		return ""
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer fromEnv.Close(context.Background())
	if inv := discover(t, fromEnv); len(inv.VMs) != 1 {
		t.Fatalf("GOVC_DATACENTER ignored: %d VMs", len(inv.VMs))
	}
	cfg.Datacenter = "nope"
	c2, err := vcenter.Connect(context.Background(), cfg, vcenter.WithGetenv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(context.Background())
	if _, err := c2.Discover(context.Background()); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("unknown datacenter: %v", err)
	}
}

// callCounter counts SOAP calls by method (the names of package methods),
// below re-login and keep-alive.
type callCounter struct {
	next soap.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func (c *callCounter) RoundTrip(ctx context.Context, req, res soap.HasFault) error {
	name := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(
		typeName(req), "*methods."), "methods."), "Body")
	c.mu.Lock()
	c.n[name]++
	c.mu.Unlock()
	return c.next.RoundTrip(ctx, req, res)
}

func (c *callCounter) count(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[name]
}

func (c *callCounter) reset() {
	c.mu.Lock()
	c.n = map[string]int{}
	c.mu.Unlock()
}

func TestDiscover1000VMsInFewRoundTrips(t *testing.T) {
	t.Parallel()
	s := startSim(t, vcentersim.ScaledWorld(1000))
	counter := &callCounter{n: map[string]int{}}
	c := connect(t, s, interposed(counter, &counter.next))
	counter.reset()
	inv := discover(t, c)
	if len(inv.VMs) != 1000 {
		t.Fatalf("discovered %d VMs", len(inv.VMs))
	}
	pc := counter.count("RetrievePropertiesEx") + counter.count("ContinueRetrievePropertiesEx") +
		counter.count("RetrieveProperties") + counter.count("WaitForUpdatesEx")
	t.Logf("property-collector round trips: %d; all calls: %v", pc, counter.n)
	if pc > 3 {
		t.Fatalf("discovery used %d property-collector round trips, want at most 3", pc)
	}
	// One read of the view's member list, then batches naming a thousand
	// objects each (1,000 VMs and the placement objects are two), each
	// answered in one page: a batch is never paged further.
	if counter.count("ContinueRetrievePropertiesEx") != 0 || counter.count("CreateContainerView") != 1 {
		t.Fatalf("want one container view and no continued pages, got %v", counter.n)
	}
	for _, vm := range inv.VMs[:5] {
		if vm.Path == "" || vm.Host == "" || len(vm.Disks) != 1 || len(vm.NICs) != 1 {
			t.Fatalf("incomplete VM %+v", vm)
		}
	}
}

// vanishing names one VM that does not exist in every batch read of VMs,
// as a VM deleted between the container view's member list and the read
// of its properties would be.
type vanishing struct {
	next soap.RoundTripper
	mu   sync.Mutex
	sent int
}

func (v *vanishing) RoundTrip(ctx context.Context, req, res soap.HasFault) error {
	if b, ok := req.(*methods.RetrievePropertiesExBody); ok {
		for i, spec := range b.Req.SpecSet {
			if len(spec.ObjectSet) > 0 && spec.ObjectSet[0].Obj.Type != "ContainerView" {
				b.Req.SpecSet[i].ObjectSet = append(spec.ObjectSet, types.ObjectSpec{Obj: types.ManagedObjectReference{Type: "VirtualMachine", Value: "vm-deleted"}})
				v.mu.Lock()
				v.sent++
				v.mu.Unlock()
			}
		}
	}
	return v.next.RoundTrip(ctx, req, res)
}

func TestDiscoverLeavesOutVMsDeletedWhileRead(t *testing.T) {
	t.Parallel()
	s := startSim(t, testWorld())
	v := &vanishing{}
	c := connect(t, s, interposed(v, &v.next))
	inv := discover(t, c)
	if v.sent == 0 {
		t.Fatal("no batch read went out")
	}
	if len(inv.VMs) != 8 {
		t.Fatalf("%d VMs, want the 8 that exist", len(inv.VMs))
	}
	for _, vm := range inv.VMs {
		if vm.MoRef == "vm-deleted" {
			t.Fatalf("deleted VM discovered: %+v", vm)
		}
	}
}
