package planner

import (
	"crypto/sha256"
	"cutover/providers/azure"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Live is what refresh read about one runbook VM, in the planner's own
// terms so that lifecycle decisions do not depend on provider types.
type Live struct {
	Source *LiveSource
	// Item is the ASR protected item; nil when the VM is not protected.
	Item *LiveItem
	// Completed is set when the journal shows the VM's migration was
	// completed (the item is gone after complete migration).
	Completed bool
	// AzureVM is the VM an unplanned failover created, read when the item
	// is failed over or committed; TestVM the VM of a test failover
	// awaiting cleanup. Nil when not read.
	AzureVM *LiveAzureVM
	TestVM  *LiveAzureVM
	// Migrated is live evidence, independent of the journal, that the VM
	// was migrated: what was found (the Azure VM the failover created).
	// Empty when nothing was found or nothing could be asked.
	Migrated string
}

// LiveSource is the vCenter side of a VM.
type LiveSource struct {
	Moref         string
	Path          string
	PowerState    string // poweredOn, poweredOff, suspended
	Host          string
	ResourcePool  string
	Datastore     string
	Folder        string
	ChangeVersion string
	FTRole        string // "", primary, secondary
	// FTPrimary names the host of the fault-tolerance primary, when the VM
	// is fault tolerant.
	FTPrimary string
	// RehearsalExists is set when the rehearsal clone is already there.
	RehearsalExists bool
	// Snapshots are the names in the VM's snapshot tree.
	Snapshots []string
	// Networks are the inventory paths of the networks the VM's adapters
	// are on: production, which a rehearsal clone must not join.
	Networks []string
	// Rehearsal is the rehearsal clone when it exists.
	Rehearsal *LiveClone
	// DiskBytes is the provisioned size of the VM's disks, for the
	// timeline's initial replication estimate.
	DiskBytes int64
}

// LiveClone is what the plan compares of an existing rehearsal clone.
type LiveClone struct {
	Moref      string
	PowerState string
	// GuestHostName and GuestIP are what its guest reports.
	GuestHostName string
	GuestIP       string
}

// LiveItem is the ASR side of a VM.
type LiveItem struct {
	ProtectionState   string
	AllowedOperations []string
	TestFailoverState string
	// CurrentScenario names the ASR job the item reports ("" for None);
	// ActiveLocation is Primary or Recovery.
	CurrentScenario string
	ActiveLocation  string
	// Tested is set when a test failover succeeded and was cleaned up.
	Tested                    bool
	InitialReplicationPercent *int
	ReplicationHealth         string
	// Unhealthy says why failovers may not be sent now (replication
	// health Critical or a resync required, with the service's health
	// errors); empty when they may.
	Unhealthy string
	LastRPO   time.Duration
	ETag      string
	// Settings are the target settings in runbook attribute names
	// (size, resource_group, network, ...), for drift detection, and the
	// replicated NICs' values of the fields the runbook's nic blocks set
	// (nic["00:50:56:aa:bb:cc"].static_ip, see NICAttribute).
	Settings map[string]string
	// EnableOnly are the item's values of settings ASR takes only when
	// replication is enabled, by runbook attribute (replication.policy,
	// replication.disk_type, ...); a disk setting only when every disk
	// has the same value.
	EnableOnly map[string]string
}

// Phase is the provider's reading of the item's state (azure.Classify),
// with the reason when it is busy or unknown.
func (it *LiveItem) Phase() (azure.Phase, string) {
	return azure.Classify(&azure.ProtectedItem{ProtectionState: it.ProtectionState, TestFailoverState: it.TestFailoverState,
		AllowedOperations: it.AllowedOperations, CurrentScenario: it.CurrentScenario, ActiveLocation: it.ActiveLocation})
}

// Allows reports whether ASR currently offers op.
func (it *LiveItem) Allows(op string) bool {
	for _, a := range it.AllowedOperations {
		if strings.EqualFold(a, op) {
			return true
		}
	}
	return false
}

// Fingerprint condenses the live inputs a plan's steps read for one VM:
// vCenter changeVersion, power state and placement; the ASR item's target
// settings (what the provider's ETag covers, minus progress), protection
// state and allowedOperations. A plan is stale when any VM's fingerprint
// differs at apply time.
type Fingerprint struct {
	Source string `json:"source,omitempty"`
	Item   string `json:"item,omitempty"`
	// Summary is a short human description of the state fingerprinted,
	// so that a stale-plan error can say what changed.
	Summary map[string]string `json:"summary,omitempty"`
}

// FingerprintOf computes a VM's fingerprint.
func FingerprintOf(l Live) Fingerprint {
	f := Fingerprint{Summary: map[string]string{}}
	if s := l.Source; s != nil {
		f.Summary["power_state"] = s.PowerState
		f.Summary["placement"] = strings.Join([]string{s.Host, s.ResourcePool, s.Datastore, s.Folder}, " | ")
		f.Summary["change_version"] = s.ChangeVersion
		f.Source = digest(s.ChangeVersion, s.PowerState, s.Host, s.ResourcePool, s.Datastore, s.Folder, s.FTRole)
	} else {
		f.Summary["source"] = "absent"
	}
	if it := l.Item; it != nil {
		ops := append([]string(nil), it.AllowedOperations...)
		sort.Strings(ops)
		state, allowed := it.ProtectionState, strings.Join(ops, ",")
		if replicating(it) {
			// Initial replication completing on its own is the progress the
			// plan's wait_protected step waits for, not drift: the state and
			// the operations it allows are fingerprinted as one.
			state, allowed = "replicating or protected", "(follows the state)"
		}
		keys := make([]string, 0, len(it.Settings))
		for k := range it.Settings {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var settings []string
		for _, k := range keys {
			settings = append(settings, k+"="+it.Settings[k])
		}
		f.Summary["protection_state"] = state
		f.Summary["allowed_operations"] = allowed
		f.Summary["test_failover_state"] = it.TestFailoverState
		f.Summary["target_settings"] = digest(settings...)
		f.Item = digest(state, it.TestFailoverState, allowed, strings.Join(settings, "\n"))
	} else {
		f.Summary["protection_state"] = "not protected"
	}
	return f
}

// replicating reports an item between enabling and protected, with no
// test failover open.
func replicating(it *LiveItem) bool {
	switch ph, _ := it.Phase(); ph {
	case azure.PhaseReplicating:
		return true
	case azure.PhaseProtected:
		return !it.Tested
	}
	return false
}

// Diff lists what changed between a planned fingerprint and a fresh one.
func (f Fingerprint) Diff(now Fingerprint) []string {
	var out []string
	if f.Source == now.Source && f.Item == now.Item {
		return nil
	}
	keys := map[string]bool{}
	for k := range f.Summary {
		keys[k] = true
	}
	for k := range now.Summary {
		keys[k] = true
	}
	for _, k := range sortedSet(keys) {
		if f.Summary[k] != now.Summary[k] {
			out = append(out, fmt.Sprintf("%s %q -> %q", k, f.Summary[k], now.Summary[k]))
		}
	}
	if len(out) == 0 {
		out = append(out, "the live object changed (fingerprint differs)")
	}
	return out
}

func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
