package planner

import (
	"strconv"
	"strings"

	"cutover/providers/azure"
	"cutover/schema"
)

// TagSets are the runbook's tag maps that ASR applies to the target: on
// the VM, its NICs and its managed disks.
var TagSets = []string{"vm_tags", "nic_tags", "disk_tags"}

// TagAttribute is the attribute a plan change uses for one tag:
// target.vm_tags["owner"].
func TagAttribute(set, key string) string {
	return "target." + set + "[" + strconv.Quote(key) + "]"
}

// ParseTagAttribute splits an attribute TagAttribute made, with or without
// its "target." prefix.
func ParseTagAttribute(attr string) (set, key string, ok bool) {
	rest := strings.TrimPrefix(attr, "target.")
	for _, s := range TagSets {
		q, found := strings.CutPrefix(rest, s+"[")
		if !found || !strings.HasSuffix(q, "]") {
			continue
		}
		k, err := strconv.Unquote(q[:len(q)-1])
		if err != nil {
			return "", "", false
		}
		return s, k, true
	}
	return "", "", false
}

// TagsOf returns one tag set of the target settings.
func TagsOf(t azure.TargetSettings, set string) map[string]string {
	switch set {
	case "vm_tags":
		return t.Tags
	case "nic_tags":
		return t.NICTags
	case "disk_tags":
		return t.DiskTags
	}
	return nil
}

// declaredTags are the tags the runbook sets, by TagAttribute.
func declaredTags(vm *schema.VM) map[string]string {
	out := map[string]string{}
	for set, tags := range map[string]map[string]string{"vm_tags": vm.Target.VMTags, "nic_tags": vm.Target.NICTags, "disk_tags": vm.Target.DiskTags} {
		for k, v := range tags {
			out[TagAttribute(set, k)] = v
		}
	}
	return out
}

// ItemSettings names an item's target settings by runbook attribute,
// without "target.": name, size, ..., and each tag as
// vm_tags["owner"]. Per-NIC fields are not here: they are named by the
// runbook's nic blocks (see NICSettings).
func ItemSettings(t azure.TargetSettings) map[string]string {
	out := map[string]string{
		"name": t.VMName, "size": t.VMSize, "resource_group": t.ResourceGroupID,
		"network": t.NetworkID, "subnet": t.Subnet, "test_network": t.TestNetworkID, "test_subnet": t.TestSubnet,
		"zone": t.AvailabilityZone, "availability_set": t.AvailabilitySetID, "proximity_placement_group": t.ProximityPlacementGroupID,
		"license_type": t.LicenseType, "sql_license_type": t.SQLServerLicenseType, "linux_license_type": t.LinuxLicenseType,
		"boot_diagnostics_storage_account": t.BootDiagnosticsStorageAccountID,
	}
	for _, set := range TagSets {
		for k, v := range TagsOf(t, set) {
			out[strings.TrimPrefix(TagAttribute(set, k), "target.")] = v
		}
	}
	return out
}

// SameSetting compares a wanted and a live value of one attribute (with or
// without "target."): tags exactly, NIC fields as SameNICValue, the rest
// as Azure names or IDs.
func SameSetting(attr, want, have string) bool {
	if _, _, ok := ParseTagAttribute(attr); ok {
		return want == have
	}
	if _, field, ok := ParseNICAttribute(attr); ok {
		return SameNICValue(field, want, have)
	}
	return SameResource(want, have)
}
