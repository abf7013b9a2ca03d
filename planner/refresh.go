package planner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"cutover/providers/azure"
	"cutover/providers/vcenter"
	"cutover/schema"
)

// VCenterReader is what refresh needs from a vCenter connection.
type VCenterReader interface {
	Discover(ctx context.Context) (*vcenter.Inventory, error)
}

// AzureReader is what refresh needs from a vault connection.
type AzureReader interface {
	ReadInventory(ctx context.Context) (*azure.Inventory, error)
}

// TargetReader is what refresh reads, when an AzureReader offers it, to
// know a migration happened without the journal: the VMs a failover
// created in a target resource group (lower-case name to ARM ID).
type TargetReader interface {
	TargetVMs(ctx context.Context, resourceGroup string) (map[string]string, error)
}

var (
	_ VCenterReader = (*vcenter.Client)(nil)
	_ AzureReader   = (*azure.Client)(nil)
	_ TargetReader  = (*azure.Client)(nil)
)

// Sources are the connections of a runbook, keyed by block name.
type Sources struct {
	VCenters map[string]VCenterReader
	Azures   map[string]AzureReader
}

// Snapshot is everything one refresh read.
type Snapshot struct {
	Live     map[string]Live
	VCenters map[string]*vcenter.Inventory
	Azures   map[string]*azure.Inventory
	// Matched records which live objects each VM was matched to, for
	// status and apply.
	Matched map[string]Match
}

// Match names the live objects behind one runbook VM.
type Match struct {
	VM      *vcenter.VM
	Machine *azure.Machine
	Item    *azure.ProtectedItem
}

// Refresh reads every connection the runbook uses, in bulk and
// concurrently (one discovery per vCenter, one inventory read per vault),
// then matches each runbook VM to its vCenter VM, its discovered machine
// and its protected item, and reads the Azure VM of every VM past a
// failover (see readAzureVMs). VMs that cannot be matched are problems; the
// error is for connections that could not be read at all.
func Refresh(ctx context.Context, rb *schema.Runbook, src Sources) (*Snapshot, []Problem, error) {
	snap := &Snapshot{
		Live:     map[string]Live{},
		VCenters: map[string]*vcenter.Inventory{},
		Azures:   map[string]*azure.Inventory{},
		Matched:  map[string]Match{},
	}
	usedVC, usedAz := map[string]bool{}, map[string]bool{}
	for _, vm := range rb.VMs {
		usedVC[vm.Source.VCenter] = true
		usedAz[vm.Target.Azure] = true
	}

	vcs, azs, err := readConnections(ctx, src, usedVC, usedAz, func(ctx context.Context, name string) (*vcenter.Inventory, error) {
		return src.VCenters[name].Discover(ctx)
	})
	if err != nil {
		return nil, nil, err
	}
	snap.VCenters, snap.Azures = vcs, azs

	indexes := map[string]*azureIndex{}
	for name, inv := range snap.Azures {
		indexes[name] = indexAzure(inv)
	}
	var problems []Problem
	for _, vm := range rb.VMs {
		inv := snap.VCenters[vm.Source.VCenter]
		v, m, l, err := matchBoth(vm, inv, indexes[vm.Target.Azure])
		if err != nil {
			problems = append(problems, Problem{VM: vm.Address, Reason: err.Error()})
			continue
		}
		l.Source = liveSource(inv, v, vm, nil)
		snap.Live[vm.Address] = l
		snap.Matched[vm.Address] = m
	}
	azureOf := map[string]string{}
	for _, vm := range rb.VMs {
		azureOf[vm.Address] = vm.Target.Azure
	}
	readAzureVMs(ctx, snap, src, func(addr string) string { return azureOf[addr] })
	if err := readEvidence(ctx, rb, src, snap); err != nil {
		return nil, nil, err
	}
	return snap, problems, nil
}

// readEvidence looks, for every VM with no protected item, for the Azure
// VM its failover would have created: one list per target resource group.
// A VM found there was migrated (complete migration removes the item, not
// the VM), whatever the journal says or whether it still exists.
func readEvidence(ctx context.Context, rb *schema.Runbook, src Sources, snap *Snapshot) error {
	type group struct{ azure, rg string }
	want := map[group][]*schema.VM{}
	for _, vm := range rb.VMs {
		l, ok := snap.Live[vm.Address]
		if !ok || l.Item != nil || vm.Target.ResourceGroup == "" {
			continue
		}
		if _, ok := src.Azures[vm.Target.Azure].(TargetReader); !ok {
			continue
		}
		g := group{vm.Target.Azure, vm.Target.ResourceGroup}
		want[g] = append(want[g], vm)
	}
	for g, vms := range want {
		found, err := src.Azures[g.azure].(TargetReader).TargetVMs(ctx, g.rg)
		if err != nil {
			return fmt.Errorf("azure %q: reading the VMs of resource group %s (to know which VMs were already migrated): %w", g.azure, g.rg, err)
		}
		for _, vm := range vms {
			name := vm.Target.Name
			if name == "" {
				name = vm.Source.Name
			}
			if id, ok := found[strings.ToLower(name)]; ok {
				l := snap.Live[vm.Address]
				l.Migrated = "the Azure VM " + id + " exists"
				snap.Live[vm.Address] = l
			}
		}
	}
	return nil
}

func selectorOf(vm *schema.VM) vcenter.Selector {
	return vcenter.Selector{Name: vm.Source.Name, Path: vm.Source.Path, MoRef: vm.Source.Moref, InstanceUUID: vm.Source.InstanceUUID}
}

// matchAzure finds the discovered machine and the protected item of a
// matched vCenter VM (only its identity is read) in its vault's index, and
// the item's live state, NIC settings included.
func matchAzure(vm *schema.VM, v *vcenter.VM, idx *azureIndex) (Match, Live, error) {
	m := Match{VM: v}
	var l Live
	if idx == nil {
		return m, l, nil
	}
	m.Machine = idx.machine(v)
	m.Item = idx.item(m.Machine, vm.Target.Name)
	if m.Item == nil {
		return m, l, nil
	}
	l.Item = liveItem(m.Item)
	_, have, err := NICSettings(vm, m.Machine, m.Item)
	if err != nil {
		return m, l, err
	}
	for attr, v := range have {
		l.Item.Settings[strings.TrimPrefix(attr, "target.")] = v
	}
	return m, l, nil
}

// liveSource is the vCenter side of a matched VM. full gives the full
// record of a VM of inv (its FT partner, its rehearsal clone) when inv
// holds only identities (see RefreshEach); nil means inv's records are
// full.
func liveSource(inv *vcenter.Inventory, v *vcenter.VM, vm *schema.VM, full func(*vcenter.VM) *vcenter.VM) *LiveSource {
	if full == nil {
		full = func(v *vcenter.VM) *vcenter.VM { return v }
	}
	path := func(moref string) string {
		if e, ok := inv.Entity(moref); ok {
			return e.Path
		}
		return moref
	}
	s := &LiveSource{
		Moref: v.MoRef, Path: v.Path, PowerState: v.PowerState,
		Host: path(v.Host), ResourcePool: path(v.Pool), Folder: path(v.Folder),
		ChangeVersion: v.ChangeVersion,
	}
	s.Snapshots = snapshotNames(v.Snapshots, nil)
	for _, d := range v.Disks {
		s.DiskBytes += d.SizeBytes
	}
	if len(v.Datastores) > 0 {
		s.Datastore = path(v.Datastores[0])
	}
	switch {
	case v.FTRole == 1:
		s.FTRole, s.FTPrimary = "primary", s.Host
	case v.FTRole > 1:
		s.FTRole = "secondary"
		for _, p := range v.FTPartner {
			if pv, ok := inv.VM(p); ok && pv.FTRole == 1 {
				pv = full(pv)
				s.FTPrimary = path(pv.Host)
			}
		}
	}
	for _, n := range v.NICs {
		s.Networks = append(s.Networks, path(n.Network))
	}
	if r := vm.Rehearsal; r != nil {
		// vCenter keeps names escaped; the runbook's are literal.
		if c, err := inv.MatchVM(vcenter.Selector{Name: vcenter.EscapeName(r.Name)}); err == nil {
			c = full(c)
			s.RehearsalExists = true
			s.Rehearsal = &LiveClone{Moref: c.MoRef, PowerState: c.PowerState, GuestHostName: c.GuestHostName, GuestIP: c.GuestIP}
		}
	}
	return s
}

func snapshotNames(tree []vcenter.Snapshot, out []string) []string {
	for _, s := range tree {
		out = append(out, s.Name)
		out = snapshotNames(s.Children, out)
	}
	return out
}

// azureIndex finds machines and items without scanning per VM.
type azureIndex struct {
	byUUID, byName map[string][]*azure.Machine
	itemByMachine  map[string]*azure.ProtectedItem
	itemByVM       map[string]*azure.ProtectedItem
}

func indexAzure(inv *azure.Inventory) *azureIndex {
	x := &azureIndex{
		byUUID: map[string][]*azure.Machine{}, byName: map[string][]*azure.Machine{},
		itemByMachine: map[string]*azure.ProtectedItem{}, itemByVM: map[string]*azure.ProtectedItem{},
	}
	for i := range inv.Machines {
		m := &inv.Machines[i]
		if m.InstanceUUID != "" {
			x.byUUID[strings.ToLower(m.InstanceUUID)] = append(x.byUUID[strings.ToLower(m.InstanceUUID)], m)
		}
		x.byName[strings.ToLower(m.DisplayName)] = append(x.byName[strings.ToLower(m.DisplayName)], m)
	}
	for i := range inv.Items {
		it := &inv.Items[i]
		if it.MachineID != "" {
			x.itemByMachine[strings.ToLower(it.MachineID)] = it
		}
		x.itemByVM[strings.ToLower(it.VM)] = it
	}
	return x
}

// machine finds the appliance's record of a vCenter VM: by instance UUID,
// else by a unique display name.
func (x *azureIndex) machine(v *vcenter.VM) *azure.Machine {
	if ms := x.byUUID[strings.ToLower(v.InstanceUUID)]; len(ms) == 1 && v.InstanceUUID != "" {
		return ms[0]
	}
	if ms := x.byName[strings.ToLower(v.Name)]; len(ms) == 1 {
		return ms[0]
	}
	return nil
}

func (x *azureIndex) item(m *azure.Machine, targetName string) *azure.ProtectedItem {
	if m != nil {
		if it := x.itemByMachine[strings.ToLower(m.ID)]; it != nil {
			return it
		}
		if it := x.itemByMachine[strings.ToLower(m.Name)]; it != nil {
			return it
		}
	}
	return x.itemByVM[strings.ToLower(targetName)]
}

func liveItem(it *azure.ProtectedItem) *LiveItem {
	l := &LiveItem{
		ProtectionState:           it.ProtectionState,
		AllowedOperations:         it.AllowedOperations,
		TestFailoverState:         it.TestFailoverState,
		CurrentScenario:           it.CurrentScenario,
		ActiveLocation:            it.ActiveLocation,
		Tested:                    it.Tested(),
		InitialReplicationPercent: it.InitialReplicationPercent,
		ReplicationHealth:         it.ReplicationHealth,
		ETag:                      it.ETag,
		Settings:                  ItemSettings(it.Target),
		EnableOnly:                enableOnlyOf(it),
	}
	if ok, why := it.Healthy(); !ok {
		l.Unhealthy = why
	}
	if it.LastRPOSeconds != nil {
		l.LastRPO = time.Duration(*it.LastRPOSeconds) * time.Second
	}
	return l
}

// readConnections reads every vCenter named in usedVC (with readVC) and every
// vault inventory in usedAz, all at once. A connection missing from src
// or that cannot be read is an error naming it; read errors are joined,
// in a stable order.
func readConnections(ctx context.Context, src Sources, usedVC, usedAz map[string]bool,
	readVC func(ctx context.Context, name string) (*vcenter.Inventory, error)) (map[string]*vcenter.Inventory, map[string]*azure.Inventory, error) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
		vcs  = map[string]*vcenter.Inventory{}
		azs  = map[string]*azure.Inventory{}
	)
	for name := range usedVC {
		if _, ok := src.VCenters[name]; !ok {
			return nil, nil, fmt.Errorf("vcenter %q: no connection", name)
		}
	}
	for name := range usedAz {
		if _, ok := src.Azures[name]; !ok {
			return nil, nil, fmt.Errorf("azure %q: no connection", name)
		}
	}
	read := func(kind, name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s %q: %w", kind, name, err))
				mu.Unlock()
			}
		}()
	}
	for name := range usedVC {
		read("vcenter", name, func() error {
			inv, err := readVC(ctx, name)
			if err == nil {
				mu.Lock()
				vcs[name] = inv
				mu.Unlock()
			}
			return err
		})
	}
	for name := range usedAz {
		read("azure", name, func() error {
			inv, err := src.Azures[name].ReadInventory(ctx)
			if err == nil {
				mu.Lock()
				azs[name] = inv
				mu.Unlock()
			}
			return err
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
		return nil, nil, errors.Join(errs...)
	}
	return vcs, azs, nil
}

// matchBoth finds vm's vCenter VM in inv (by identity) and its machine and
// item in the vault's index.
func matchBoth(vm *schema.VM, inv *vcenter.Inventory, idx *azureIndex) (*vcenter.VM, Match, Live, error) {
	v, err := inv.MatchVM(selectorOf(vm))
	if err != nil {
		return nil, Match{}, Live{}, err
	}
	m, l, err := matchAzure(vm, v, idx)
	return v, m, l, err
}
