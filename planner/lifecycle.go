package planner

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"cutover/schema"
)

// chain collects one VM's steps; each new step depends on the previous one
// unless it starts a side branch.
type chain struct {
	vm    *schema.VM
	steps []Step
	last  string // ID of the last step on the main line
}

func (c *chain) id(k StepKind) string { return c.vm.Address + "." + string(k) }

// add appends a step on the main line.
func (c *chain) add(s Step) *Step {
	s = c.fill(s)
	if c.last != "" {
		s.DependsOn = append(s.DependsOn, c.last)
	}
	c.steps = append(c.steps, s)
	c.last = s.ID
	return &c.steps[len(c.steps)-1]
}

// side appends a step that depends on nothing in this VM's chain.
func (c *chain) side(s Step) *Step {
	s = c.fill(s)
	c.steps = append(c.steps, s)
	return &c.steps[len(c.steps)-1]
}

func (c *chain) fill(s Step) Step {
	info := kinds[s.Kind]
	s.ID = c.id(s.Kind)
	s.VM = c.vm.Address
	s.NoReturn = info.noReturn
	s.Inverse = info.inverse
	if info.disruptive {
		s.Disruptive = true
	}
	if s.Disruptive {
		s.Window = c.vm.Window
	}
	if s.Gate == "" && info.gate != "" {
		s.Gate = "allowedOperations contains " + info.gate
	}
	return s
}

// vmSteps plans one VM: the steps from its live stage to its desired stage,
// plus source preparation and settings drift.
func vmSteps(vm *schema.VM, live Live) ([]Step, LiveStage, error) {
	stage, err := StageOf(live)
	if err != nil {
		return nil, 0, err
	}
	c := &chain{vm: vm}
	want := desiredRank(vm.Stage)
	if err := rehearsalIsolated(vm, live.Source); err != nil {
		return nil, stage, err
	}

	switch {
	case stage == LiveCommitted && want < LiveCommitted, stage == LiveCompleted && want < LiveCompleted:
		return nil, stage, fmt.Errorf("%s is %s in Azure (%s), which is past a point of no return; it cannot go back to %q. Set stage = \"completed\" or remove the vm block", vm.Address, stage, completedWhy(live), vm.Stage)
	case stage == LiveFailedOver && want < LiveFailedOver && live.Item != nil && !live.Item.Allows("CancelFailover"):
		return nil, stage, fmt.Errorf("%s is failed over and ASR does not offer CancelFailover (allowed: %s), so no plan can take it back to %q; cutover rollback backs the failover out (deallocates the Azure VM, powers the source on) and the item stays failed over", vm.Address, strings.Join(live.Item.AllowedOperations, ", "), vm.Stage)
	case stage == LiveFailedOver && want < LiveFailedOver:
		// Back from an uncommitted failover: cancel it, start the source.
		c.add(Step{Kind: StepFailoverCancel, Inputs: map[string]string{"reason": fmt.Sprintf("desired stage %s", vm.Stage)}})
		if live.Source != nil && live.Source.PowerState != "poweredOn" {
			c.add(Step{Kind: StepPowerOn, Before: map[string]string{"power_state": live.Source.PowerState}})
		}
		return c.steps, stage, nil
	}

	prepare(c, vm, live)

	if stage == LiveDiscovered {
		if err := enableReady(vm); err != nil {
			return nil, stage, err
		}
		c.add(Step{Kind: StepEnableReplication, Inputs: enableInputs(vm)})
		stage = LiveReplicating
		// Enabling takes no per-NIC settings: an update right after it
		// sets what the nic blocks declare.
		if ch := settingsDrift(vm, &LiveItem{Settings: map[string]string{}}, true); len(ch) > 0 {
			c.add(Step{Kind: StepUpdateReplication, Changes: ch, Gate: "replicating or protected, with the item's NICs listed"})
		}
	} else if ch := settingsDrift(vm, live.Item, false); len(ch) > 0 && stage < LiveFailedOver {
		if stage == LiveReplicating && want > LiveReplicating {
			c.add(Step{Kind: StepWaitProtected, Gate: "initial replication complete"})
			stage = LiveProtected
		}
		before := map[string]string{}
		for _, x := range ch {
			before[x.Attribute] = x.Old
		}
		c.add(Step{Kind: StepUpdateReplication, Changes: ch, Before: before, Gate: "protection state Protected"})
	}
	if want <= LiveReplicating {
		if stage == LiveTesting {
			c.add(Step{Kind: StepTestCleanup})
		}
		return c.steps, stage, nil
	}

	if stage == LiveReplicating {
		c.add(Step{Kind: StepWaitProtected, Gate: "initial replication complete"})
		stage = LiveProtected
	}
	if stage == LiveProtected {
		in, err := testFailoverInputs(vm)
		if err != nil {
			return nil, stage, err
		}
		c.add(Step{Kind: StepTestFailover, Inputs: in})
		stage = LiveTesting
	}
	if stage == LiveTesting {
		c.add(Step{Kind: StepTestCleanup})
		stage = LiveTested
	}
	if want <= LiveTested {
		return c.steps, stage, nil
	}

	if stage == LiveTested {
		powered := live.Source != nil && live.Source.PowerState == "poweredOn"
		if name := SnapshotName(vm); vm.Source.SnapshotBeforeCutover && (live.Source == nil || !slices.Contains(live.Source.Snapshots, name)) {
			c.add(Step{Kind: StepSnapshot, Inputs: map[string]string{"name": shown(vm, "target.name", name)}})
		}
		vcShutdown := vm.Source.Shutdown == schema.ShutdownGuest || vm.Source.Shutdown == schema.ShutdownHard
		if vcShutdown && powered {
			c.add(Step{Kind: StepShutdown,
				Inputs: map[string]string{"mode": string(vm.Source.Shutdown)},
				Before: map[string]string{"power_state": live.Source.PowerState}})
		}
		in, gate := failoverInputs(vm)
		if vm.Replication.MaxRPO != "" {
			gate += " and RPO <= " + shown(vm, "replication.max_rpo", vm.Replication.MaxRPO)
		}
		c.add(Step{Kind: StepUnplannedFailover, Inputs: in, Gate: gate})
		stage = LiveFailedOver
	}
	if want <= LiveFailedOver {
		return c.steps, stage, nil
	}
	if stage == LiveFailedOver {
		c.add(Step{Kind: StepFailoverCommit})
		stage = LiveCommitted
	}
	if stage == LiveCommitted {
		c.add(Step{Kind: StepCompleteMigration})
	}
	return c.steps, stage, nil
}

// Recovery point choices of a failover, as plans show them.
const (
	RecoveryPointLatest            = "latest"
	RecoveryPointAfterShutdown     = "newer than the source shutdown"
	gateUnplannedFailover          = "allowedOperations contains UnplannedFailover"
	gateRecoveryPointAfterShutdown = " and a recovery point newer than the source shutdown"
)

// failoverInputs is how the failover avoids losing the source's last
// writes, as source.shutdown chooses: "asr" (the default) sends
// performShutdown "true", so ASR shuts the source down and syncs its last
// changes (the REST how-to recommends it "for minimal data loss"); "guest"
// and "hard" shut it down through vCenter first, and the failover then
// waits for a recovery point newer than that shutdown; "none" fails over
// to the latest point while the source runs on.
func failoverInputs(vm *schema.VM) (map[string]string, string) {
	switch vm.Source.Shutdown {
	case schema.ShutdownGuest, schema.ShutdownHard:
		return map[string]string{"perform_shutdown": "false", "shutdown": "vcenter " + string(vm.Source.Shutdown), "recovery_point": RecoveryPointAfterShutdown},
			gateUnplannedFailover + gateRecoveryPointAfterShutdown
	case schema.ShutdownNone:
		return map[string]string{"perform_shutdown": "false", "shutdown": "none", "recovery_point": RecoveryPointLatest}, gateUnplannedFailover
	}
	return map[string]string{"perform_shutdown": "true", "shutdown": "asr", "recovery_point": RecoveryPointLatest}, gateUnplannedFailover
}

// completedWhy says how a VM is known to be past a point of no return.
func completedWhy(l Live) string {
	switch {
	case l.Completed && l.Migrated != "":
		return "the journal records its complete migration, and " + l.Migrated
	case l.Completed:
		return "the journal records its complete migration"
	case l.Migrated != "" && l.Item == nil:
		return "no protected item, but " + l.Migrated + ": a failover created it"
	}
	return "failover committed"
}

// SnapshotName is the name of the snapshot taken before cutover.
func SnapshotName(vm *schema.VM) string { return "cutover-" + vm.Target.Name }

// prepare adds source-side preparation: relocation, FT primary and the
// rehearsal clone. Relocation and FT run before the shutdown, so they join
// the main line; the clone is a side branch.
func prepare(c *chain, vm *schema.VM, live Live) {
	src := live.Source
	if src == nil {
		return
	}
	want := map[string]string{"host": vm.Source.Host, "resource_pool": vm.Source.ResourcePool, "datastore": vm.Source.Datastore, "folder": vm.Source.Folder}
	have := map[string]string{"host": src.Host, "resource_pool": src.ResourcePool, "datastore": src.Datastore, "folder": src.Folder}
	in, before := map[string]string{}, map[string]string{}
	for _, k := range []string{"host", "resource_pool", "datastore", "folder"} {
		if want[k] != "" && !samePlace(want[k], have[k]) {
			in[k] = want[k]
		}
		before[k] = have[k]
	}
	if len(in) > 0 {
		moveMethod(in, vm, src.PowerState)
		s := c.add(Step{Kind: StepRelocate, Inputs: in, Before: before})
		if src.PowerState == "poweredOn" {
			s.Disruptive, s.Window = true, vm.Window
		}
	}
	if vm.Source.FTPrimary != "" && src.FTRole != "" && !samePlace(vm.Source.FTPrimary, src.FTPrimary) {
		c.add(Step{Kind: StepMakeFTPrimary,
			Inputs: map[string]string{"primary": vm.Source.FTPrimary},
			Before: map[string]string{"primary": src.FTPrimary}})
	}
	if r := vm.Rehearsal; r != nil && !src.RehearsalExists {
		in := map[string]string{"name": r.Name}
		for k, v := range map[string]string{"host": r.Host, "resource_pool": r.ResourcePool, "datastore": r.Datastore, "folder": r.Folder} {
			if v != "" {
				in[k] = v
			}
		}
		in["network"] = r.Network
		if r.Network == "" {
			in["network"] = DisconnectedAdapters
		}
		in["power_on"] = strconv.FormatBool(r.PowerOn)
		if r.PowerOn {
			in["power_on"] = "true, once every adapter reads back isolated"
		}
		if cu := r.Customization; cu != nil {
			in["customization"] = CustomizationSummary(cu)
		}
		c.side(Step{Kind: StepCloneRehearsal, Inputs: in})
	}
	if r := vm.Rehearsal; r != nil && r.Recustomize != nil && (src.Rehearsal == nil || !Recustomized(r.Recustomize, src.Rehearsal)) {
		s := c.side(Step{Kind: StepCustomizeRehearsal, Gate: "clone powered on with VMware Tools running",
			Inputs: map[string]string{
				"clone":         r.Name,
				"customization": CustomizationSummary(&r.Recustomize.Customization),
				"guest_login":   shown(vm, "rehearsal.recustomize.guest_username", r.Recustomize.GuestUsername),
			}})
		if !src.RehearsalExists {
			s.DependsOn = []string{c.id(StepCloneRehearsal)}
		}
	}
}

// Recustomized reports whether the clone's guest already reports the
// host name and first address the recustomize block asks for.
func Recustomized(rc *schema.Recustomize, clone *LiveClone) bool {
	host := strings.ToLower(clone.GuestHostName)
	want := strings.ToLower(rc.Hostname)
	if host != want && (rc.Domain == "" || host != want+"."+strings.ToLower(rc.Domain)) {
		return false
	}
	if len(rc.NICs) > 0 && rc.NICs[0].IP != "" && clone.GuestIP != rc.NICs[0].IP {
		return false
	}
	return true
}

// The relocate step's method input: which vSphere call moves the VM.
const (
	MethodMigrate  = "MigrateVM_Task"
	MethodRelocate = "RelocateVM_Task"
)

// moveMethod picks the call for a move: MigrateVM_Task (vMotion with a
// priority, and for a powered-off VM a state guard, so a cold migration is
// never turned into a hot one) when only host and pool change,
// RelocateVM_Task when storage or folder move.
func moveMethod(in map[string]string, vm *schema.VM, power string) {
	_, ds := in["datastore"]
	_, folder := in["folder"]
	if ds || folder {
		in["method"] = MethodRelocate
		return
	}
	in["method"] = MethodMigrate
	in["priority"] = vm.Source.MovePriority
	if in["priority"] == "" {
		in["priority"] = "default"
	}
	if power == "poweredOff" {
		in["state"] = power
	}
}

// DisconnectedAdapters is the clone_rehearsal network input when the
// clone's adapters stay on their networks but never connect.
const DisconnectedAdapters = "(adapters disconnected)"

// CustomizationSummary is a customization as a plan shows it: stored spec,
// or OS, host name, domain and each adapter's address.
func CustomizationSummary(cu *schema.Customization) string {
	if cu.Spec != "" {
		return "spec " + cu.Spec
	}
	parts := []string{cu.OS + " " + cu.Hostname}
	if cu.Domain != "" {
		parts[0] += "." + cu.Domain
	}
	for i, n := range cu.NICs {
		a := "dhcp"
		if n.IP != "" {
			a = n.IP + "/" + n.Netmask
			if len(n.Gateway) > 0 {
				a += " via " + strings.Join(n.Gateway, ",")
			}
		}
		parts = append(parts, fmt.Sprintf("nic%d %s", i, a))
	}
	if len(cu.DNSServers) > 0 {
		parts = append(parts, "dns "+strings.Join(cu.DNSServers, ","))
	}
	return strings.Join(parts, ", ")
}

// rehearsalIsolated refuses a rehearsal whose isolated network is one of
// the source's own: a running clone there is a second copy of the server
// on the production port group.
func rehearsalIsolated(vm *schema.VM, src *LiveSource) error {
	r := vm.Rehearsal
	if r == nil || r.Network == "" || src == nil {
		return nil
	}
	for _, n := range src.Networks {
		if samePlace(r.Network, n) {
			return fmt.Errorf("rehearsal network %q is %s, a network the source's adapters are on; name an isolated port group, or leave network out to start the clone's adapters disconnected", r.Network, n)
		}
	}
	return nil
}

// samePlace compares a runbook placement (name or inventory path) with a
// live one (inventory path).
func samePlace(want, have string) bool {
	if strings.EqualFold(want, have) {
		return true
	}
	if strings.HasPrefix(want, "/") {
		return false
	}
	return strings.EqualFold(have[strings.LastIndex(have, "/")+1:], want)
}

// targetSettings are the runbook's target settings under the attribute
// names both sides use.
func targetSettings(vm *schema.VM) map[string]string {
	t := vm.Target
	return map[string]string{
		"name": t.Name, "size": t.Size, "resource_group": t.ResourceGroup,
		"network": t.Network, "subnet": t.Subnet, "test_network": t.TestNetwork, "test_subnet": t.TestSubnet,
		"zone": t.Zone, "availability_set": t.AvailabilitySet, "proximity_placement_group": t.ProximityPlacementGroup,
		"license_type": t.LicenseType, "sql_license_type": t.SQLLicenseType, "linux_license_type": t.LinuxLicenseType,
	}
}

// settingsDrift compares declared target settings with the protected item.
// Unset runbook attributes are not drift: the runbook leaves them to ASR.
// With onlyNICs it lists the nic blocks' fields alone, for the update that
// follows enabling.
func settingsDrift(vm *schema.VM, it *LiveItem, onlyNICs bool) []Change {
	if it == nil || it.Settings == nil {
		return nil // nothing read, nothing to compare
	}
	var out []Change
	want := targetSettings(vm)
	sensitiveNIC := map[string]bool{}
	if onlyNICs {
		want = map[string]string{}
	}
	if !onlyNICs {
		for attr, v := range declaredTags(vm) {
			want[strings.TrimPrefix(attr, "target.")] = v
		}
	}
	for i, n := range vm.Target.NICs {
		for field, v := range declaredNIC(n) {
			attr := NICAttribute(NICKey(n), field)
			want[strings.TrimPrefix(attr, "target.")] = v
			// The schema records a nic field's sensitivity by block index.
			if vm.Sensitive.Has("target.nic." + strconv.Itoa(i) + "." + field) {
				sensitiveNIC[attr] = true
			}
		}
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w, h := want[k], it.Settings[k]
		_, _, isNIC := ParseNICAttribute(k)
		_, _, isTag := ParseTagAttribute(k)
		if !isNIC && !isTag && w == "" || SameSetting(k, w, h) {
			continue
		}
		c := Change{Attribute: "target." + k, Old: h, New: w}
		set, _, isTag := ParseTagAttribute(c.Attribute)
		if vm.Sensitive.Has(c.Attribute) || sensitiveNIC[c.Attribute] || isTag && vm.Sensitive.Has("target."+set) {
			// Neither side is kept: the live value may have come from the
			// same secret on an earlier apply.
			c.Old, c.New, c.Sensitive = "(sensitive)", "(sensitive)", true
		}
		out = append(out, c)
	}
	return out
}

// SameResource compares a name or ARM ID with an ARM ID or name: Azure
// names are case-insensitive, and a bare name matches an ID's last segment.
func SameResource(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	last := func(s string) string { return s[strings.LastIndex(s, "/")+1:] }
	if strings.HasPrefix(a, "/") != strings.HasPrefix(b, "/") {
		return strings.EqualFold(last(a), last(b))
	}
	return false
}

// enableReady refuses, at plan time, an enable ASR would refuse: every
// replicated disk needs a disk type and a log storage account, from
// replication (the default for all disks) or from a disk block. The
// discovered disks are not known here, so without both defaults every
// disk block must set what is missing.
func enableReady(vm *schema.VM) error {
	var missing []string
	r := vm.Replication
	for _, need := range []struct {
		attr, def string
		disk      func(schema.Disk) string
	}{
		{"disk_type", r.DiskType, func(d schema.Disk) string { return d.Type }},
		{"log_storage_account", r.LogStorageAccount, func(d schema.Disk) string { return d.LogStorageAccount }},
	} {
		if need.def != "" {
			continue
		}
		covered := len(vm.Target.Disks) > 0
		for _, d := range vm.Target.Disks {
			if need.disk(d) == "" {
				covered = false
			}
		}
		if !covered {
			missing = append(missing, "replication."+need.attr)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("enabling replication needs %s (for every disk, or in each disk block)", strings.Join(missing, " and "))
	}
	return nil
}

func enableInputs(vm *schema.VM) map[string]string {
	in := map[string]string{}
	for k, v := range targetSettings(vm) {
		if v != "" {
			in["target."+k] = v
		}
	}
	r := vm.Replication
	for k, v := range map[string]string{"policy": r.Policy, "run_as_account": r.RunAsAccount, "multi_vm_group": r.MultiVMGroup,
		"disk_type": r.DiskType, "log_storage_account": r.LogStorageAccount, "disk_encryption_set": r.DiskEncryptionSet} {
		if v != "" {
			in["replication."+k] = v
		}
	}
	in["disks"] = "all"
	if len(vm.Target.Disks) > 0 {
		in["disks"] = fmt.Sprintf("%d mapped", len(vm.Target.Disks))
	}
	for k := range in {
		if vm.Sensitive.Has(k) {
			in[k] = "(sensitive)"
		}
	}
	return in
}

// testFailoverInputs names the network the test VM lands in. There is no
// fallback to the production network: a test VM there would boot beside
// its running source, so the schema refuses a test failover without a
// test network and so does the plan.
func testFailoverInputs(vm *schema.VM) (map[string]string, error) {
	if vm.Target.TestNetwork == "" {
		return nil, fmt.Errorf("%s asks for stage %q, which runs a test failover, but names no target test_network to run it in", vm.Address, vm.Stage)
	}
	in := map[string]string{
		"network": shown(vm, "target.test_network", vm.Target.TestNetwork),
		"subnet":  shown(vm, "target.test_subnet", vm.Target.TestSubnet),
	}
	if vm.Target.AllowTestInProduction && schema.SameNetwork(vm.Target.ResourceGroup, vm.Target.TestNetwork, vm.Target.Network) {
		// Said explicitly in the runbook, and shown where reviewers look.
		in["allow_test_in_production"] = "true"
	}
	return in, nil
}

// shown is value, or (sensitive) when the attribute at path came from a
// sensitive input: plan files and renderings never hold such values.
func shown(vm *schema.VM, path, value string) string {
	if vm.Sensitive.Has(path) {
		return "(sensitive)"
	}
	return value
}
