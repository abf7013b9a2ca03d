package vcentersim

import (
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// extensions adds the vSphere methods vcsim lacks. VM methods are served by
// a per-call wrapper around the registered *simulator.VirtualMachine, chosen
// by the registry's Handler hook: the registry itself keeps the original
// objects, because simulator internals type-assert them.
type extensions struct {
	mu      sync.Mutex
	busy    map[types.ManagedObjectReference]string // VM -> running extension task
	noTools map[types.ManagedObjectReference]bool
	login   *GuestLogin
}

func newExtensions() *extensions {
	return &extensions{
		busy:    map[types.ManagedObjectReference]string{},
		noTools: map[types.ManagedObjectReference]bool{},
	}
}

func (e *extensions) setNoTools(vm types.ManagedObjectReference) {
	e.mu.Lock()
	e.noTools[vm] = true
	e.mu.Unlock()
}

func (e *extensions) hasTools(vm types.ManagedObjectReference) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return !e.noTools[vm]
}

// toolsWatcher keeps guest.toolsRunningStatus in step with the power state,
// as a guest with VMware Tools reports it; vcsim reports tools running only
// for container-backed VMs.
type toolsWatcher struct {
	ext *extensions
}

func (t *toolsWatcher) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "CutoverToolsWatcher", Value: "tools-watcher"}
}

func (t *toolsWatcher) PutObject(*simulator.Context, mo.Reference)                    {}
func (t *toolsWatcher) RemoveObject(*simulator.Context, types.ManagedObjectReference) {}

func (t *toolsWatcher) UpdateObject(ctx *simulator.Context, obj mo.Reference, changes []types.PropertyChange) {
	ref := obj.Reference()
	if ref.Type != "VirtualMachine" {
		return
	}
	for _, c := range changes {
		if c.Name != "runtime.powerState" {
			continue
		}
		vm, ok := ctx.Map.Get(ref).(*simulator.VirtualMachine)
		if !ok {
			return
		}
		status, tools := types.VirtualMachineToolsRunningStatusGuestToolsNotRunning, types.VirtualMachineToolsStatusToolsNotRunning
		if c.Val == types.VirtualMachinePowerStatePoweredOn && t.ext.hasTools(ref) {
			status, tools = types.VirtualMachineToolsRunningStatusGuestToolsRunning, types.VirtualMachineToolsStatusToolsOk
		}
		ctx.Update(vm, []types.PropertyChange{
			{Name: "guest.toolsRunningStatus", Val: string(status)},
			{Name: "guest.toolsStatus", Val: tools},
		})
	}
}

// guestCustomizationManagerRef is where the simulated
// VirtualMachineGuestCustomizationManager lives; ServiceContent points to it.
var guestCustomizationManagerRef = types.ManagedObjectReference{
	Type: "VirtualMachineGuestCustomizationManager", Value: "GuestCustomizationManager",
}

func (e *extensions) install(ctx *simulator.Context) {
	ctx.Map.AddHandler(&toolsWatcher{ext: e})
	// The registry's Handler hook runs before dispatch, but a session's
	// lookup of the target falls back to the global registry and would
	// replace whatever the hook returns. Objects in the session's own
	// registry win, so the wrapper is placed there for the call; the
	// global registry keeps the original VM that vcsim internals expect.
	ctx.Map.Handler = func(cctx *simulator.Context, m *simulator.Method) (mo.Reference, types.BaseMethodFault) {
		if m.This.Type != "VirtualMachine" || cctx.Session == nil {
			return nil, nil
		}
		if _, ok := cctx.Session.Registry.Get(m.This).(*extendedVM); ok {
			cctx.Session.Remove(cctx, m.This)
		}
		switch m.Name {
		case "MigrateVM_Task", "MakePrimaryVM_Task", "ShutdownGuest", "CloneVM_Task":
			if vm, ok := ctx.Map.Get(m.This).(*simulator.VirtualMachine); ok {
				w := &extendedVM{VirtualMachine: vm, ext: e}
				cctx.Session.Put(w)
				return w, nil
			}
		}
		return nil, nil
	}
	ctx.Map.Put(&guestCustomizationManager{
		Self: guestCustomizationManagerRef, ext: e,
	})
	si := ctx.Map.Get(vim25.ServiceInstance).(*simulator.ServiceInstance)
	ref := guestCustomizationManagerRef
	si.Content.GuestCustomizationManager = &ref
}

// claim marks vm busy with op, or reports the fault a real vCenter gives a
// second concurrent operation on one VM.
func (e *extensions) claim(vm types.ManagedObjectReference, op string) types.BaseMethodFault {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, busy := e.busy[vm]; busy {
		return &types.TaskInProgress{}
	}
	e.busy[vm] = op
	return nil
}

func (e *extensions) release(vm types.ManagedObjectReference) {
	e.mu.Lock()
	delete(e.busy, vm)
	e.mu.Unlock()
}

type extendedVM struct {
	*simulator.VirtualMachine
	ext *extensions
}

// MigrateVMTask implements the deprecated MigrateVM_Task with the checks and
// faults of its reference page.
func (vm *extendedVM) MigrateVMTask(ctx *simulator.Context, req *types.MigrateVM_Task) soap.HasFault {
	self := vm.VirtualMachine
	task := simulator.CreateTask(self, "migrateVm", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		if self.Config != nil && self.Config.Template {
			return nil, &types.NotSupported{}
		}
		if req.State != "" && req.State != self.Runtime.PowerState {
			return nil, &types.InvalidPowerState{RequestedState: req.State, ExistingState: self.Runtime.PowerState}
		}
		pool := self.ResourcePool
		if req.Pool != nil {
			pool = req.Pool
		}
		p, ok := ctx.Map.Get(*pool).(mo.Entity)
		if !ok {
			return nil, &types.InvalidArgument{InvalidProperty: "pool"}
		}
		owner := poolOwner(p)
		host := req.Host
		if host == nil {
			if self.Runtime.Host != nil && hostParent(ctx, *self.Runtime.Host) == owner {
				host = self.Runtime.Host
			} else if !drsEnabled(ctx, owner) {
				return nil, &types.InvalidArgument{InvalidProperty: "host"}
			} else if host = firstHost(ctx, owner); host == nil {
				return nil, &types.NoActiveHostInCluster{}
			}
		}
		h, ok := ctx.Map.Get(*host).(*simulator.HostSystem)
		if !ok {
			return nil, &types.InvalidArgument{InvalidProperty: "host"}
		}
		if h.Parent == nil || *h.Parent != owner {
			return nil, &types.InvalidArgument{InvalidProperty: "host"}
		}
		if h.Runtime.InMaintenanceMode {
			return nil, &types.InvalidState{}
		}
		if f := poolRoom(ctx, *pool, self); f != nil {
			return nil, f
		}
		ctx.Update(self, []types.PropertyChange{
			{Name: "resourcePool", Val: *pool},
			{Name: "runtime.host", Val: *host},
			{Name: "summary.runtime.host", Val: *host},
		})
		return nil, nil
	})
	return &methods.MigrateVM_TaskBody{Res: &types.MigrateVM_TaskResponse{Returnval: task.Run(ctx)}}
}

// CloneVMTask checks what vcsim's CloneVM_Task does not, with the faults
// the CloneVM_Task reference page lists (vsphere-CloneVM_Task), as task
// faults the way vCenter reports them, then clones with vcsim:
//   - InvalidArgument: the host cannot run the VM (not in the target
//     pool's compute resource);
//   - InvalidState: the target host is in maintenance mode;
//   - InvalidDatastore: the target datastore is in maintenance mode or not
//     mounted on the target host;
//   - InsufficientResourcesFault (InsufficientMemoryResourcesFault): the
//     target pool's memory limit is below the VM's memory;
//   - CustomizationFault (NicSettingMismatch): the customization sets more
//     adapters than the VM has.
func (vm *extendedVM) CloneVMTask(ctx *simulator.Context, req *types.CloneVM_Task) soap.HasFault {
	self := vm.VirtualMachine
	if f := cloneFault(ctx, self, req); f != nil {
		task := simulator.CreateTask(self, "cloneVm", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) { return nil, f })
		return &methods.CloneVM_TaskBody{Res: &types.CloneVM_TaskResponse{Returnval: task.Run(ctx)}}
	}
	return self.CloneVMTask(ctx, req)
}

func cloneFault(ctx *simulator.Context, self *simulator.VirtualMachine, req *types.CloneVM_Task) types.BaseMethodFault {
	loc := req.Spec.Location
	pool := self.ResourcePool
	if loc.Pool != nil {
		pool = loc.Pool
	}
	host := self.Runtime.Host
	if loc.Host != nil {
		host = loc.Host
	}
	var h *simulator.HostSystem
	if host != nil {
		h, _ = ctx.Map.Get(*host).(*simulator.HostSystem)
	}
	if h != nil && loc.Host != nil && pool != nil {
		if p, ok := ctx.Map.Get(*pool).(mo.Entity); ok && (h.Parent == nil || *h.Parent != poolOwner(p)) {
			return &types.InvalidArgument{InvalidProperty: "spec.location.host"}
		}
	}
	if h != nil && h.Runtime.InMaintenanceMode {
		return &types.InvalidState{}
	}
	if loc.Datastore != nil {
		ds, ok := ctx.Map.Get(*loc.Datastore).(*simulator.Datastore)
		if !ok {
			return &types.InvalidDatastore{Datastore: loc.Datastore}
		}
		mounted := h == nil
		for _, m := range ds.Host {
			mounted = mounted || m.Key == h.Self
		}
		if ds.Summary.MaintenanceMode == string(types.DatastoreSummaryMaintenanceModeStateInMaintenance) || !mounted {
			return &types.InvalidDatastore{Datastore: loc.Datastore, Name: ds.Name}
		}
	}
	if pool != nil && !req.Spec.Template {
		if f := poolRoom(ctx, *pool, self); f != nil {
			return f
		}
	}
	if c := req.Spec.Customization; c != nil {
		nics := 0
		for _, d := range self.Config.Hardware.Device {
			if _, ok := d.(types.BaseVirtualEthernetCard); ok {
				nics++
			}
		}
		if len(c.NicSettingMap) > nics {
			return &types.NicSettingMismatch{NumberOfNicsInSpec: int32(len(c.NicSettingMap)), NumberOfNicsInVM: int32(nics)}
		}
	}
	return nil
}

// poolRoom is InsufficientMemoryResourcesFault when the pool's memory limit
// (MB; -1 means none) is below what the VM is configured with: the
// admission check both CloneVM_Task and MigrateVM_Task pages name as
// InsufficientResourcesFault.
func poolRoom(ctx *simulator.Context, pool types.ManagedObjectReference, vm *simulator.VirtualMachine) types.BaseMethodFault {
	p, ok := ctx.Map.Get(pool).(*simulator.ResourcePool)
	if !ok || p.Config.MemoryAllocation.Limit == nil || vm.Config == nil || p.Parent == nil || p.Parent.Type != "ResourcePool" {
		// A cluster's root pool carries vcsim's made-up capacity, not a
		// limit anyone set: only child pools are checked.
		return nil
	}
	limit, need := *p.Config.MemoryAllocation.Limit, int64(vm.Config.Hardware.MemoryMB)
	if limit >= 0 && limit < need {
		return &types.InsufficientMemoryResourcesFault{Unreserved: limit << 20, Requested: need << 20}
	}
	return nil
}

func poolOwner(p mo.Entity) types.ManagedObjectReference {
	switch x := p.(type) {
	case *simulator.ResourcePool:
		return x.Owner
	}
	return types.ManagedObjectReference{}
}

func hostParent(ctx *simulator.Context, ref types.ManagedObjectReference) types.ManagedObjectReference {
	if h, ok := ctx.Map.Get(ref).(*simulator.HostSystem); ok && h.Parent != nil {
		return *h.Parent
	}
	return types.ManagedObjectReference{}
}

func drsEnabled(ctx *simulator.Context, owner types.ManagedObjectReference) bool {
	c, ok := ctx.Map.Get(owner).(*simulator.ClusterComputeResource)
	if !ok {
		return false
	}
	cfg, ok := c.ConfigurationEx.(*types.ClusterConfigInfoEx)
	return ok && cfg.DrsConfig.Enabled != nil && *cfg.DrsConfig.Enabled
}

func firstHost(ctx *simulator.Context, owner types.ManagedObjectReference) *types.ManagedObjectReference {
	c, ok := ctx.Map.Get(owner).(*simulator.ClusterComputeResource)
	if !ok {
		return nil
	}
	for _, ref := range c.Host {
		if h, ok := ctx.Map.Get(ref).(*simulator.HostSystem); ok && !h.Runtime.InMaintenanceMode {
			return &ref
		}
	}
	return nil
}

// ShutdownGuest refuses a guest without running tools, as vCenter does;
// vcsim alone powers such a VM off regardless.
func (vm *extendedVM) ShutdownGuest(ctx *simulator.Context, req *types.ShutdownGuest) soap.HasFault {
	self := vm.VirtualMachine
	if self.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn &&
		(self.Guest == nil || self.Guest.ToolsRunningStatus != string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)) {
		return &methods.ShutdownGuestBody{Fault_: simulator.Fault("", &types.ToolsUnavailable{})}
	}
	return self.ShutdownGuest(ctx, req)
}

// MakePrimaryVMTask implements MakePrimaryVM_Task: invoked on the primary of
// a fault-tolerant pair, it makes req.Vm (a secondary) the primary.
func (vm *extendedVM) MakePrimaryVMTask(ctx *simulator.Context, req *types.MakePrimaryVM_Task) soap.HasFault {
	self := vm.VirtualMachine
	body := &methods.MakePrimaryVM_TaskBody{}
	if fault := vm.ext.claim(self.Self, "makePrimary"); fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	task := simulator.CreateTask(self, "makePrimaryVm", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		defer vm.ext.release(self.Self)
		if self.Config == nil {
			return nil, &types.InvalidState{}
		}
		switch ft := self.Config.FtInfo.(type) {
		case nil:
			return nil, &types.VmFaultToleranceIssue{}
		case *types.FaultToleranceSecondaryConfigInfo:
			return nil, &types.InvalidOperationOnSecondaryVm{InstanceUuid: self.Config.InstanceUuid}
		case *types.FaultTolerancePrimaryConfigInfo:
			found := false
			for _, s := range ft.Secondaries {
				found = found || s == req.Vm
			}
			if !found {
				return nil, &types.InvalidArgument{InvalidProperty: "vm"}
			}
		}
		if self.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
			return nil, &types.InvalidPowerState{
				RequestedState: types.VirtualMachinePowerStatePoweredOn, ExistingState: self.Runtime.PowerState,
			}
		}
		if h, ok := ctx.Map.Get(*self.Runtime.Host).(*simulator.HostSystem); ok && h.Runtime.InMaintenanceMode {
			return nil, &types.InvalidState{}
		}
		sec, ok := ctx.Map.Get(req.Vm).(*simulator.VirtualMachine)
		if !ok {
			return nil, &types.InvalidArgument{InvalidProperty: "vm"}
		}
		ctx.WithLock(sec, func() { setFTRoles(ctx, sec, self) })
		return nil, nil
	})
	body.Res = &types.MakePrimaryVM_TaskResponse{Returnval: task.Run(ctx)}
	return body
}

// setFTRoles records primary and secondary the way vCenter reports an FT
// pair: role 1 with the secondaries listed on the primary, role 2 with the
// primary named on the secondary, and a running FT state on both.
func setFTRoles(ctx *simulator.Context, primary, secondary *simulator.VirtualMachine) {
	uuids := []string{primary.Config.InstanceUuid, secondary.Config.InstanceUuid}
	paths := []string{primary.Config.Files.VmPathName, secondary.Config.Files.VmPathName}
	ctx.Update(primary, []types.PropertyChange{
		{Name: "config.ftInfo", Val: &types.FaultTolerancePrimaryConfigInfo{
			FaultToleranceConfigInfo: types.FaultToleranceConfigInfo{Role: 1, InstanceUuids: uuids, ConfigPaths: paths},
			Secondaries:              []types.ManagedObjectReference{secondary.Self},
		}},
		{Name: "runtime.faultToleranceState", Val: types.VirtualMachineFaultToleranceStateRunning},
	})
	ctx.Update(secondary, []types.PropertyChange{
		{Name: "config.ftInfo", Val: &types.FaultToleranceSecondaryConfigInfo{
			FaultToleranceConfigInfo: types.FaultToleranceConfigInfo{Role: 2, InstanceUuids: uuids, ConfigPaths: paths},
			PrimaryVM:                primary.Self,
		}},
		{Name: "runtime.faultToleranceState", Val: types.VirtualMachineFaultToleranceStateRunning},
	})
}

// guestCustomizationManager is the VirtualMachineGuestCustomizationManager
// that vcsim's vpx model lacks.
type guestCustomizationManager struct {
	Self types.ManagedObjectReference
	ext  *extensions
}

func (m *guestCustomizationManager) Reference() types.ManagedObjectReference { return m.Self }

// CustomizeGuestTask customizes a running guest: the VM must be powered on
// with tools running, and only one customization runs per VM at a time.
func (m *guestCustomizationManager) CustomizeGuestTask(ctx *simulator.Context, req *types.CustomizeGuest_Task) soap.HasFault {
	body := &methods.CustomizeGuest_TaskBody{}
	vm, ok := ctx.Map.Get(req.Vm).(*simulator.VirtualMachine)
	if !ok {
		body.Fault_ = simulator.Fault("", &types.ManagedObjectNotFound{Obj: req.Vm})
		return body
	}
	if fault := m.ext.checkLogin(req.Auth); fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	if fault := m.ext.claim(vm.Self, "customizeGuest"); fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	task := simulator.CreateTask(vm, "customizeGuest", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		defer m.ext.release(vm.Self)
		if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
			return nil, &types.InvalidPowerState{
				RequestedState: types.VirtualMachinePowerStatePoweredOn, ExistingState: vm.Runtime.PowerState,
			}
		}
		if vm.Guest == nil || vm.Guest.ToolsRunningStatus != string(types.VirtualMachineToolsRunningStatusGuestToolsRunning) {
			return nil, &types.InvalidState{}
		}
		return nil, applyGuestCustomization(ctx, vm, &req.Spec)
	})
	body.Res = &types.CustomizeGuest_TaskResponse{Returnval: task.Run(ctx)}
	return body
}

// checkLogin refuses guest logins the world does not know, as a guest
// would: InvalidGuestLogin.
func (e *extensions) checkLogin(auth types.BaseGuestAuthentication) types.BaseMethodFault {
	np, ok := auth.(*types.NamePasswordAuthentication)
	if !ok || np.Username == "" {
		return &types.InvalidGuestLogin{}
	}
	if e.login != nil && (np.Username != e.login.Username || np.Password != e.login.Password) {
		return &types.InvalidGuestLogin{}
	}
	return nil
}

// applyGuestCustomization writes what a guest reports after customization:
// host name, per-NIC addresses and DNS, and the customization status.
func applyGuestCustomization(ctx *simulator.Context, vm *simulator.VirtualMachine, spec *types.CustomizationSpec) types.BaseMethodFault {
	nets := append([]types.GuestNicInfo(nil), vm.Guest.Net...)
	if len(spec.NicSettingMap) > len(nets) {
		return &types.NicSettingMismatch{
			NumberOfNicsInSpec: int32(len(spec.NicSettingMap)), NumberOfNicsInVM: int32(len(nets)),
		}
	}
	var hostname, domain string
	switch id := spec.Identity.(type) {
	case *types.CustomizationLinuxPrep:
		hostname, domain = fixedName(id.HostName), id.Domain
	case *types.CustomizationSysprep:
		hostname = fixedName(id.UserData.ComputerName)
		domain = id.Identification.JoinDomain
	default:
		return &types.CustomizationFault{}
	}
	if hostname == "" {
		return &types.CustomizationFault{}
	}
	if domain != "" {
		hostname += "." + domain
	}
	address := ""
	for i, s := range spec.NicSettingMap {
		nic := &nets[i]
		dns := types.NetDnsConfigInfo{HostName: hostname, IpAddress: spec.GlobalIPSettings.DnsServerList}
		if len(s.Adapter.DnsServerList) > 0 {
			dns.IpAddress = s.Adapter.DnsServerList
		}
		nic.DnsConfig = &dns
		if ip, ok := s.Adapter.Ip.(*types.CustomizationFixedIp); ok {
			nic.IpAddress = []string{ip.IpAddress}
			if address == "" {
				address = ip.IpAddress
			}
		}
	}
	changes := []types.PropertyChange{
		{Name: "guest.hostName", Val: hostname},
		{Name: "summary.guest.hostName", Val: hostname},
		{Name: "guest.net", Val: nets},
		{Name: "guest.customizationInfo", Val: &types.GuestInfoCustomizationInfo{
			CustomizationStatus: string(types.GuestInfoCustomizationStatusTOOLSDEPLOYPKG_SUCCEEDED),
		}},
	}
	if address != "" {
		changes = append(changes,
			types.PropertyChange{Name: "guest.ipAddress", Val: address},
			types.PropertyChange{Name: "summary.guest.ipAddress", Val: address})
	}
	ctx.Update(vm, changes)
	return nil
}

func fixedName(n types.BaseCustomizationName) string {
	if f, ok := n.(*types.CustomizationFixedName); ok {
		return strings.TrimSpace(f.Name)
	}
	return ""
}
