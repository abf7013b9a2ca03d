package vcenter

import (
	"fmt"
	"sort"
	"strings"
)

// Selector is how a runbook points at a live object. Every field set must
// agree; at least one must be set. Path is an inventory path: absolute
// ("/DC0/vm/web/app01") or a trailing part of one ("web/app01").
type Selector struct {
	Name         string `json:"name,omitempty"`
	Path         string `json:"path,omitempty"`
	MoRef        string `json:"moref,omitempty"`
	InstanceUUID string `json:"instanceUuid,omitempty"` // VMs only
	// Datacenter narrows the search to one datacenter, by name.
	Datacenter string `json:"datacenter,omitempty"`
}

// String lists the fields set, for messages.
func (s Selector) String() string {
	var parts []string
	for _, kv := range [][2]string{{"name", s.Name}, {"path", s.Path}, {"moref", s.MoRef}, {"instance UUID", s.InstanceUUID}, {"datacenter", s.Datacenter}} {
		if kv[1] != "" {
			parts = append(parts, fmt.Sprintf("%s %q", kv[0], kv[1]))
		}
	}
	return strings.Join(parts, ", ")
}

func (s Selector) empty() bool {
	return s.Name == "" && s.Path == "" && s.MoRef == "" && s.InstanceUUID == ""
}

// MatchError is a selector that matched no object or more than one. It
// lists the candidates (paths and morefs) so the runbook can be fixed.
type MatchError struct {
	Kind       string // "VM", "host", ...
	Selector   Selector
	Candidates []Entity // empty when nothing matched
}

// Error lists every candidate with its path and moref.
func (e *MatchError) Error() string {
	if len(e.Candidates) == 0 {
		return fmt.Sprintf("no %s matches %s", e.Kind, e.Selector)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s is ambiguous: %d %ss match; use a path or moref:", e.Selector, len(e.Candidates), e.Kind)
	for _, c := range e.Candidates {
		fmt.Fprintf(&b, "\n  %s (%s)", c.Path, c.MoRef)
	}
	return b.String()
}

func pathMatches(sel, path string) bool {
	if sel == "" {
		return true
	}
	if strings.HasPrefix(sel, "/") {
		return path == strings.TrimSuffix(sel, "/")
	}
	return path == sel || strings.HasSuffix(path, "/"+strings.Trim(sel, "/"))
}

func (inv *Inventory) inDatacenter(ref, dcName string) bool {
	if dcName == "" {
		return true
	}
	e, ok := inv.byMoRef[ref]
	if !ok {
		return false
	}
	for _, dc := range inv.Datacenters {
		if dc.Name == dcName && strings.HasPrefix(e.Path, dc.Path+"/") {
			return true
		}
	}
	return false
}

// MatchVM finds the one VM s selects. When a name selects both VMs of a
// fault-tolerant pair (real vCenter names them alike), the primary is meant.
func (inv *Inventory) MatchVM(s Selector) (*VM, error) {
	if s.empty() {
		return nil, &MatchError{Kind: "VM", Selector: s}
	}
	var found []*VM
	for _, v := range inv.vmCandidates(s) {
		if (s.Name == "" || v.Name == s.Name) &&
			(s.MoRef == "" || v.MoRef == s.MoRef) &&
			(s.InstanceUUID == "" || strings.EqualFold(v.InstanceUUID, s.InstanceUUID)) &&
			pathMatches(s.Path, v.Path) && inv.inDatacenter(v.MoRef, s.Datacenter) {
			found = append(found, v)
		}
	}
	if len(found) > 1 {
		found = preferFTPrimary(found)
	}
	if len(found) == 1 {
		return found[0], nil
	}
	e := &MatchError{Kind: "VM", Selector: s}
	for _, v := range found {
		e.Candidates = append(e.Candidates, Entity{MoRef: v.MoRef, Type: "VirtualMachine", Name: v.Name, Path: v.Path})
	}
	return nil, e
}

// vmCandidates narrows the VMs s can select through the indexes, by the
// most selective field set; MatchVM still checks every field. Without indexes
// (an Inventory not built by discovery) every VM is a candidate.
func (inv *Inventory) vmCandidates(s Selector) []*VM {
	if inv.vmByName == nil {
		return inv.VMs
	}
	switch {
	case s.MoRef != "":
		if v, ok := inv.vmByRef[s.MoRef]; ok {
			return []*VM{v}
		}
		return nil
	case s.InstanceUUID != "":
		return inv.vmByUUID[strings.ToLower(s.InstanceUUID)]
	case strings.HasPrefix(s.Path, "/"):
		return inv.vmByPath[strings.TrimSuffix(s.Path, "/")]
	case s.Name != "":
		return inv.vmByName[s.Name]
	}
	// A relative path alone: names may hold a "/", so its last part need
	// not be a name. Rare in runbooks; scanned.
	return inv.VMs
}

// preferFTPrimary narrows candidates that are all one FT group to its
// primary; anything else is left ambiguous.
func preferFTPrimary(vms []*VM) []*VM {
	var primary *VM
	group := map[string]bool{}
	for _, v := range vms {
		if v.FTRole == 0 {
			return vms
		}
		if v.FTRole == 1 {
			if primary != nil {
				return vms
			}
			primary = v
		}
	}
	if primary == nil {
		return vms
	}
	group[primary.MoRef] = true
	for _, p := range primary.FTPartner {
		group[p] = true
	}
	for _, v := range vms {
		if !group[v.MoRef] {
			return vms
		}
	}
	return []*VM{primary}
}

// Kind is a kind of placement object a runbook can name.
type Kind string

const (
	KindHost       Kind = "host"
	KindCluster    Kind = "cluster"
	KindPool       Kind = "resource pool"
	KindDatastore  Kind = "datastore"
	KindFolder     Kind = "folder"
	KindNetwork    Kind = "network"
	KindDatacenter Kind = "datacenter"
)

func (inv *Inventory) list(k Kind) []Entity {
	switch k {
	case KindHost:
		return inv.Hosts
	case KindCluster:
		return inv.Clusters
	case KindPool:
		return inv.Pools
	case KindDatastore:
		return inv.Datastores
	case KindFolder:
		return inv.Folders
	case KindNetwork:
		return inv.Networks
	case KindDatacenter:
		return inv.Datacenters
	}
	return nil
}

// Resolve finds the one placement object of kind k that s selects, with
// the same rules as MatchVM: no match or several is a MatchError.
func (inv *Inventory) Resolve(k Kind, s Selector) (Entity, error) {
	if s.empty() || s.InstanceUUID != "" {
		return Entity{}, &MatchError{Kind: string(k), Selector: s}
	}
	var found []Entity
	for _, e := range inv.list(k) {
		if (s.Name == "" || e.Name == s.Name) && (s.MoRef == "" || e.MoRef == s.MoRef) &&
			pathMatches(s.Path, e.Path) && inv.inDatacenter(e.MoRef, s.Datacenter) {
			found = append(found, e)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Path < found[j].Path })
	return Entity{}, &MatchError{Kind: string(k), Selector: s, Candidates: found}
}
