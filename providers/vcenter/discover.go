package vcenter

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// vmProperties is the explicit property list of a discovery: everything the
// planner diffs and nothing else (config.hardware.device is the expensive
// one, and the only way to see disks and NICs).
var vmProperties = []string{
	"name", "parent", "parentVApp", "resourcePool", "datastore",
	"runtime.host", "runtime.powerState", "runtime.faultToleranceState",
	"config.uuid", "config.instanceUuid", "config.template", "config.changeVersion",
	"config.guestId", "config.guestFullName", "config.hardware.device", "config.ftInfo",
	"config.hardware.numCPU", "config.hardware.memoryMB",
	"guest.toolsRunningStatus", "guest.hostName", "guest.ipAddress",
	"snapshot",
}

// DiscoveryProperties is the VM property list a discovery reads, for
// comparing with other tools that read the same.
func DiscoveryProperties() []string { return append([]string(nil), vmProperties...) }

// entityTypes are read with name and parent only, to build paths and
// resolve placement names.
var entityTypes = []string{
	"Folder", "Datacenter", "ClusterComputeResource", "ComputeResource", "HostSystem",
	"ResourcePool", "VirtualApp", "Datastore", "StoragePod", "Network", "DistributedVirtualPortgroup",
	"OpaqueNetwork", "DistributedVirtualSwitch", "VmwareDistributedVirtualSwitch",
}

// discoverPageSize is the page size asked of RetrievePropertiesEx; vCenter
// may return fewer per page and a token to continue. Each page is turned
// into compact records as it arrives and dropped, so the page bounds the
// raw property data (device trees included) held at once: a thousand VMs
// is a few megabytes of decoded objects.
const discoverPageSize = 1000

// discoverBatch is how many objects one RetrievePropertiesEx of a
// discovery names, and discoverInFlight how many such reads are out at
// once. A property collector gathers everything a call's filter selects
// before it returns the first page (vcsim does exactly that, and so does
// vCenter for a traversal, which it must resolve to know what to page),
// so a single read of a whole container view keeps the client idle while
// the server gathers fifty thousand VMs, then keeps the server idle while
// the client decodes the pages. Naming the objects in batches bounds each
// gather to a batch, and with a few batches out at once the server
// gathers the next while the client decodes the last: round trips grow
// with batches only (one per thousand objects, plus the member list), and
// at most discoverInFlight batches of raw objects are held at once.
const (
	discoverBatch    = 1000
	discoverInFlight = 3
)

// Discover reads every VM and placement object under the root folder: the
// members of one container view (its view property, morefs only), then
// their properties in batches naming them: name and parent for all
// entities (to build paths), the full vmProperties list for VMs. With
// Config.Datacenter set, only that datacenter's VMs are returned.
func (c *Client) Discover(ctx context.Context) (*Inventory, error) {
	relogins := c.Relogins()
	inv, err := c.discover(ctx, "discovery", vmProperties)
	if err != nil && c.Relogins() != relogins {
		// The container view belonged to the session that expired; the
		// retried call ran in a new session that cannot see it. Start over.
		c.log.Info("session changed during discovery; discovering again", "vcenter", c.name)
		return c.discover(ctx, "discovery", vmProperties)
	}
	return inv, err
}

// discover reads the inventory with vmProps for each VM; what names the
// read in errors.
func (c *Client) discover(ctx context.Context, what string, vmProps []string) (*Inventory, error) {
	refs, err := c.viewMembers(ctx, append([]string{"VirtualMachine"}, entityTypes...))
	if err != nil {
		return nil, fmt.Errorf("vcenter %q: %s: %w", c.name, what, err)
	}
	b := &inventoryBuilder{nodes: make(map[string]node, len(refs))}
	if err := c.readObjects(ctx, refs, vmProps, b.add); err != nil {
		return nil, fmt.Errorf("vcenter %q: %s: %w", c.name, what, err)
	}
	return c.buildInventory(b)
}

// viewMembers lists the objects of the given kinds under the root folder:
// a recursive ContainerView's view property (ManagedObjectView.view, the
// morefs the view maps), read in one call and the view destroyed at once.
// Entities come first and VMs last, so the few entities share the first
// batch and every later batch is VMs only.
func (c *Client) viewMembers(ctx context.Context, kinds []string) ([]types.ManagedObjectReference, error) {
	views := view.NewManager(c.vim)
	cv, err := views.CreateContainerView(ctx, c.vim.ServiceContent.RootFolder, kinds, true)
	if err != nil {
		return nil, fmt.Errorf("create container view: %w", err)
	}
	defer func() { _ = cv.Destroy(context.WithoutCancel(ctx)) }()
	spec := types.PropertyFilterSpec{
		ObjectSet: []types.ObjectSpec{{Obj: cv.Reference()}},
		PropSet:   []types.PropertySpec{{Type: "ContainerView", PathSet: []string{"view"}}},
	}
	var refs []types.ManagedObjectReference
	err = c.retrieveSpec(ctx, spec, 0, func(contents []types.ObjectContent) error {
		for _, oc := range contents {
			for _, p := range oc.PropSet {
				if a, ok := p.Val.(types.ArrayOfManagedObjectReference); ok && p.Name == "view" {
					refs = append(refs, a.ManagedObjectReference...)
				}
			}
			if len(oc.MissingSet) > 0 {
				m := oc.MissingSet[0]
				return fmt.Errorf("%s: %s", m.Path, faultMessage(m.Fault))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read container view: %w", err)
	}
	sort.SliceStable(refs, func(i, j int) bool {
		return refs[i].Type != "VirtualMachine" && refs[j].Type == "VirtualMachine"
	})
	return refs, nil
}

// faultMessage is a missing property's fault as text: its message when
// the server gave one, else its type.
func faultMessage(f types.LocalizedMethodFault) string {
	if f.LocalizedMessage != "" {
		return f.LocalizedMessage
	}
	if f.Fault == nil {
		return "unknown fault"
	}
	return fmt.Sprintf("%T", f.Fault)
}

// readObjects reads refs, discoverBatch at a time with up to
// discoverInFlight batches out at once, and hands each page to page, one
// page at a time in the order pages arrive: vmProps for VMs, name and
// parent for everything else. An object deleted since it was listed is
// left out (reportMissingObjectsInResults, so one vanished VM does not
// fail the read with ManagedObjectNotFound). The first error stops the
// batches not yet sent and is returned.
func (c *Client) readObjects(ctx context.Context, refs []types.ManagedObjectReference, vmProps []string, page func([]types.ObjectContent) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		pageMu   sync.Mutex // page is called by one batch at a time
		errMu    sync.Mutex
		firstErr error
		slots    = make(chan struct{}, discoverInFlight)
	)
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
		cancel()
	}
	for start := 0; start < len(refs); start += discoverBatch {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		batch := refs[start:min(start+discoverBatch, len(refs))]
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			err := c.retrieveSpec(ctx, batchSpec(batch, vmProps), discoverPageSize, func(contents []types.ObjectContent) error {
				pageMu.Lock()
				defer pageMu.Unlock()
				return page(dropMissingObjects(contents))
			})
			if err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}

// batchSpec is a property filter naming each of refs (no traversal), with
// one property list per type present.
func batchSpec(refs []types.ManagedObjectReference, vmProps []string) types.PropertyFilterSpec {
	spec := types.PropertyFilterSpec{
		ObjectSet:                     make([]types.ObjectSpec, 0, len(refs)),
		ReportMissingObjectsInResults: newTrue(),
	}
	typed := map[string]bool{}
	for _, ref := range refs {
		spec.ObjectSet = append(spec.ObjectSet, types.ObjectSpec{Obj: ref})
		if typed[ref.Type] {
			continue
		}
		typed[ref.Type] = true
		ps := types.PropertySpec{Type: ref.Type, PathSet: []string{"name", "parent"}}
		if ref.Type == "VirtualMachine" {
			ps.PathSet = vmProps
		}
		spec.PropSet = append(spec.PropSet, ps)
	}
	return spec
}

// dropMissingObjects removes the objects a read reports as gone
// (ManagedObjectNotFound in their missing set): deleted between the
// member list and the read, they are no longer part of the inventory.
func dropMissingObjects(contents []types.ObjectContent) []types.ObjectContent {
	out := contents[:0]
	for _, oc := range contents {
		gone := false
		for _, m := range oc.MissingSet {
			if _, ok := m.Fault.Fault.(*types.ManagedObjectNotFound); ok {
				gone = true
			}
		}
		if !gone {
			out = append(out, oc)
		}
	}
	return out
}

// retrieveSpec reads every page of one property filter, maxObjects at a
// time, handing each to page as it arrives.
func (c *Client) retrieveSpec(ctx context.Context, spec types.PropertyFilterSpec, maxObjects int32, page func([]types.ObjectContent) error) error {
	pc := c.vim.ServiceContent.PropertyCollector
	res, err := methods.RetrievePropertiesEx(ctx, c.vim, &types.RetrievePropertiesEx{
		This: pc, SpecSet: []types.PropertyFilterSpec{spec},
		Options: types.RetrieveOptions{MaxObjects: maxObjects},
	})
	if err != nil {
		return err
	}
	r := res.Returnval
	for r != nil {
		if err := page(r.Objects); err != nil {
			return err
		}
		if r.Token == "" {
			break
		}
		next, err := methods.ContinueRetrievePropertiesEx(ctx, c.vim, &types.ContinueRetrievePropertiesEx{This: pc, Token: r.Token})
		if err != nil {
			return err
		}
		r = &next.Returnval
	}
	return nil
}

func newTrue() *bool { b := true; return &b }

type node struct {
	kind, name, parent string
}

// inventoryBuilder collects compact records page by page: a name and
// parent per entity, a VM record per VM. Paths need every entity, so they
// are built once all pages are in.
type inventoryBuilder struct {
	nodes map[string]node
	vms   []*VM
}

func (b *inventoryBuilder) add(contents []types.ObjectContent) error {
	for _, oc := range contents {
		if oc.Obj.Type == "VirtualMachine" {
			oc.MissingSet = nil // inaccessible VMs keep what could be read
			v, err := mo.ObjectContentToType(oc)
			if err != nil {
				return fmt.Errorf("decode %s: %w", oc.Obj.Value, err)
			}
			m := v.(mo.VirtualMachine)
			parent := ""
			switch {
			case m.Parent != nil:
				parent = m.Parent.Value
			case m.ParentVApp != nil: // VMs inside a vApp have no folder
				parent = m.ParentVApp.Value
			}
			b.nodes[oc.Obj.Value] = node{kind: "VirtualMachine", name: m.Name, parent: parent}
			b.vms = append(b.vms, vmFromMO(&m))
			continue
		}
		n := node{kind: oc.Obj.Type}
		for _, p := range oc.PropSet {
			switch p.Name {
			case "name":
				n.name, _ = p.Val.(string)
			case "parent":
				if ref, ok := p.Val.(types.ManagedObjectReference); ok {
					n.parent = ref.Value
				}
			}
		}
		b.nodes[oc.Obj.Value] = n
	}
	return nil
}

func (c *Client) buildInventory(b *inventoryBuilder) (*Inventory, error) {
	nodes := b.nodes
	paths := make(map[string]string, len(nodes))
	var pathOf func(ref string, depth int) string
	pathOf = func(ref string, depth int) string {
		if p, ok := paths[ref]; ok {
			return p
		}
		n, ok := nodes[ref]
		if !ok || depth > 64 { // the root folder is not in the view
			return ""
		}
		p := pathOf(n.parent, depth+1) + "/" + n.name
		paths[ref] = p
		return p
	}
	datacenterOf := func(ref string) string {
		for i := 0; ref != "" && i < 64; i++ {
			n := nodes[ref]
			if n.kind == "Datacenter" {
				return ref
			}
			ref = n.parent
		}
		return ""
	}

	inv := &Inventory{byMoRef: map[string]Entity{}, vmByRef: map[string]*VM{}}
	var dcFilter string
	for ref, n := range nodes {
		e := Entity{MoRef: ref, Type: n.kind, Name: n.name, Path: pathOf(ref, 0)}
		inv.byMoRef[ref] = e
		if n.kind == "Datacenter" && c.dcName() != "" && (n.name == c.dcName() || e.Path == c.dcName()) {
			dcFilter = ref
		}
		switch n.kind {
		case "Datacenter":
			inv.Datacenters = append(inv.Datacenters, e)
		case "ClusterComputeResource", "ComputeResource":
			inv.Clusters = append(inv.Clusters, e)
		case "HostSystem":
			inv.Hosts = append(inv.Hosts, e)
		case "ResourcePool", "VirtualApp":
			inv.Pools = append(inv.Pools, e)
		case "Datastore", "StoragePod":
			inv.Datastores = append(inv.Datastores, e)
		case "Folder":
			inv.Folders = append(inv.Folders, e)
		case "Network", "DistributedVirtualPortgroup", "OpaqueNetwork":
			inv.Networks = append(inv.Networks, e)
		}
	}
	if c.dcName() != "" && dcFilter == "" {
		return nil, fmt.Errorf("datacenter %q not found", c.dcName())
	}
	for _, v := range b.vms {
		v.Path = pathOf(v.MoRef, 0)
		v.Datacenter = datacenterOf(v.MoRef)
		if dcFilter != "" && v.Datacenter != dcFilter {
			continue
		}
		inv.VMs = append(inv.VMs, v)
	}
	for _, list := range [][]Entity{inv.Datacenters, inv.Clusters, inv.Hosts, inv.Pools, inv.Datastores, inv.Folders, inv.Networks} {
		sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	}
	sort.Slice(inv.VMs, func(i, j int) bool { return inv.VMs[i].Path < inv.VMs[j].Path })
	inv.index()
	return inv, nil
}

func vmFromMO(m *mo.VirtualMachine) *VM {
	v := &VM{
		Name:       m.Name,
		MoRef:      m.Self.Value,
		PowerState: string(m.Runtime.PowerState),
		FTState:    string(m.Runtime.FaultToleranceState),
	}
	if m.Parent != nil {
		v.Folder = m.Parent.Value
	}
	if m.ResourcePool != nil {
		v.Pool = m.ResourcePool.Value
	}
	if m.Runtime.Host != nil {
		v.Host = m.Runtime.Host.Value
	}
	for _, ds := range m.Datastore {
		v.Datastores = append(v.Datastores, ds.Value)
	}
	if m.Guest != nil {
		v.ToolsStatus = m.Guest.ToolsRunningStatus
		v.GuestHostName = m.Guest.HostName
		v.GuestIP = m.Guest.IpAddress
	}
	if cfg := m.Config; cfg != nil {
		v.BIOSUUID = cfg.Uuid
		v.InstanceUUID = cfg.InstanceUuid
		v.Template = cfg.Template
		v.ChangeVersion = cfg.ChangeVersion
		v.GuestID = cfg.GuestId
		v.GuestFullName = cfg.GuestFullName
		v.NumCPU = cfg.Hardware.NumCPU
		v.MemoryMB = cfg.Hardware.MemoryMB
		if ft := cfg.FtInfo; ft != nil {
			info := ft.GetFaultToleranceConfigInfo()
			v.FTRole = info.Role
			switch x := ft.(type) {
			case *types.FaultTolerancePrimaryConfigInfo:
				for _, s := range x.Secondaries {
					v.FTPartner = append(v.FTPartner, s.Value)
				}
			case *types.FaultToleranceSecondaryConfigInfo:
				v.FTPartner = []string{x.PrimaryVM.Value}
			}
		}
		v.Disks, v.NICs = devices(cfg.Hardware.Device)
	}
	if m.Snapshot != nil {
		v.Snapshots = snapshots(m.Snapshot.RootSnapshotList)
		if m.Snapshot.CurrentSnapshot != nil {
			v.CurrentSnapshot = m.Snapshot.CurrentSnapshot.Value
		}
	}
	return v
}

func snapshots(list []types.VirtualMachineSnapshotTree) []Snapshot {
	var out []Snapshot
	for _, s := range list {
		out = append(out, Snapshot{
			MoRef: s.Snapshot.Value, Name: s.Name, Created: s.CreateTime,
			Children: snapshots(s.ChildSnapshotList),
		})
	}
	return out
}

func devices(list []types.BaseVirtualDevice) ([]Disk, []NIC) {
	var disks []Disk
	var nics []NIC
	for _, d := range list {
		dev := d.GetVirtualDevice()
		label := ""
		if dev.DeviceInfo != nil {
			label = dev.DeviceInfo.GetDescription().Label
		}
		switch x := d.(type) {
		case *types.VirtualDisk:
			disk := Disk{Key: dev.Key, Label: label, SizeBytes: x.CapacityInBytes}
			if disk.SizeBytes == 0 {
				disk.SizeBytes = x.CapacityInKB * 1024
			}
			if fb, ok := x.Backing.(types.BaseVirtualDeviceFileBackingInfo); ok {
				info := fb.GetVirtualDeviceFileBackingInfo()
				disk.FileName = info.FileName
				if info.Datastore != nil {
					disk.Datastore = info.Datastore.Value
				}
			}
			disk.BackingUUID = diskUUID(x.Backing)
			disks = append(disks, disk)
		case types.BaseVirtualEthernetCard:
			card := x.GetVirtualEthernetCard()
			nic := NIC{Key: dev.Key, Label: label, MAC: card.MacAddress}
			if c := card.Connectable; c != nil {
				nic.Connected, nic.StartConnected = c.Connected, c.StartConnected
			}
			switch b := card.Backing.(type) {
			case *types.VirtualEthernetCardNetworkBackingInfo:
				if b.Network != nil {
					nic.Network = b.Network.Value
				}
			case *types.VirtualEthernetCardDistributedVirtualPortBackingInfo:
				nic.Network = b.Port.PortgroupKey
			case *types.VirtualEthernetCardOpaqueNetworkBackingInfo:
				nic.Network = b.OpaqueNetworkId
			}
			nics = append(nics, nic)
		}
	}
	return disks, nics
}

func diskUUID(b types.BaseVirtualDeviceBackingInfo) string {
	switch x := b.(type) {
	case *types.VirtualDiskFlatVer2BackingInfo:
		return x.Uuid
	case *types.VirtualDiskSparseVer2BackingInfo:
		return x.Uuid
	case *types.VirtualDiskRawDiskMappingVer1BackingInfo:
		return x.Uuid
	case *types.VirtualDiskSeSparseBackingInfo:
		return x.Uuid
	}
	return ""
}
