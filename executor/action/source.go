package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"cutover/planner"
	"cutover/providers/vcenter"
	"cutover/schema"
)

// SourceBefore is the before-image of a vCenter step: the provider's Undo
// (its JSON fields are promoted, so it also decodes as a vcenter.Undo)
// plus the names an inverse needs to find what the step created, because
// snapshot and clone morefs are known only when the task ends.
type SourceBefore struct {
	vcenter.Undo
	SnapshotName string `json:"snapshotName,omitempty"`
	CloneName    string `json:"cloneName,omitempty"`
	// GuestHostName and GuestIP are what the clone's guest reported before
	// a recustomization: its inverse customizes them back.
	GuestHostName string `json:"guestHostName,omitempty"`
	GuestIP       string `json:"guestIp,omitempty"`
}

// sourceState is one fresh read of a VM's vCenter side.
type sourceState struct {
	client *vcenter.Client
	inv    *vcenter.Inventory
	vm     *vcenter.VM // identity from discovery; placement and power below are fresh
	ref    vcenter.VMRef

	power     string
	placement vcenter.Placement
	snapshots []snapshotRef // depth first
	ftPrimary bool
	ftMember  bool
}

// inventory returns the cached discovery of a vCenter, discovering it on
// first use or when refresh is set.
func (r *Runner) inventory(ctx context.Context, name string, refresh bool) (*vcenter.Inventory, error) {
	c := r.env.VCenters[name]
	if c == nil {
		return nil, fmt.Errorf("no connection for vcenter %q", name)
	}
	r.mu.Lock()
	inv := r.vcInv[name]
	r.mu.Unlock()
	if inv != nil && !refresh {
		return inv, nil
	}
	// One discovery at a time: the first steps of a parallel walk would
	// otherwise each read the whole inventory.
	r.discoverMu.Lock()
	defer r.discoverMu.Unlock()
	r.mu.Lock()
	fresh := r.vcInv[name]
	r.mu.Unlock()
	if fresh != nil && (fresh != inv || !refresh) {
		return fresh, nil // another goroutine discovered while this one waited
	}
	inv, err := c.Discover(ctx)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.vcInv[name] = inv
	r.mu.Unlock()
	return inv, nil
}

func selectorOf(vm *schema.VM) vcenter.Selector {
	return vcenter.Selector{Name: vm.Source.Name, Path: vm.Source.Path, MoRef: vm.Source.Moref, InstanceUUID: vm.Source.InstanceUUID}
}

// sourceIdentity matches the runbook VM in the cached discovery, and in a
// fresh one when the cached one does not have it.
func (r *Runner) sourceIdentity(ctx context.Context, vm *schema.VM) (*vcenter.VM, error) {
	v, _, err := r.matchSource(ctx, vm, false)
	return v, err
}

func (r *Runner) matchSource(ctx context.Context, vm *schema.VM, refresh bool) (*vcenter.VM, *vcenter.Inventory, error) {
	inv, err := r.inventory(ctx, vm.Source.VCenter, refresh)
	if err != nil {
		return nil, nil, err
	}
	v, err := inv.MatchVM(selectorOf(vm))
	var me *vcenter.MatchError
	if err != nil && !refresh && errors.As(err, &me) && len(me.Candidates) == 0 {
		return r.matchSource(ctx, vm, true)
	}
	return v, inv, err
}

// vmProps are the properties a step's gate and done check read fresh.
var vmProps = []string{"name", "runtime.powerState", "runtime.host", "resourcePool", "datastore", "parent", "snapshot", "config.ftInfo"}

// readSource reads the VM's power state, placement, snapshots and FT role
// fresh with one property-collector call.
func (r *Runner) readSource(ctx context.Context, vm *schema.VM) (*sourceState, error) {
	refresh := false
	for {
		v, inv, err := r.matchSource(ctx, vm, refresh)
		if err != nil {
			return nil, err
		}
		c := r.env.VCenters[vm.Source.VCenter]
		s, err := readVM(ctx, c, v.MoRef)
		if err != nil {
			if fault.Is(err, &types.ManagedObjectNotFound{}) && !refresh {
				refresh = true // the VM was re-registered since discovery
				continue
			}
			return nil, err
		}
		s.client, s.inv, s.vm, s.ref = c, inv, v, v.Ref()
		return s, nil
	}
}

func readVM(ctx context.Context, c *vcenter.Client, moref string) (*sourceState, error) {
	var m mo.VirtualMachine
	ref := types.ManagedObjectReference{Type: "VirtualMachine", Value: moref}
	if err := property.DefaultCollector(c.Vim()).RetrieveOne(ctx, ref, vmProps, &m); err != nil {
		return nil, err
	}
	s := &sourceState{power: string(m.Runtime.PowerState)}
	if m.Runtime.Host != nil {
		s.placement.Host = m.Runtime.Host.Value
	}
	if m.ResourcePool != nil {
		s.placement.Pool = m.ResourcePool.Value
	}
	if len(m.Datastore) > 0 {
		s.placement.Datastore = m.Datastore[0].Value
	}
	if m.Parent != nil {
		s.placement.Folder = m.Parent.Value
	}
	if m.Snapshot != nil {
		var walk func([]types.VirtualMachineSnapshotTree)
		walk = func(l []types.VirtualMachineSnapshotTree) {
			for _, t := range l {
				s.snapshots = append(s.snapshots, snapshotRef{name: t.Name, moref: t.Snapshot.Value})
				walk(t.ChildSnapshotList)
			}
		}
		walk(m.Snapshot.RootSnapshotList)
	}
	if m.Config != nil {
		switch m.Config.FtInfo.(type) {
		case *types.FaultTolerancePrimaryConfigInfo:
			s.ftMember, s.ftPrimary = true, true
		case *types.FaultToleranceSecondaryConfigInfo:
			s.ftMember = true
		}
	}
	return s, nil
}

type snapshotRef struct{ name, moref string }

// snapshot returns the moref of the first snapshot named name.
func (s *sourceState) snapshot(name string) (string, bool) {
	for _, x := range s.snapshots {
		if x.name == name {
			return x.moref, true
		}
	}
	return "", false
}

// input is a step input, or the runbook's own value when the plan shows
// the input redacted.
func input(step planner.Step, key, runbook string) string {
	v, ok := step.Inputs[key]
	if !ok {
		return ""
	}
	if v == "(sensitive)" {
		return runbook
	}
	return v
}

func selectorFor(v string) vcenter.Selector {
	if strings.Contains(v, "/") {
		return vcenter.Selector{Path: v}
	}
	return vcenter.Selector{Name: v}
}

// placement resolves the step's placement inputs (names or inventory
// paths) to morefs.
func placement(inv *vcenter.Inventory, host, pool, ds, folder string) (vcenter.Placement, error) {
	var p vcenter.Placement
	for _, x := range []struct {
		v    string
		kind vcenter.Kind
		out  *string
	}{{host, vcenter.KindHost, &p.Host}, {pool, vcenter.KindPool, &p.Pool}, {ds, vcenter.KindDatastore, &p.Datastore}, {folder, vcenter.KindFolder, &p.Folder}} {
		if x.v == "" {
			continue
		}
		if e, ok := inv.Entity(x.v); ok {
			// A moref, as an inverse step carries the recorded placement.
			*x.out = e.MoRef
			continue
		}
		e, err := inv.Resolve(x.kind, selectorFor(x.v))
		if err != nil {
			return p, err
		}
		*x.out = e.MoRef
	}
	return p, nil
}

func (r *Runner) relocateTo(step planner.Step, vm *schema.VM, inv *vcenter.Inventory) (vcenter.Placement, error) {
	s := vm.Source
	return placement(inv, input(step, "host", s.Host), input(step, "resource_pool", s.ResourcePool),
		input(step, "datastore", s.Datastore), input(step, "folder", s.Folder))
}

// movePriority maps a plan's priority input to vSphere's.
func movePriority(p string) vcenter.MovePriority {
	switch p {
	case "high":
		return vcenter.PriorityHigh
	case "low":
		return vcenter.PriorityLow
	}
	return vcenter.PriorityDefault
}

func satisfied(want, have vcenter.Placement) bool {
	same := func(w, h string) bool { return w == "" || w == h }
	return same(want.Host, have.Host) && same(want.Pool, have.Pool) && same(want.Datastore, have.Datastore) && same(want.Folder, have.Folder)
}

func snapshotName(step planner.Step, vm *schema.VM) string {
	return input(step, "name", "cutover-"+vm.Target.Name)
}

// ftMember finds the fault-tolerance member the step wants primary: the
// one at the given VM path, or the one running on the given host.
func (r *Runner) ftMember(ctx context.Context, step planner.Step, vm *schema.VM, s *sourceState) (vcenter.VMRef, error) {
	members := []*vcenter.VM{s.vm}
	for _, p := range s.vm.FTPartner {
		if pv, ok := s.inv.VM(p); ok {
			members = append(members, pv)
		}
	}
	// A rollback names the recorded primary by moref: matched as a moref
	// only, never as a name or path, which a moref may look like.
	if moref := step.Inputs[planner.InputPrimaryMoref]; moref != "" {
		for _, m := range members {
			if m.MoRef == moref {
				return m.Ref(), nil
			}
		}
		return vcenter.VMRef{}, fmt.Errorf("no fault-tolerance member of %s has moref %s (members: %s)", s.vm.Name, moref, memberList(members))
	}
	want := input(step, "primary", vm.Source.FTPrimary)
	for _, m := range members {
		if samePlace(want, m.Path) {
			return m.Ref(), nil
		}
		if e, ok := s.inv.Entity(m.Host); ok && samePlace(want, e.Path) {
			return m.Ref(), nil
		}
	}
	return vcenter.VMRef{}, fmt.Errorf("no fault-tolerance member of %s is %q or runs on it", s.vm.Name, want)
}

func memberList(members []*vcenter.VM) string {
	out := make([]string, len(members))
	for i, m := range members {
		out[i] = m.Name + " (" + m.MoRef + ")"
	}
	return strings.Join(out, ", ")
}

// samePlace compares a runbook placement (name or path) with a live path.
func samePlace(want, have string) bool {
	if strings.EqualFold(want, have) {
		return true
	}
	if strings.HasPrefix(want, "/") {
		return false
	}
	return strings.EqualFold(have[strings.LastIndex(have, "/")+1:], want) || strings.HasSuffix(strings.ToLower(have), "/"+strings.ToLower(want))
}

// isolation resolves the rehearsal's isolated network and refuses one the
// source's own adapters are on (the planner refuses it too, but the world
// may have changed since).
func isolation(inv *vcenter.Inventory, reh *schema.Rehearsal, src *vcenter.VM) (vcenter.Isolation, error) {
	if reh.Network == "" {
		return vcenter.Isolation{}, nil
	}
	e, err := inv.Resolve(vcenter.KindNetwork, selectorFor(reh.Network))
	if err != nil {
		return vcenter.Isolation{}, fmt.Errorf("rehearsal network: %w", err)
	}
	for _, n := range src.NICs {
		if n.Network == e.MoRef {
			return vcenter.Isolation{}, fmt.Errorf("rehearsal network %s is a network %s's adapters are on; a clone there would be a second copy of the server on production", e.Path, src.Name)
		}
	}
	return vcenter.Isolation{Network: e.MoRef, NetworkType: e.Type}, nil
}

func (r *Runner) cloneSpec(step planner.Step, vm *schema.VM, inv *vcenter.Inventory, s *vcenter.VM) (vcenter.CloneSpec, error) {
	reh := vm.Rehearsal
	if reh == nil {
		return vcenter.CloneSpec{}, fmt.Errorf("the vm has no rehearsal block")
	}
	p, err := placement(inv, input(step, "host", reh.Host), input(step, "resource_pool", reh.ResourcePool),
		input(step, "datastore", reh.Datastore), input(step, "folder", reh.Folder))
	if err != nil {
		return vcenter.CloneSpec{}, err
	}
	iso, err := isolation(inv, reh, s)
	if err != nil {
		return vcenter.CloneSpec{}, err
	}
	cs := vcenter.CloneSpec{Name: reh.Name, Placement: p, PowerOn: reh.PowerOn, Isolation: &iso}
	if cu := reh.Customization; cu != nil {
		if cu.Spec != "" {
			cs.CustomizationSpecName = cu.Spec
		} else {
			cs.Customization = toCustomization(cu)
		}
	}
	return cs, nil
}

// toCustomization is the provider's form of a runbook customization.
func toCustomization(cu *schema.Customization) *vcenter.Customization {
	c := &vcenter.Customization{
		Windows: strings.EqualFold(cu.OS, "windows"), Hostname: cu.Hostname, Domain: cu.Domain, Workgroup: cu.Workgroup,
		DNSServers: cu.DNSServers,
	}
	if c.Windows {
		// Windows wants Microsoft's time zone index; a runbook may give it
		// as a number.
		if n, err := strconv.Atoi(cu.TimeZone); err == nil {
			c.WindowsTimeZone = int32(n)
		}
	} else {
		c.TimeZone = cu.TimeZone
	}
	for _, n := range cu.NICs {
		c.NICs = append(c.NICs, vcenter.NICSetting{IP: n.IP, Netmask: n.Netmask, Gateways: n.Gateway, DNS: cu.DNSServers})
	}
	return c
}

// recustomization is what a customize_rehearsal step applies: the
// runbook's recustomize block, or, for its inverse, the host name and
// address recorded before. The guest's netmask is not read back, so a
// restored address takes the netmask the runbook declares for the first
// adapter (clone customization first, else recustomize).
func recustomization(step planner.Step, vm *schema.VM) (vcenter.GuestCustomization, error) {
	if vm.Rehearsal == nil || vm.Rehearsal.Recustomize == nil {
		return vcenter.GuestCustomization{}, fmt.Errorf("the vm's rehearsal has no recustomize block")
	}
	rc := vm.Rehearsal.Recustomize
	g := vcenter.GuestCustomization{Credentials: &vcenter.GuestCredentials{Username: rc.GuestUsername, Password: rc.GuestPassword.Reveal()}}
	host, ok := step.Inputs["restore_hostname"]
	if !ok {
		g.Settings = toCustomization(&rc.Customization)
		return g, nil
	}
	c := &vcenter.Customization{Windows: strings.EqualFold(rc.OS, "windows"), Hostname: host}
	if i := strings.Index(host, "."); i > 0 {
		c.Hostname, c.Domain = host[:i], host[i+1:]
	}
	if ip := step.Inputs["restore_ip"]; ip != "" {
		mask := ""
		for _, cu := range []*schema.Customization{vm.Rehearsal.Customization, &rc.Customization} {
			if cu != nil && len(cu.NICs) > 0 && cu.NICs[0].Netmask != "" && mask == "" {
				mask = cu.NICs[0].Netmask
			}
		}
		if mask == "" {
			return g, fmt.Errorf("cannot restore address %s: no netmask is declared for the clone's first adapter", ip)
		}
		c.NICs = []vcenter.NICSetting{{IP: ip, Netmask: mask}}
	}
	g.Settings = c
	return g, nil
}

// recustomized reports whether the clone's guest reports what the step
// applies.
func recustomized(step planner.Step, vm *schema.VM, clone *vcenter.VM) bool {
	if host, ok := step.Inputs["restore_hostname"]; ok {
		ip := step.Inputs["restore_ip"]
		return strings.EqualFold(clone.GuestHostName, host) && (ip == "" || clone.GuestIP == ip)
	}
	if vm.Rehearsal == nil || vm.Rehearsal.Recustomize == nil {
		return false
	}
	return planner.Recustomized(vm.Rehearsal.Recustomize, &planner.LiveClone{GuestHostName: clone.GuestHostName, GuestIP: clone.GuestIP})
}

// cloneVM is the rehearsal clone in a fresh discovery, or nil.
func (r *Runner) cloneVM(ctx context.Context, step planner.Step, vm *schema.VM) (*vcenter.VM, error) {
	name, err := cloneName(step, vm)
	if err != nil {
		return nil, err
	}
	if n := step.Inputs["clone"]; n != "" {
		name = n
	}
	inv, err := r.inventory(ctx, vm.Source.VCenter, true)
	if err != nil {
		return nil, err
	}
	escaped := vcenter.EscapeName(name)
	for _, v := range inv.VMs {
		if v.Name == escaped {
			return v, nil
		}
	}
	return nil, nil
}

// cloneReady is why a recustomization must wait, or "": CustomizeGuest_Task
// needs the clone powered on with VMware Tools running (its page).
func cloneReady(clone *vcenter.VM, name string) string {
	switch {
	case clone == nil:
		return fmt.Sprintf("the rehearsal clone %q does not exist yet", name)
	case clone.PowerState != string(types.VirtualMachinePowerStatePoweredOn):
		return fmt.Sprintf("the rehearsal clone %s is %s; CustomizeGuest_Task needs it powered on", clone.Name, clone.PowerState)
	case clone.ToolsStatus != string(types.VirtualMachineToolsRunningStatusGuestToolsRunning):
		return fmt.Sprintf("VMware Tools are not running in the rehearsal clone %s (%s)", clone.Name, clone.ToolsStatus)
	}
	return ""
}

// findClone looks for the clone in a fresh discovery: it was created
// after the cached one.
func (r *Runner) findClone(ctx context.Context, vm *schema.VM, name string) (vcenter.VMRef, bool, error) {
	inv, err := r.inventory(ctx, vm.Source.VCenter, true)
	if err != nil {
		return vcenter.VMRef{}, false, err
	}
	// vCenter keeps the name escaped; the runbook's is literal.
	escaped := vcenter.EscapeName(name)
	for _, v := range inv.VMs {
		if v.Name == escaped {
			return v.Ref(), true, nil
		}
	}
	return vcenter.VMRef{}, false, nil
}

// cloneName is the rehearsal clone's name: the step's input, else the
// runbook's.
func cloneName(step planner.Step, vm *schema.VM) (string, error) {
	def := ""
	if vm.Rehearsal != nil {
		def = vm.Rehearsal.Name
	}
	if n := input(step, "name", def); n != "" {
		return n, nil
	}
	if def == "" {
		return "", fmt.Errorf("the vm has no rehearsal block")
	}
	return def, nil
}

func (r *Runner) gateSource(ctx context.Context, step planner.Step, vm *schema.VM) (string, error) {
	s, err := r.readSource(ctx, vm)
	if err != nil {
		var me *vcenter.MatchError
		if errors.As(err, &me) {
			return me.Error(), nil
		}
		return "", err
	}
	return r.gateSourceFrom(ctx, step, vm, s), nil
}

func (r *Runner) gateSourceFrom(ctx context.Context, step planner.Step, vm *schema.VM, s *sourceState) string {
	switch step.Kind {
	case planner.StepRelocate:
		if _, err := r.relocateTo(step, vm, s.inv); err != nil {
			return err.Error()
		}
	case planner.StepMakeFTPrimary:
		if !s.ftMember {
			return s.vm.Name + " is not part of a fault-tolerant pair"
		}
		if _, err := r.ftMember(ctx, step, vm, s); err != nil {
			return err.Error()
		}
	case planner.StepCloneRehearsal:
		if _, err := r.cloneSpec(step, vm, s.inv, s.vm); err != nil {
			return err.Error()
		}
	case planner.StepCustomizeRehearsal:
		if _, err := recustomization(step, vm); err != nil {
			return err.Error()
		}
		clone, err := r.cloneVM(ctx, step, vm)
		if err != nil {
			return err.Error()
		}
		return cloneReady(clone, step.Inputs["clone"])
	case planner.StepShutdown:
		if m := step.Inputs["mode"]; m != "" && m != string(schema.ShutdownGuest) && m != string(schema.ShutdownHard) {
			return "unknown shutdown mode " + strconv.Quote(m)
		}
	}
	return ""
}

func (r *Runner) doneSource(ctx context.Context, step planner.Step, vm *schema.VM) (bool, error) {
	switch step.Kind {
	case planner.StepCustomizeRehearsal:
		clone, err := r.cloneVM(ctx, step, vm)
		if err != nil || clone == nil {
			return false, err
		}
		return recustomized(step, vm, clone), nil
	case planner.StepCloneRehearsal, KindDestroyClone:
		name, err := cloneName(step, vm)
		if err != nil {
			return false, err
		}
		_, exists, err := r.findClone(ctx, vm, name)
		return exists == (step.Kind == planner.StepCloneRehearsal), err
	}
	s, err := r.readSource(ctx, vm)
	if err != nil {
		return false, err
	}
	return r.doneSourceFrom(ctx, step, vm, s)
}

func (r *Runner) doneSourceFrom(ctx context.Context, step planner.Step, vm *schema.VM, s *sourceState) (bool, error) {
	switch step.Kind {
	case planner.StepRelocate:
		to, err := r.relocateTo(step, vm, s.inv)
		if err != nil {
			return false, err
		}
		return satisfied(to, s.placement), nil
	case planner.StepSnapshot:
		_, ok := s.snapshot(snapshotName(step, vm))
		return ok, nil
	case KindRemoveSnapshot:
		_, ok := s.snapshot(snapshotName(step, vm))
		return !ok, nil
	case planner.StepShutdown:
		return s.power == string(types.VirtualMachinePowerStatePoweredOff), nil
	case planner.StepPowerOn:
		return s.power == string(types.VirtualMachinePowerStatePoweredOn), nil
	case planner.StepMakeFTPrimary:
		if !s.ftMember {
			return false, nil
		}
		want, err := r.ftMember(ctx, step, vm, s)
		if err != nil {
			return false, err
		}
		ws, err := readVM(ctx, s.client, want.MoRef)
		if err != nil {
			return false, err
		}
		return ws.ftPrimary, nil
	case planner.StepCloneRehearsal, KindDestroyClone, planner.StepCustomizeRehearsal:
		return r.doneSource(ctx, step, vm)
	}
	return false, fmt.Errorf("no vCenter operation for step kind %q", step.Kind)
}

// startSource checks the gate, then runs the provider operation in the
// background and returns as soon as vCenter has a task for it (or, for a
// guest shutdown, which has no task, as soon as vCenter accepted it).
func (r *Runner) startSource(ctx context.Context, step planner.Step, vm *schema.VM) (Started, error) {
	s, err := r.readSource(ctx, vm)
	if err != nil {
		return Started{}, err
	}
	if reason := r.gateSourceFrom(ctx, step, vm, s); reason != "" {
		return Started{}, &GateError{Gate: step.Gate, Reason: reason}
	}
	if step.Kind == planner.StepPowerOn {
		if err := r.copiesOff(ctx, step, vm); err != nil {
			return Started{}, err
		}
	}
	before := SourceBefore{}
	var op func(context.Context, vcenter.Watch) (vcenter.Undo, error)
	var shutdown *ShutdownHandle
	c, ref := s.client, s.ref
	switch step.Kind {
	case planner.StepRelocate:
		to, _ := r.relocateTo(step, vm, s.inv)
		if step.Inputs["method"] == planner.MethodMigrate {
			m := vcenter.Migration{Priority: movePriority(step.Inputs["priority"]), State: step.Inputs["state"]}
			op = func(ctx context.Context, w vcenter.Watch) (vcenter.Undo, error) { return c.Migrate(ctx, ref, to, m, w) }
			break
		}
		op = func(ctx context.Context, w vcenter.Watch) (vcenter.Undo, error) { return c.Relocate(ctx, ref, to, w) }
	case planner.StepSnapshot:
		name := snapshotName(step, vm)
		before.SnapshotName = name
		if done, _ := r.doneSourceFrom(ctx, step, vm, s); done {
			// Snapshot names are not unique in vSphere: a second one would
			// be a second snapshot, not a no-op.
			before.Undo = vcenter.Undo{Op: vcenter.OpSnapshot, VM: ref}
			return startedSource(before, nil)
		}
		op = func(ctx context.Context, w vcenter.Watch) (vcenter.Undo, error) {
			return c.Snapshot(ctx, ref, name, "taken by cutover before the cutover of "+vm.Address, false, w)
		}
	case planner.StepShutdown:
		if step.Inputs["mode"] == string(schema.ShutdownHard) {
			op = func(ctx context.Context, w vcenter.Watch) (vcenter.Undo, error) { return c.PowerOff(ctx, ref, w) }
			break
		}
		timeout := r.shutdownTimeout
		shutdown = &ShutdownHandle{VM: ref, Deadline: time.Now().Add(timeout).UTC(), Fallback: true}
		op = func(ctx context.Context, w vcenter.Watch) (vcenter.Undo, error) {
			return c.ShutdownGuest(ctx, ref, vcenter.Shutdown{Timeout: timeout, FallbackPowerOff: true}, w)
		}
	case planner.StepPowerOn:
		op = func(ctx context.Context, w vcenter.Watch) (vcenter.Undo, error) { return c.PowerOn(ctx, ref, w) }
	case planner.StepMakeFTPrimary:
		want, _ := r.ftMember(ctx, step, vm, s)
		op = func(ctx context.Context, w vcenter.Watch) (vcenter.Undo, error) { return c.MakePrimary(ctx, want, w) }
	case planner.StepCloneRehearsal:
		cs, _ := r.cloneSpec(step, vm, s.inv, s.vm)
		before.CloneName = cs.Name
		clone, exists, err := r.findClone(ctx, vm, cs.Name)
		if err != nil {
			return Started{}, err
		}
		if exists {
			// An earlier attempt created it: make sure it is isolated (and
			// running, if asked) rather than clone again.
			before.Undo = vcenter.Undo{Op: vcenter.OpClone, VM: ref, Clone: &clone}
			op = func(ctx context.Context, w vcenter.Watch) (vcenter.Undo, error) {
				return before.Undo, c.Isolate(ctx, clone, *cs.Isolation, cs.PowerOn, w)
			}
			break
		}
		op = func(ctx context.Context, w vcenter.Watch) (vcenter.Undo, error) { return c.Clone(ctx, ref, cs, w) }
	case planner.StepCustomizeRehearsal:
		clone, err := r.cloneVM(ctx, step, vm)
		if err != nil {
			return Started{}, err
		}
		if why := cloneReady(clone, step.Inputs["clone"]); why != "" {
			return Started{}, &GateError{Gate: step.Gate, Reason: why}
		}
		g, _ := recustomization(step, vm)
		before.CloneName = input(step, "clone", vm.Rehearsal.Name) // as the runbook writes it, unescaped
		before.GuestHostName, before.GuestIP = clone.GuestHostName, clone.GuestIP
		cref := clone.Ref()
		op = func(ctx context.Context, w vcenter.Watch) (vcenter.Undo, error) {
			return c.CustomizeGuest(ctx, cref, g, w)
		}
	case KindRemoveSnapshot:
		before.SnapshotName = snapshotName(step, vm)
		before.Undo = vcenter.Undo{Op: vcenter.OpRemoveSnapshot, VM: ref}
		moref, ok := s.snapshot(before.SnapshotName)
		if !ok {
			return startedSource(before, nil) // already gone
		}
		op = func(ctx context.Context, w vcenter.Watch) (vcenter.Undo, error) {
			return vcenter.Undo{}, c.RemoveSnapshot(ctx, ref, moref, w)
		}
	case KindDestroyClone:
		name, err := cloneName(step, vm)
		if err != nil {
			return Started{}, err
		}
		clone, exists, err := r.findClone(ctx, vm, name)
		if err != nil {
			return Started{}, err
		}
		if clone.MoRef == ref.MoRef {
			return Started{}, &GateError{Reason: fmt.Sprintf("the clone name %q names the source VM itself", name)}
		}
		before.CloneName = name
		before.Undo = vcenter.Undo{Op: vcenter.OpDestroy, VM: clone}
		if !exists {
			return startedSource(before, nil) // already gone
		}
		op = func(ctx context.Context, w vcenter.Watch) (vcenter.Undo, error) {
			return vcenter.Undo{}, c.Destroy(ctx, clone, w)
		}
	default:
		return Started{}, fmt.Errorf("no vCenter operation for step kind %q", step.Kind)
	}

	f := r.launch(ctx, op, shutdown != nil)
	select {
	case <-f.announced:
	case <-f.done:
	case <-ctx.Done():
		// The request may be out; the operation goes on and is recorded
		// so that Wait in this process can still follow it.
		r.keep(step.ID, f)
		return Started{}, ctx.Err()
	}
	f.mu.Lock()
	h, u, finished, ferr := f.handle, f.before, f.finished, f.err
	if finished {
		u = &f.undo
	}
	f.mu.Unlock()
	if u != nil {
		before.Undo = *u
	}
	if finished && ferr != nil {
		return Started{}, ferr
	}
	var env *Handle
	switch {
	case shutdown != nil && before.PowerState != string(types.VirtualMachinePowerStatePoweredOff):
		// Asked to shut down (possibly already off by now): journal it.
		env = &Handle{Shutdown: shutdown}
	case h != nil:
		env = &Handle{VCenter: h}
	}
	if env != nil {
		r.keep(step.ID, f)
	}
	return startedSource(before, env)
}

func startedSource(before SourceBefore, h *Handle) (Started, error) {
	var out Started
	var err error
	if out.Before, err = json.Marshal(before); err != nil {
		return out, err
	}
	if h != nil {
		out.Handle, err = json.Marshal(h)
	}
	return out, err
}

// inflight is a vCenter operation running in this process. The provider
// waits for its own tasks (and retries transient faults with a new task),
// so Wait in the same process follows this rather than the first handle.
type inflight struct {
	cancel    context.CancelFunc
	done      chan struct{}
	announced chan struct{}
	announce  sync.Once

	mu       sync.Mutex
	handle   *vcenter.Handle
	before   *vcenter.Undo
	undo     vcenter.Undo
	err      error
	finished bool
	progress func(Progress)
}

// launch runs op in the background. The operation outlives the caller's
// context on purpose: the executor's Start context ends when Start
// returns, and the task is journaled by then.
//
// A task-based operation is announced when its task exists. A guest
// shutdown has no task; it is announced at its first progress report,
// which the provider makes only after vCenter accepted the request.
func (r *Runner) launch(ctx context.Context, op func(context.Context, vcenter.Watch) (vcenter.Undo, error), taskless bool) *inflight {
	opCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &inflight{cancel: cancel, done: make(chan struct{}), announced: make(chan struct{})}
	w := vcenter.Watch{
		Before: func(u vcenter.Undo) {
			f.mu.Lock()
			f.before = &u
			f.mu.Unlock()
		},
		Started: func(h vcenter.Handle) {
			f.mu.Lock()
			f.handle = &h
			f.mu.Unlock()
			f.announce.Do(func() { close(f.announced) })
		},
		Progress: func(p vcenter.Progress) {
			f.mu.Lock()
			fn := f.progress
			f.mu.Unlock()
			if taskless {
				f.announce.Do(func() { close(f.announced) })
			}
			if fn != nil {
				fn(Progress{Percent: int(p.Percent), Message: p.State})
			}
		},
	}
	go func() {
		defer cancel()
		u, err := op(opCtx, w)
		f.mu.Lock()
		f.undo, f.err, f.finished = u, err, true
		f.mu.Unlock()
		close(f.done)
	}()
	return f
}

func (r *Runner) keep(id string, f *inflight) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.inflight[id]; old != nil && old != f {
		old.cancel()
	}
	r.inflight[id] = f
}

func (r *Runner) take(id string) *inflight {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inflight[id]
}

func (r *Runner) drop(id string, f *inflight) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight[id] == f {
		delete(r.inflight, id)
	}
}

// waitInflight follows an operation started by this Runner.
func (r *Runner) waitInflight(ctx context.Context, id string, f *inflight, progress func(Progress)) error {
	f.mu.Lock()
	f.progress = progress
	f.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
		f.mu.Lock()
		f.progress = nil
		f.mu.Unlock()
		return ctx.Err()
	}
	r.drop(id, f)
	return f.err
}

// waitLocal is Wait without a handle: only an operation this Runner still
// follows can be waited for.
func (r *Runner) waitLocal(ctx context.Context, step planner.Step, progress func(Progress)) error {
	if f := r.take(step.ID); f != nil {
		return r.waitInflight(ctx, step.ID, f, progress)
	}
	return nil
}

func (r *Runner) waitSource(ctx context.Context, step planner.Step, vm *schema.VM, h Handle, progress func(Progress)) error {
	if f := r.take(step.ID); f != nil {
		return r.waitInflight(ctx, step.ID, f, progress)
	}
	c := r.env.VCenters[vm.Source.VCenter]
	if h.Shutdown != nil {
		return r.waitShutdown(ctx, c, *h.Shutdown, progress)
	}
	_, err := c.Wait(ctx, *h.VCenter, func(p vcenter.Progress) {
		progress(Progress{Percent: int(p.Percent), Message: p.State})
	})
	if errors.Is(err, vcenter.ErrTaskGone) {
		// vCenter forgot the task: the outcome is in live state.
		done, derr := r.doneSource(ctx, step, vm)
		if derr != nil {
			return derr
		}
		if done {
			return nil
		}
		return fmt.Errorf("%w: %v", ErrOutcomeUnknown, err)
	}
	if err != nil {
		if ctx.Err() == nil {
			return taskError(*h.VCenter, err)
		}
		return err
	}
	// Some operations are several tasks (destroy powers off first, a
	// refused relocate falls back to a migrate): the journaled task may
	// be only the first, so the effect is checked.
	done, err := r.doneSource(ctx, step, vm)
	if err != nil {
		return err
	}
	if !done {
		return fmt.Errorf("%w: task %s ended but the step's effect is not there", ErrOutcomeUnknown, h.VCenter.Task)
	}
	return nil
}

// waitShutdown follows a guest shutdown started by another process: it
// polls the power state until the deadline and then powers off hard, as
// the original call would have.
func (r *Runner) waitShutdown(ctx context.Context, c *vcenter.Client, h ShutdownHandle, progress func(Progress)) error {
	interval := 50 * time.Millisecond
	for {
		s, err := readVM(ctx, c, h.VM.MoRef)
		if err != nil {
			return &vcenter.OpError{VM: h.VM.String(), Op: vcenter.OpShutdownGuest, Err: err, Fault: faultName(err), Transient: transientFault(err)}
		}
		progress(Progress{Percent: -1, Message: s.power})
		if s.power == string(types.VirtualMachinePowerStatePoweredOff) {
			return nil
		}
		if time.Now().After(h.Deadline) {
			if !h.Fallback {
				return &vcenter.OpError{VM: h.VM.String(), Op: vcenter.OpShutdownGuest, Fault: "Timedout", Err: vcenter.ErrShutdownTimeout}
			}
			_, err := c.PowerOff(ctx, h.VM, vcenter.Watch{Progress: func(p vcenter.Progress) {
				progress(Progress{Percent: int(p.Percent), Message: p.State})
			}})
			return err
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		interval = min(2*interval, 2*time.Second)
	}
}

// taskError classifies a failed task followed by handle: vcenter.Wait
// returns the task's fault as it is, and the executor needs an OpError to
// tell transient from permanent.
func taskError(h vcenter.Handle, err error) error {
	var oe *vcenter.OpError
	if errors.As(err, &oe) {
		return err
	}
	return &vcenter.OpError{VM: h.VM, Op: h.Op, Fault: faultName(err), Transient: transientFault(err), Err: err}
}

func faultOf(err error) types.BaseMethodFault {
	var found types.BaseMethodFault
	fault.In(err, func(f types.BaseMethodFault, _ string, _ []types.LocalizableMessage) bool {
		found = f
		return true
	})
	return found
}

func faultName(err error) string {
	f := faultOf(err)
	if f == nil {
		return ""
	}
	n := fmt.Sprintf("%T", f)
	return n[strings.LastIndex(n, ".")+1:]
}

// transientFault mirrors the vcenter provider's rule: a busy VM, a host
// briefly out of contact or a timed-out phase may clear by itself.
func transientFault(err error) bool {
	switch faultOf(err).(type) {
	case types.BaseTaskInProgress, types.BaseHostCommunication, types.BaseTimedout, *types.ConcurrentAccess:
		return true
	}
	return false
}
