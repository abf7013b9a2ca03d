package planner

import (
	"fmt"
	"sort"

	"cutover/providers/azure"
	"cutover/schema"
)

// enableOnlyOf reads the settings ASR takes only when replication is
// enabled. Disk settings are read when all disks agree, so that one value
// can stand for the runbook's default.
func enableOnlyOf(it *azure.ProtectedItem) map[string]string {
	out := map[string]string{
		"replication.policy":         it.PolicyName,
		"replication.multi_vm_group": it.MultiVMGroup,
		"target.security_type":       it.Target.SecurityType,
	}
	same := func(get func(azure.Disk) string) (string, bool) {
		if len(it.Target.Disks) == 0 {
			return "", false
		}
		v := get(it.Target.Disks[0])
		for _, d := range it.Target.Disks[1:] {
			if get(d) != v {
				return "", false
			}
		}
		return v, true
	}
	if v, ok := same(func(d azure.Disk) string { return d.Type }); ok {
		out["replication.disk_type"] = v
	}
	if v, ok := same(func(d azure.Disk) string { return d.LogStorageAccountID }); ok {
		out["replication.log_storage_account"] = v
	}
	if v, ok := same(func(d azure.Disk) string { return d.DiskEncryptionSetID }); ok {
		out["replication.disk_encryption_set"] = v
	}
	return out
}

// enableOnlyDrift lists the runbook's settings that differ from what the
// item was enabled with, where ASR takes no change: the plan cannot apply
// them, and says so rather than letting the difference pass unseen. Disk
// defaults are compared only for VMs without disk blocks.
func enableOnlyDrift(vm *schema.VM, it *LiveItem) []string {
	if it == nil || it.EnableOnly == nil {
		return nil
	}
	want := map[string]string{
		"replication.policy":         vm.Replication.Policy,
		"replication.multi_vm_group": vm.Replication.MultiVMGroup,
		"target.security_type":       vm.Target.SecurityType,
	}
	if len(vm.Target.Disks) == 0 {
		want["replication.disk_type"] = vm.Replication.DiskType
		want["replication.log_storage_account"] = vm.Replication.LogStorageAccount
		want["replication.disk_encryption_set"] = vm.Replication.DiskEncryptionSet
	}
	var out []string
	for attr, w := range want {
		h, read := it.EnableOnly[attr]
		if w == "" || !read || SameResource(w, h) {
			continue
		}
		shownW, shownH := fmt.Sprintf("%q", w), fmt.Sprintf("%q", h)
		if vm.Sensitive.Has(attr) {
			shownW, shownH = "(sensitive)", "(sensitive)"
		}
		out = append(out, fmt.Sprintf("%s is %s in the runbook but %s in ASR, which takes it only when replication is enabled: no step can change it. To apply it, disable replication and enable it again.", attr, shownW, shownH))
	}
	sort.Strings(out)
	return out
}
