package vcentersim

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// createWorkers bounds concurrent CreateVM_Task calls while building: vcsim
// serializes creation on the parent folder, but power-on and the waits
// overlap, which turns ~37 s of sequential creation for 1,000 VMs into a
// few seconds. More workers than this only queue on the folder's lock, and
// vcsim's object lock wakes every waiter at each release: 32 workers built
// 12,000 VMs no faster than 8 did (45 s and 38 s, measured on 2 cores).
const createWorkers = 8

// buildGCPercent is the garbage collector's target while a world is built.
// vcsim copies each VM's devices through XML several times over while it
// creates it, so building is allocation-bound and, with the default of 100,
// spends its time collecting garbage around a live heap that grows with
// every VM: 12,000 VMs took 47 s at 100 and 27 s at 400 (measured on 2
// cores). The previous setting is restored when the build ends.
const buildGCPercent = 400

// builder turns a World into inventory through an in-process client: the
// same vSphere API a real client uses, without HTTP and XML in between.
type builder struct {
	c   *vim25.Client
	sim *simulator.Context
	dir string
	dcs map[string]*dcState
	ext *extensions
	seq atomic.Int64
}

var (
	gcMu       sync.Mutex
	gcBuilders int
	gcPrevious int
)

// raiseGCPercent sets buildGCPercent for as long as any world is being
// built in this process and returns the function that ends this build's
// claim; the last one restores the setting found. A process that collects
// less often already (GOGC higher, or off) is left alone.
func raiseGCPercent() (restore func()) {
	gcMu.Lock()
	defer gcMu.Unlock()
	if gcBuilders == 0 {
		gcPrevious = debug.SetGCPercent(buildGCPercent)
		if gcPrevious < 0 || gcPrevious >= buildGCPercent {
			debug.SetGCPercent(gcPrevious)
		}
	}
	gcBuilders++
	return func() {
		gcMu.Lock()
		defer gcMu.Unlock()
		if gcBuilders--; gcBuilders == 0 {
			debug.SetGCPercent(gcPrevious)
		}
	}
}

type dcState struct {
	name       string
	folders    *object.DatacenterFolders
	vmFolders  map[string]*object.Folder
	clusters   map[string]*clusterState
	firstClus  string
	hosts      map[string]*object.HostSystem
	hostClus   map[string]string
	datastores map[string]types.ManagedObjectReference
	networks   map[string]types.BaseVirtualDeviceBackingInfo
}

type clusterState struct {
	obj   *object.ClusterComputeResource
	root  *object.ResourcePool
	pools map[string]*object.ResourcePool
	hosts []string
}

func (b *builder) build(ctx context.Context, w World) error {
	root := object.NewRootFolder(b.c)
	b.dcs = map[string]*dcState{}
	for _, d := range w.Datacenters {
		if _, dup := b.dcs[d.Name]; dup {
			return fmt.Errorf("datacenter %q declared twice", d.Name)
		}
		st, err := b.datacenter(ctx, root, d)
		if err != nil {
			return fmt.Errorf("datacenter %q: %w", d.Name, err)
		}
		b.dcs[d.Name] = st
	}
	for _, d := range w.Datacenters {
		if err := b.machines(ctx, b.dcs[d.Name], d.VMs); err != nil {
			return fmt.Errorf("datacenter %q: %w", d.Name, err)
		}
	}
	m := object.NewCustomizationSpecManager(b.c)
	for _, s := range w.CustomizationSpecs {
		item := types.CustomizationSpecItem{
			Info: types.CustomizationSpecInfo{Name: s.Name, Type: specType(s.Windows)},
			Spec: customizationSpec(s),
		}
		if err := m.CreateCustomizationSpec(ctx, item); err != nil {
			return fmt.Errorf("customization spec %q: %w", s.Name, err)
		}
	}
	return nil
}

func specType(windows bool) string {
	if windows {
		return "Windows"
	}
	return "Linux"
}

func customizationSpec(s CustomizationSpec) types.CustomizationSpec {
	spec := types.CustomizationSpec{
		GlobalIPSettings: types.CustomizationGlobalIPSettings{DnsServerList: s.DNSServers},
	}
	if s.Windows {
		spec.Identity = &types.CustomizationSysprep{
			GuiUnattended: types.CustomizationGuiUnattended{TimeZone: 35},
			UserData: types.CustomizationUserData{
				FullName: "cutover", OrgName: "cutover",
				ComputerName: &types.CustomizationFixedName{Name: s.Hostname},
			},
			Identification: types.CustomizationIdentification{JoinWorkgroup: "WORKGROUP"},
		}
		spec.Options = &types.CustomizationWinOptions{ChangeSID: true}
	} else {
		spec.Identity = &types.CustomizationLinuxPrep{
			HostName: &types.CustomizationFixedName{Name: s.Hostname},
			Domain:   s.Domain,
			TimeZone: s.TimeZone,
		}
	}
	for range max(s.NICs, 1) {
		spec.NicSettingMap = append(spec.NicSettingMap, types.CustomizationAdapterMapping{
			Adapter: types.CustomizationIPSettings{Ip: &types.CustomizationDhcpIpGenerator{}},
		})
	}
	return spec
}

func (b *builder) datacenter(ctx context.Context, root *object.Folder, d Datacenter) (*dcState, error) {
	dc, err := root.CreateDatacenter(ctx, d.Name)
	if err != nil {
		return nil, err
	}
	folders, err := dc.Folders(ctx)
	if err != nil {
		return nil, err
	}
	st := &dcState{
		name:       d.Name,
		folders:    folders,
		vmFolders:  map[string]*object.Folder{"": folders.VmFolder},
		clusters:   map[string]*clusterState{},
		hosts:      map[string]*object.HostSystem{},
		hostClus:   map[string]string{},
		datastores: map[string]types.ManagedObjectReference{},
		networks: map[string]types.BaseVirtualDeviceBackingInfo{
			"VM Network": &types.VirtualEthernetCardNetworkBackingInfo{
				VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: "VM Network"},
			},
		},
	}
	for _, p := range d.Folders {
		if _, err := st.folder(ctx, p); err != nil {
			return nil, fmt.Errorf("folder %q: %w", p, err)
		}
	}
	var allHosts []*object.HostSystem
	for _, c := range d.Clusters {
		if _, dup := st.clusters[c.Name]; dup {
			return nil, fmt.Errorf("cluster %q declared twice", c.Name)
		}
		obj, err := folders.HostFolder.CreateCluster(ctx, c.Name, types.ClusterConfigSpecEx{})
		if err != nil {
			return nil, fmt.Errorf("cluster %q: %w", c.Name, err)
		}
		cs := &clusterState{obj: obj, pools: map[string]*object.ResourcePool{}, hosts: c.Hosts}
		for _, h := range c.Hosts {
			if _, dup := st.hosts[h]; dup {
				return nil, fmt.Errorf("host %q declared twice", h)
			}
			task, err := obj.AddHost(ctx, types.HostConnectSpec{HostName: h}, true, nil, nil)
			if err != nil {
				return nil, fmt.Errorf("host %q: %w", h, err)
			}
			info, err := task.WaitForResult(ctx)
			if err != nil {
				return nil, fmt.Errorf("host %q: %w", h, err)
			}
			host := object.NewHostSystem(b.c, info.Result.(types.ManagedObjectReference))
			st.hosts[h] = host
			st.hostClus[h] = c.Name
			allHosts = append(allHosts, host)
		}
		if cs.root, err = obj.ResourcePool(ctx); err != nil {
			return nil, err
		}
		for _, p := range c.Pools {
			pool, err := cs.root.Create(ctx, p, types.DefaultResourceConfigSpec())
			if err != nil {
				return nil, fmt.Errorf("pool %q: %w", p, err)
			}
			cs.pools[p] = pool
		}
		st.clusters[c.Name] = cs
		if st.firstClus == "" {
			st.firstClus = c.Name
		}
	}
	for _, name := range d.Datastores {
		dir := filepath.Join(b.dir, d.Name+"-"+name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		for _, h := range allHosts {
			dss, err := h.ConfigManager().DatastoreSystem(ctx)
			if err != nil {
				return nil, err
			}
			ds, err := dss.CreateLocalDatastore(ctx, name, dir)
			if err != nil {
				return nil, fmt.Errorf("datastore %q: %w", name, err)
			}
			st.datastores[name] = ds.Reference()
		}
	}
	if len(d.Networks) > 0 {
		if err := b.portgroups(ctx, st, d.Networks, allHosts); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func (st *dcState) folder(ctx context.Context, p string) (*object.Folder, error) {
	p = strings.Trim(p, "/")
	if f, ok := st.vmFolders[p]; ok {
		return f, nil
	}
	parent := st.vmFolders[""]
	if dir := path.Dir(p); dir != "." {
		var err error
		if parent, err = st.folder(ctx, dir); err != nil {
			return nil, err
		}
	}
	f, err := parent.CreateFolder(ctx, path.Base(p))
	if err != nil {
		return nil, err
	}
	st.vmFolders[p] = f
	return f, nil
}

func (b *builder) portgroups(ctx context.Context, st *dcState, names []string, hosts []*object.HostSystem) error {
	var spec types.DVSCreateSpec
	cfg := &types.VMwareDVSConfigSpec{}
	cfg.Name = st.name + "-dvs"
	spec.ConfigSpec = cfg
	task, err := st.folders.NetworkFolder.CreateDVS(ctx, spec)
	if err != nil {
		return err
	}
	info, err := task.WaitForResult(ctx)
	if err != nil {
		return fmt.Errorf("distributed switch: %w", err)
	}
	dvs := object.NewDistributedVirtualSwitch(b.c, info.Result.(types.ManagedObjectReference))
	// vcsim ignores hosts in the create spec; they join by reconfiguration.
	members := &types.DVSConfigSpec{}
	for _, h := range hosts {
		members.Host = append(members.Host, types.DistributedVirtualSwitchHostMemberConfigSpec{
			Operation: string(types.ConfigSpecOperationAdd),
			Host:      h.Reference(),
		})
	}
	if task, err = dvs.Reconfigure(ctx, members); err == nil {
		err = task.Wait(ctx)
	}
	if err != nil {
		return fmt.Errorf("distributed switch members: %w", err)
	}
	var pgs []types.DVPortgroupConfigSpec
	for _, n := range names {
		pgs = append(pgs, types.DVPortgroupConfigSpec{
			Name: n, Type: string(types.DistributedVirtualPortgroupPortgroupTypeEarlyBinding), NumPorts: 128,
		})
	}
	task, err = dvs.AddPortgroup(ctx, pgs)
	if err != nil {
		return err
	}
	if err := task.Wait(ctx); err != nil {
		return fmt.Errorf("port groups: %w", err)
	}
	folder := b.sim.Map.Get(st.folders.NetworkFolder.Reference()).(*simulator.Folder)
	for _, n := range names {
		e := b.sim.Map.FindByName(n, folder.ChildEntity)
		if e == nil {
			return fmt.Errorf("port group %q not found after creation", n)
		}
		backing, err := object.NewDistributedVirtualPortgroup(b.c, e.Reference()).EthernetCardBackingInfo(ctx)
		if err != nil {
			return fmt.Errorf("port group %q: %w", n, err)
		}
		st.networks[n] = backing
	}
	return nil
}

// placed is a VM description resolved against the datacenter.
type placed struct {
	vm     VM
	folder *object.Folder
	pool   *object.ResourcePool
	host   *object.HostSystem
	ds     string
}

func (st *dcState) place(ctx context.Context, vm VM) (placed, error) {
	p := placed{vm: vm}
	clus := vm.Cluster
	if clus == "" && vm.Host != "" {
		clus = st.hostClus[vm.Host]
	}
	if clus == "" {
		clus = st.firstClus
	}
	cs, ok := st.clusters[clus]
	if !ok {
		return p, fmt.Errorf("VM %q: cluster %q not declared", vm.Name, clus)
	}
	hostName := vm.Host
	if hostName == "" && len(cs.hosts) > 0 {
		hostName = cs.hosts[0]
	}
	if p.host, ok = st.hosts[hostName]; !ok || st.hostClus[hostName] != clus {
		return p, fmt.Errorf("VM %q: host %q not declared in cluster %q", vm.Name, hostName, clus)
	}
	p.pool = cs.root
	if vm.Pool != "" {
		if p.pool, ok = cs.pools[vm.Pool]; !ok {
			return p, fmt.Errorf("VM %q: pool %q not declared in cluster %q", vm.Name, vm.Pool, clus)
		}
	}
	p.ds = vm.Datastore
	if p.ds == "" {
		for name := range st.datastores {
			if p.ds == "" || name < p.ds {
				p.ds = name
			}
		}
	}
	if _, ok := st.datastores[p.ds]; !ok {
		return p, fmt.Errorf("VM %q: datastore %q not declared", vm.Name, p.ds)
	}
	var err error
	if p.folder, err = st.folder(ctx, vm.Folder); err != nil {
		return p, fmt.Errorf("VM %q: folder %q: %w", vm.Name, vm.Folder, err)
	}
	return p, nil
}

func (b *builder) machines(ctx context.Context, st *dcState, vms []VM) error {
	// Resolve everything first, sequentially: folder creation is not safe to
	// race and a bad description should fail before any VM exists.
	jobs := make([]placed, 0, len(vms))
	for _, vm := range vms {
		p, err := st.place(ctx, vm)
		if err != nil {
			return err
		}
		jobs = append(jobs, p)
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan placed)
	)
	for range createWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				if err := b.machine(ctx, st, p); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, p := range jobs {
		next <- p
	}
	close(next)
	wg.Wait()
	return firstErr
}

func (b *builder) machine(ctx context.Context, st *dcState, p placed) error {
	vm := p.vm
	ref, err := b.create(ctx, st, p, vm.Name)
	if err != nil {
		return fmt.Errorf("VM %q: create: %w", vm.Name, err)
	}
	obj := object.NewVirtualMachine(b.c, ref)
	if vm.NoTools {
		b.ext.setNoTools(ref)
	}
	toPowerOn := []*object.VirtualMachine{obj}
	if vm.FTSecondary != nil {
		sec, err := b.faultTolerant(ctx, st, p, ref)
		if err != nil {
			return fmt.Errorf("VM %q: fault tolerance: %w", vm.Name, err)
		}
		toPowerOn = append(toPowerOn, object.NewVirtualMachine(b.c, sec))
	}
	for _, s := range vm.Snapshots {
		if _, err := b.wait(obj.CreateSnapshot(ctx, s, "", false, false)); err != nil {
			return fmt.Errorf("VM %q: snapshot %q: %w", vm.Name, s, err)
		}
	}
	if vm.Template {
		if err := obj.MarkAsTemplate(ctx); err != nil {
			return fmt.Errorf("VM %q: mark as template: %w", vm.Name, err)
		}
		return nil
	}
	if vm.PowerState == string(types.VirtualMachinePowerStatePoweredOn) {
		for _, o := range toPowerOn {
			if _, err := b.wait(o.PowerOn(ctx)); err != nil {
				return fmt.Errorf("VM %q: power on: %w", vm.Name, err)
			}
		}
		if vm.GuestHostName != "" || vm.GuestIP != "" {
			b.guestIdentity(ref, vm.GuestHostName, vm.GuestIP)
		}
	}
	return nil
}

// guestIdentity makes a running guest report a host name and address, as
// one customized in an earlier process would.
func (b *builder) guestIdentity(ref types.ManagedObjectReference, hostname, ip string) {
	svm, ok := b.sim.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	b.sim.WithLock(svm, func() {
		var changes []types.PropertyChange
		if hostname != "" {
			changes = append(changes, types.PropertyChange{Name: "guest.hostName", Val: hostname},
				types.PropertyChange{Name: "summary.guest.hostName", Val: hostname})
		}
		if ip != "" {
			nets := append([]types.GuestNicInfo(nil), svm.Guest.Net...)
			if len(nets) > 0 {
				nets[0].IpAddress = []string{ip}
			}
			changes = append(changes, types.PropertyChange{Name: "guest.ipAddress", Val: ip},
				types.PropertyChange{Name: "summary.guest.ipAddress", Val: ip},
				types.PropertyChange{Name: "guest.net", Val: nets})
		}
		b.sim.Update(svm, changes)
	})
}

func (b *builder) create(ctx context.Context, st *dcState, p placed, name string) (types.ManagedObjectReference, error) {
	vm := p.vm
	guest := vm.GuestID
	if guest == "" {
		guest = string(types.VirtualMachineGuestOsIdentifierOtherGuest64)
	}
	spec := types.VirtualMachineConfigSpec{
		Name:     name,
		GuestId:  guest,
		NumCPUs:  max(vm.CPUs, 1),
		MemoryMB: max(vm.MemoryMB, 1024),
		Files:    &types.VirtualMachineFileInfo{VmPathName: "[" + p.ds + "]"},
	}
	var devices object.VirtualDeviceList
	scsi, err := devices.CreateSCSIController("pvscsi")
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	devices = append(devices, scsi)
	for i, d := range vm.Disks {
		dsName := d.Datastore
		if dsName == "" {
			dsName = p.ds
		}
		ds, ok := st.datastores[dsName]
		if !ok {
			return types.ManagedObjectReference{}, fmt.Errorf("disk %d: datastore %q not declared", i, dsName)
		}
		// On the VM's own datastore vcsim names the first disk inside the
		// VM's directory; later disks get their own names there, since
		// vcsim would log a clash for each before renaming. Elsewhere we
		// make a unique directory.
		file := ""
		if dsName == p.ds && i > 0 {
			file = fmt.Sprintf("[%s] %s/%s_%d.vmdk", dsName, name, name, i)
		}
		if dsName != p.ds {
			dir := fmt.Sprintf("%s-disks-%d", name, b.seq.Add(1))
			if err := os.MkdirAll(filepath.Join(b.dir, st.name+"-"+dsName, dir), 0o700); err != nil {
				return types.ManagedObjectReference{}, err
			}
			file = fmt.Sprintf("[%s] %s/%s_%d.vmdk", dsName, dir, name, i)
		}
		disk := devices.CreateDisk(scsi.(types.BaseVirtualController), ds, file)
		disk.CapacityInKB = max(d.SizeGB, 1) * 1024 * 1024
		devices = append(devices, disk)
	}
	for i, n := range vm.NICs {
		netName := n.Network
		if netName == "" {
			netName = "VM Network"
		}
		backing, ok := st.networks[netName]
		if !ok {
			return types.ManagedObjectReference{}, fmt.Errorf("NIC %d: network %q not declared", i, netName)
		}
		dev, err := object.EthernetCardTypes().CreateEthernetCard("vmxnet3", backing)
		if err != nil {
			return types.ManagedObjectReference{}, err
		}
		dev.GetVirtualDevice().Connectable = &types.VirtualDeviceConnectInfo{StartConnected: !n.Disconnected, AllowGuestControl: true}
		if n.MAC != "" {
			card := dev.(types.BaseVirtualEthernetCard).GetVirtualEthernetCard()
			card.MacAddress = n.MAC
			card.AddressType = string(types.VirtualEthernetCardMacTypeManual)
		}
		devices = append(devices, dev)
	}
	if spec.DeviceChange, err = devices.ConfigSpec(types.VirtualDeviceConfigSpecOperationAdd); err != nil {
		return types.ManagedObjectReference{}, err
	}
	res, err := b.wait(p.folder.CreateVM(ctx, spec, p.pool, p.host))
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	return res.(types.ManagedObjectReference), nil
}

// faultTolerant creates the secondary of an FT pair and stamps both VMs with
// the FT roles vCenter reports, since vcsim has no FT of its own.
func (b *builder) faultTolerant(ctx context.Context, st *dcState, p placed, primary types.ManagedObjectReference) (types.ManagedObjectReference, error) {
	sec := *p.vm.FTSecondary
	name := sec.Name
	if name == "" {
		name = p.vm.Name + " (secondary)"
	}
	host, ok := st.hosts[sec.Host]
	if !ok {
		return types.ManagedObjectReference{}, fmt.Errorf("secondary host %q not declared", sec.Host)
	}
	sp := p
	sp.host = host
	if clus := st.clusters[st.hostClus[sec.Host]]; clus != nil && st.hostClus[sec.Host] != st.hostClus[hostName(b.sim, p.host)] {
		sp.pool = clus.root
	}
	secondary, err := b.create(ctx, st, sp, name)
	if err != nil {
		return secondary, err
	}
	pvm := b.sim.Map.Get(primary).(*simulator.VirtualMachine)
	svm := b.sim.Map.Get(secondary).(*simulator.VirtualMachine)
	b.sim.WithLock(pvm, func() {
		b.sim.WithLock(svm, func() { setFTRoles(b.sim, pvm, svm) })
	})
	return secondary, nil
}

func hostName(ctx *simulator.Context, h *object.HostSystem) string {
	if e, ok := ctx.Map.Get(h.Reference()).(mo.Entity); ok {
		return e.Entity().Name
	}
	return ""
}

// wait waits for a task by looking at the simulator's task object directly.
// Waiting through the property collector costs a filter and a deep copy per
// update in process, which dominated building large worlds; vcsim's own
// Task.Wait sleeps 10 ms between looks, longer than most tasks take here,
// so this one starts at 50 µs and backs off to 5 ms.
func (b *builder) wait(task *object.Task, err error) (types.AnyType, error) {
	if err != nil {
		return nil, err
	}
	t, ok := b.sim.Map.Get(task.Reference()).(*simulator.Task)
	if !ok {
		return task.WaitForResult(context.Background())
	}
	var (
		res   types.AnyType
		fault error
		done  bool
	)
	lc := &simulator.Context{}
	for pause := 50 * time.Microsecond; ; pause = min(2*pause, 5*time.Millisecond) {
		b.sim.Map.WithLock(lc, t, func() {
			switch t.Info.State {
			case types.TaskInfoStateSuccess, types.TaskInfoStateError:
				done = true
				res = t.Info.Result
				if t.Info.Error != nil {
					fault = fmt.Errorf("%s: %T", t.Info.Name, t.Info.Error.Fault)
				}
			}
		})
		if done {
			return res, fault
		}
		time.Sleep(pause)
	}
}
