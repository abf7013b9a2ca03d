package action

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"

	"cutover/planner"
	"cutover/providers/azure"
	"cutover/schema"
)

// azureStatic caches what does not change during an apply: the resolved
// vault, the discovered machines, policies and run-as accounts. Protected
// items are never cached: gates read them fresh.
type azureStatic struct {
	client       *azure.Client
	subscription string

	mu       sync.Mutex
	target   *azure.Target
	machines []azure.Machine
	policies []azure.Policy
	runAs    []azure.RunAsAccount

	// listMu guards items, one listing of the container taken the first
	// time an item is not found under its machine's name: per step, a
	// listing would make an apply of N VMs cost N pages each.
	listMu sync.Mutex
	items  []azure.ProtectedItem
	listed bool
	// sentEnable holds the machines (lower-cased names) this run has sent
	// an enable for; see itemBeforeEnable.
	sentEnable map[string]bool
}

// azure returns the vault's cache, resolving the vault on first use.
func (r *Runner) azure(ctx context.Context, name string) (*azureStatic, error) {
	r.mu.Lock()
	st, ok := r.azStatic[name]
	if !ok {
		c := r.env.Azures[name]
		if c == nil {
			r.mu.Unlock()
			return nil, fmt.Errorf("no connection for azure %q", name)
		}
		st = &azureStatic{client: c, subscription: subscriptionOf(c.Config())}
		r.azStatic[name] = st
	}
	r.mu.Unlock()
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.target == nil {
		tg, err := st.client.Resolve(ctx)
		if err != nil {
			return nil, err
		}
		st.target = tg
	}
	return st, nil
}

func subscriptionOf(cfg azure.Config) string {
	if cfg.SubscriptionID != "" {
		return cfg.SubscriptionID
	}
	parts := strings.Split(strings.Trim(cfg.Vault, "/"), "/")
	if len(parts) >= 2 && strings.EqualFold(parts[0], "subscriptions") {
		return parts[1]
	}
	return ""
}

// machineFor finds the appliance's record of a source VM: by instance
// UUID when that is unique, else by display name (the source VM name). A
// miss in the cached list reads the list again once: the appliance may
// have discovered the VM since.
func (st *azureStatic) machineFor(ctx context.Context, name, uuid string) (azure.Machine, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	fresh := false
	if st.machines == nil {
		ms, err := st.client.ListMachines(ctx)
		if err != nil {
			return azure.Machine{}, err
		}
		st.machines, fresh = ms, true
	}
	for {
		if uuid != "" {
			var hits []azure.Machine
			for _, m := range st.machines {
				if strings.EqualFold(m.InstanceUUID, uuid) {
					hits = append(hits, m)
				}
			}
			if len(hits) == 1 {
				return hits[0], nil
			}
		}
		m, err := azure.FindMachine(st.machines, name)
		if err == nil || fresh || azure.KindOf(err) != azure.KindNotFound {
			return m, err
		}
		ms, lerr := st.client.ListMachines(ctx)
		if lerr != nil {
			return azure.Machine{}, lerr
		}
		st.machines, fresh = ms, true
	}
}

// itemFor reads the machine's protected item: by the name enable gives
// it (the machine name) in one GET, else by a scan of the container for
// an item replicating the machine or named like the target VM (an item
// enabled by another tool).
func (st *azureStatic) itemFor(ctx context.Context, m azure.Machine, targetName string) (*azure.ProtectedItem, error) {
	it, err := st.client.GetProtectedItem(ctx, m.Name)
	if err == nil {
		return it, nil
	}
	if azure.KindOf(err) != azure.KindNotFound {
		return nil, err
	}
	// Items this run enables are named after their machine and found by
	// the GET above; the listing finds those enabled by other tools, which
	// existed when the run started.
	items, err := st.listItems(ctx)
	if err != nil {
		return nil, err
	}
	return listedItem(items, m, targetName), nil
}

// listedItem finds the machine's item in a listing: the one replicating
// the machine, else one named like the target VM (an item enabled by
// another tool), else nil.
func listedItem(items []azure.ProtectedItem, m azure.Machine, targetName string) *azure.ProtectedItem {
	for i := range items {
		id := items[i].MachineID
		if id != "" && (strings.EqualFold(id, m.ID) || strings.EqualFold(id, m.Name)) {
			return &items[i]
		}
	}
	for i := range items {
		if items[i].MachineID == "" && strings.EqualFold(items[i].VM, targetName) {
			return &items[i]
		}
	}
	return nil
}

// itemBeforeEnable reads the machine's item before an enable is sent. The
// run's one listing of the container stands in for the GET when it holds
// no item for the machine and this run has sent no enable for it: the item
// could then exist only if another tool enabled the machine since the
// listing; the PUT then meets an item already there (that the service
// refuses it is a GUESS, no source shows it; the GET this replaces left the
// same race open, only narrower). A crash after an earlier
// run's PUT leaves an item that this run's listing, read after it started,
// holds; a retry within this run finds the machine in sentEnable and reads
// the item as any other step does. This saves one read per enabled VM, a
// third of what an enable costs (the PUT and one poll are the rest).
func (st *azureStatic) itemBeforeEnable(ctx context.Context, m azure.Machine, targetName string) (*azure.ProtectedItem, error) {
	st.listMu.Lock()
	sent := st.sentEnable[strings.ToLower(m.Name)]
	st.listMu.Unlock()
	if !sent {
		items, err := st.listItems(ctx)
		if err != nil {
			return nil, err
		}
		if listedItem(items, m, targetName) == nil {
			return nil, nil
		}
	}
	// Listed (its state may have moved since) or already sent in this
	// run: read it fresh.
	return st.itemFor(ctx, m, targetName)
}

// enableSent records, before the PUT goes out, that this run enables the
// machine, so that a retry reads its item instead of trusting the listing.
func (st *azureStatic) enableSent(m azure.Machine) {
	st.listMu.Lock()
	defer st.listMu.Unlock()
	if st.sentEnable == nil {
		st.sentEnable = map[string]bool{}
	}
	st.sentEnable[strings.ToLower(m.Name)] = true
}

func (st *azureStatic) listItems(ctx context.Context) ([]azure.ProtectedItem, error) {
	st.listMu.Lock()
	defer st.listMu.Unlock()
	if !st.listed {
		items, err := st.client.ListProtectedItems(ctx)
		if err != nil {
			return nil, err
		}
		st.items, st.listed = items, true
	}
	return st.items, nil
}

func (st *azureStatic) policy(ctx context.Context, name string) (azure.Policy, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.policies == nil {
		ps, err := st.client.Policies(ctx)
		if err != nil {
			return azure.Policy{}, err
		}
		st.policies = ps
	}
	var names []string
	for _, p := range st.policies {
		if strings.EqualFold(p.Name, name) {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return azure.Policy{}, &azure.Error{Operation: "resolve policy", Kind: azure.KindNotFound,
		Message: fmt.Sprintf("the vault has no replication policy %q (policies: %s)", name, strings.Join(names, ", "))}
}

func (st *azureStatic) runAsAccount(ctx context.Context, displayName string) (azure.RunAsAccount, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.runAs == nil {
		as, err := st.client.RunAsAccounts(ctx)
		if err != nil {
			return azure.RunAsAccount{}, err
		}
		st.runAs = as
	}
	var hits []azure.RunAsAccount
	for _, a := range st.runAs {
		if strings.EqualFold(a.DisplayName, displayName) {
			hits = append(hits, a)
		}
	}
	if len(hits) == 1 {
		return hits[0], nil
	}
	return azure.RunAsAccount{}, &azure.Error{Operation: "resolve run-as account", Kind: azure.KindNotFound,
		Message: fmt.Sprintf("%d run-as accounts on the site are named %q; want exactly one", len(hits), displayName)}
}

// rgID expands a bare resource group name in the vault's subscription.
func rgID(sub, v string) string {
	if v == "" || strings.HasPrefix(v, "/") {
		return v
	}
	return "/subscriptions/" + sub + "/resourceGroups/" + v
}

// childID expands a bare resource name into an ID in the target resource
// group.
func childID(rg, typ, v string) string {
	if v == "" || strings.HasPrefix(v, "/") || rg == "" {
		return v
	}
	return rg + "/providers/" + typ + "/" + v
}

// desired is the runbook's target settings as ASR wants them: IDs, not
// names.
func (r *Runner) desired(vm *schema.VM, st *azureStatic, sourceName string) azure.TargetSettings {
	t := vm.Target
	rg := rgID(st.subscription, t.ResourceGroup)
	return azure.TargetSettings{
		VMName: r.targetName(vm, sourceName), VMSize: t.Size, ResourceGroupID: rg,
		NetworkID: childID(rg, "Microsoft.Network/virtualNetworks", t.Network), Subnet: t.Subnet,
		TestNetworkID: childID(rg, "Microsoft.Network/virtualNetworks", t.TestNetwork), TestSubnet: t.TestSubnet,
		AvailabilityZone:                t.Zone,
		AvailabilitySetID:               childID(rg, "Microsoft.Compute/availabilitySets", t.AvailabilitySet),
		ProximityPlacementGroupID:       childID(rg, "Microsoft.Compute/proximityPlacementGroups", t.ProximityPlacementGroup),
		BootDiagnosticsStorageAccountID: childID(rg, "Microsoft.Storage/storageAccounts", t.BootDiagnosticsStorageAccount),
		LicenseType:                     t.LicenseType, SQLServerLicenseType: t.SQLLicenseType, LinuxLicenseType: t.LinuxLicenseType,
		SecurityType: t.SecurityType, SecureBoot: t.SecureBoot, TPM: t.TPM, Tags: t.VMTags, NICTags: t.NICTags, DiskTags: t.DiskTags,
	}
}

// desiredByAttr is desired under the runbook's attribute names, with the
// fields the nic blocks set (nic["<mac>"].static_ip, ...).
func (r *Runner) desiredByAttr(vm *schema.VM, t *targetState) map[string]string {
	d := r.desired(vm, t.static, t.machine.DisplayName)
	out := settingsOf(&azure.ProtectedItem{Target: d})
	want, _, _ := planner.NICSettings(vm, &t.machine, nil) // no item, no lookup to fail
	for attr, v := range want {
		out[strings.TrimPrefix(attr, "target.")] = v
	}
	return out
}

// haveSettings are the item's values of what the step changes, under the
// same names: its target settings and the fields of the NICs the step
// names.
func haveSettings(step planner.Step, t *targetState) map[string]string {
	have := settingsOf(t.item)
	for _, c := range step.Changes {
		if key, field, ok := planner.ParseNICAttribute(c.Attribute); ok {
			if n, found := planner.FindNIC(t.item, &t.machine, key); found {
				have[strings.TrimPrefix(c.Attribute, "target.")] = planner.NICFieldValue(n, field)
			}
		}
	}
	return have
}

func (r *Runner) enableInput(ctx context.Context, vm *schema.VM, t *targetState) (azure.EnableInput, error) {
	st := t.static
	want := r.desired(vm, st, t.machine.DisplayName)
	in := azure.EnableInput{Machine: t.machine, Target: want, MultiVMGroup: vm.Replication.MultiVMGroup}
	if vm.Replication.Policy == "" {
		return in, fmt.Errorf("no replication policy: set replication.policy")
	}
	pol, err := st.policy(ctx, vm.Replication.Policy)
	if err != nil {
		return in, err
	}
	in.PolicyID = pol.ID
	if vm.Replication.RunAsAccount != "" {
		ra, err := st.runAsAccount(ctx, vm.Replication.RunAsAccount)
		if err != nil {
			return in, err
		}
		in.RunAsAccountID = ra.ID
	}
	rg := want.ResourceGroupID
	def := azure.DiskInput{
		Type:                vm.Replication.DiskType,
		LogStorageAccountID: childID(rg, "Microsoft.Storage/storageAccounts", vm.Replication.LogStorageAccount),
		DiskEncryptionSetID: childID(rg, "Microsoft.Compute/diskEncryptionSets", vm.Replication.DiskEncryptionSet),
	}
	if len(vm.Target.Disks) == 0 {
		in.DisksDefault = &def
		return in, nil
	}
	// Disk blocks override the defaults for the disks they name; every
	// other disk still replicates with the defaults.
	used := make([]bool, len(vm.Target.Disks))
	for _, md := range t.machine.Disks {
		d := def
		d.ID = md.ID
		for i, sd := range vm.Target.Disks {
			if (sd.ID != "" && strings.EqualFold(sd.ID, md.ID)) || (sd.ID == "" && sd.Label != "" && strings.EqualFold(sd.Label, md.Name)) {
				used[i] = true
				if sd.Type != "" {
					d.Type = sd.Type
				}
				if sd.LogStorageAccount != "" {
					d.LogStorageAccountID = childID(rg, "Microsoft.Storage/storageAccounts", sd.LogStorageAccount)
				}
				if sd.DiskEncryptionSet != "" {
					d.DiskEncryptionSetID = childID(rg, "Microsoft.Compute/diskEncryptionSets", sd.DiskEncryptionSet)
				}
			}
		}
		in.Disks = append(in.Disks, d)
	}
	for i, u := range used {
		if !u {
			sd := vm.Target.Disks[i]
			key := sd.ID
			if key == "" {
				key = sd.Label
			}
			return in, fmt.Errorf("disk %q of the runbook is not a disk of discovered machine %s", key, t.machine.DisplayName)
		}
	}
	return in, nil
}

// wantedSettings are the values an update step sets, by attribute name
// without "target.": the runbook's (the step's own values may be
// redacted), or for the inverse of an update the step's, which are the
// journaled before-image (it never holds a sensitive value).
func (r *Runner) wantedSettings(step planner.Step, vm *schema.VM, t *targetState) map[string]string {
	if !planner.IsUndo(step.ID) {
		return r.desiredByAttr(vm, t)
	}
	out := map[string]string{}
	for _, c := range step.Changes {
		out[strings.TrimPrefix(c.Attribute, "target.")] = c.New
	}
	return out
}

// updateInput sets exactly the attributes the step changes, to the
// wanted values.
func (r *Runner) updateInput(step planner.Step, vm *schema.VM, t *targetState) (azure.UpdateInput, error) {
	want := r.wantedSettings(step, vm, t)
	b := &updateBuilder{item: t.item, machine: &t.machine, undo: planner.IsUndo(step.ID),
		nics: map[string]*azure.NICInput{}, tags: map[string]map[string]string{}}
	for _, c := range step.Changes {
		attr := strings.TrimPrefix(c.Attribute, "target.")
		v, ok := want[attr]
		if !ok {
			return b.in, fmt.Errorf("update of %s is not supported", c.Attribute)
		}
		var err error
		if set, key, isTag := planner.ParseTagAttribute(attr); isTag {
			b.tag(set, key, v)
		} else if key, field, isNIC := planner.ParseNICAttribute(attr); isNIC {
			err = b.nicField(key, field, v)
		} else {
			err = b.setting(attr, v)
		}
		if err != nil {
			return b.in, err
		}
	}
	return b.result(), nil
}

// updateBuilder gathers the changes of one update into its input.
type updateBuilder struct {
	in      azure.UpdateInput
	item    *azure.ProtectedItem
	machine *azure.Machine
	undo    bool
	// nics are the NICs touched, by lower-case ID, in order.
	nics  map[string]*azure.NICInput
	order []string
	// tags are the tag sets touched, each replaced whole.
	tags map[string]map[string]string
}

// nicInput is the input for one NIC, created with its live isPrimaryNic,
// which InMageRcmNicInput requires.
func (b *updateBuilder) nicInput(n azure.NIC) *azure.NICInput {
	id := strings.ToLower(n.ID)
	if ni := b.nics[id]; ni != nil {
		return ni
	}
	// Every NIC goes with all its current settings, changed fields then
	// overwritten: the Terraform provider resends the whole NIC list the
	// same way, so a service that reads vmNics as the complete list loses
	// nothing (see docs/runbook.md).
	primary, selected := n.Primary, n.Selected
	ni := &azure.NICInput{ID: n.ID, Primary: &primary, Selected: &selected,
		TargetSubnet: nonEmpty(n.TargetSubnet), TargetIP: nonEmpty(n.TargetIP), TestSubnet: nonEmpty(n.TestSubnet),
		TestIP: nonEmpty(n.TestIP), TargetName: nonEmpty(n.TargetName)}
	b.nics[id] = ni
	b.order = append(b.order, id)
	return ni
}

// tag sets one tag of a set: the item's tags are kept, and an inverse
// that puts back a tag that was absent removes it.
func (b *updateBuilder) tag(set, key, v string) {
	tags := b.tags[set]
	if tags == nil {
		tags = maps.Clone(planner.TagsOf(b.item.Target, set))
		if tags == nil {
			tags = map[string]string{}
		}
		b.tags[set] = tags
	}
	if v == "" && b.undo {
		delete(tags, key)
		return
	}
	tags[key] = v
}

// nicField sets one field of the NIC a nic block names. Making a NIC
// primary demotes the one that was.
func (b *updateBuilder) nicField(key, field, v string) error {
	n, found := planner.FindNIC(b.item, b.machine, key)
	if !found {
		return fmt.Errorf("nic %q is not a replicated NIC of %s", key, b.item.VM)
	}
	ni := b.nicInput(n)
	flag := v == "true"
	switch field {
	case "primary":
		ni.Primary = &flag
		if flag {
			for _, other := range b.item.Target.NICs {
				if other.Primary && !strings.EqualFold(other.ID, n.ID) {
					off := false
					b.nicInput(other).Primary = &off
				}
			}
		}
	case "selected":
		ni.Selected = &flag
	case "subnet":
		ni.TargetSubnet = &v
	case "static_ip":
		ni.TargetIP = &v
	case "test_subnet":
		ni.TestSubnet = &v
	case "test_static_ip":
		ni.TestIP = &v
	case "target_name":
		ni.TargetName = &v
	default:
		return fmt.Errorf("update of nic field %s is not supported", field)
	}
	return nil
}

// setting sets one VM-level target setting; subnet and test_subnet are
// the primary NIC's.
func (b *updateBuilder) setting(attr, v string) error {
	p := &v
	switch attr {
	case "name":
		b.in.VMName = p
	case "size":
		b.in.VMSize = p
	case "resource_group":
		b.in.ResourceGroupID = p
	case "network":
		b.in.NetworkID = p
	case "test_network":
		b.in.TestNetworkID = p
	case "zone":
		b.in.AvailabilityZone = p
	case "availability_set":
		b.in.AvailabilitySetID = p
	case "proximity_placement_group":
		b.in.ProximityPlacementGroupID = p
	case "boot_diagnostics_storage_account":
		b.in.BootDiagnosticsStorageAccountID = p
	case "license_type":
		b.in.LicenseType = p
	case "sql_license_type":
		b.in.SQLServerLicenseType = p
	case "linux_license_type":
		b.in.LinuxLicenseType = p
	case "subnet", "test_subnet":
		all := b.item.Target.NICs
		if len(all) == 0 {
			return fmt.Errorf("the item reports no NICs to set a subnet on")
		}
		primary := all[0]
		for _, n := range all {
			if n.Primary {
				primary = n
				break
			}
		}
		ni := b.nicInput(primary)
		if attr == "subnet" {
			ni.TargetSubnet = p
		} else {
			ni.TestSubnet = p
		}
	default:
		return fmt.Errorf("update of target.%s is not supported", attr)
	}
	return nil
}

func (b *updateBuilder) result() azure.UpdateInput {
	if len(b.order) > 0 {
		for _, n := range b.item.Target.NICs {
			b.nicInput(n)
		}
	}
	for _, id := range b.order {
		b.in.NICs = append(b.in.NICs, *b.nics[id])
	}
	b.in.Tags, b.in.NICTags, b.in.DiskTags = b.tags["vm_tags"], b.tags["nic_tags"], b.tags["disk_tags"]
	return b.in
}

// previousSettings records the live values an update replaces, for the
// inverse update. Values of sensitive attributes are not recorded.
func (r *Runner) previousSettings(step planner.Step, vm *schema.VM, t *targetState) map[string]string {
	if t.item == nil {
		return nil
	}
	have := haveSettings(step, t)
	want := r.wantedSettings(step, vm, t)
	out := map[string]string{}
	for _, c := range step.Changes {
		if c.Sensitive || vm.Sensitive.Has(c.Attribute) {
			continue
		}
		attr := strings.TrimPrefix(c.Attribute, "target.")
		out[c.Attribute] = have[attr]
		// Making a NIC primary demotes the one that was: the inverse must
		// promote it again, so its flag is recorded too, by NIC ID.
		if key, field, ok := planner.ParseNICAttribute(attr); ok && field == "primary" && want[attr] == "true" {
			n, _ := planner.FindNIC(t.item, &t.machine, key)
			for _, other := range t.item.Target.NICs {
				if other.Primary && !strings.EqualFold(other.ID, n.ID) {
					out[planner.NICAttribute(other.ID, "primary")] = "true"
				}
			}
		}
	}
	return out
}

// nonEmpty is a pointer to v, or nil for "": a setting the item does not
// have is not sent.
func nonEmpty(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}
