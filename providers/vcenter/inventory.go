package vcenter

import (
	"fmt"
	"strings"
	"time"
)

// VMRef names a live VM for an operation: the moref is what vCenter needs,
// the name is what people read in messages.
type VMRef struct {
	MoRef string `json:"moref"`
	Name  string `json:"name,omitempty"`
}

// String reads `"name" (moref)`, the way VMs appear in messages.
func (r VMRef) String() string {
	if r.Name == "" {
		return r.MoRef
	}
	return fmt.Sprintf("%q (%s)", r.Name, r.MoRef)
}

// Entity is a placement object (host, cluster, pool, datastore, folder,
// network, datacenter) with the inventory path people write in runbooks.
type Entity struct {
	MoRef string `json:"moref"`
	Type  string `json:"type"` // vSphere type, e.g. "HostSystem"
	Name  string `json:"name"`
	Path  string `json:"path"` // e.g. "/DC0/host/C0/h1"
}

// VM is what discovery knows about one virtual machine.
type VM struct {
	Name         string `json:"name"`
	Path         string `json:"path"`
	MoRef        string `json:"moref"`
	Datacenter   string `json:"datacenter"` // moref
	InstanceUUID string `json:"instanceUuid"`
	BIOSUUID     string `json:"biosUuid"`
	PowerState   string `json:"powerState"`
	Template     bool   `json:"template"`

	Host       string   `json:"host"`   // moref
	Pool       string   `json:"pool"`   // moref
	Folder     string   `json:"folder"` // moref
	Datastores []string `json:"datastores"`

	Disks []Disk `json:"disks"`
	NICs  []NIC  `json:"nics"`

	GuestID       string `json:"guestId"`
	GuestFullName string `json:"guestFullName"`
	GuestHostName string `json:"guestHostName,omitempty"`
	GuestIP       string `json:"guestIp,omitempty"`
	ToolsStatus   string `json:"toolsStatus"` // guest.toolsRunningStatus

	// NumCPU and MemoryMB size the VM (config.hardware), for import's
	// proposed Azure size.
	NumCPU   int32 `json:"numCPU"`
	MemoryMB int32 `json:"memoryMB"`

	// FTRole is 0 without fault tolerance, 1 for the primary, 2+ for a
	// secondary. FTState is runtime.faultToleranceState.
	FTRole    int32    `json:"ftRole"`
	FTState   string   `json:"ftState"`
	FTPartner []string `json:"ftPartners,omitempty"` // morefs of the other VMs in the FT group

	Snapshots       []Snapshot `json:"snapshots,omitempty"`
	CurrentSnapshot string     `json:"currentSnapshot,omitempty"`

	// ChangeVersion changes with every reconfiguration: the planner's
	// fingerprint of the VM's configuration.
	ChangeVersion string `json:"changeVersion"`
}

// Ref is the VM's operation reference.
func (v *VM) Ref() VMRef { return VMRef{MoRef: v.MoRef, Name: v.Name} }

// Placement returns where the VM runs now.
func (v *VM) Placement() Placement {
	p := Placement{Host: v.Host, Pool: v.Pool, Folder: v.Folder}
	if len(v.Datastores) > 0 {
		p.Datastore = v.Datastores[0]
	}
	return p
}

// Disk is a virtual disk.
type Disk struct {
	Key         int32  `json:"key"`
	Label       string `json:"label"`
	BackingUUID string `json:"backingUuid"`
	SizeBytes   int64  `json:"sizeBytes"`
	Datastore   string `json:"datastore"` // moref
	FileName    string `json:"fileName"`
}

// NIC is a virtual network adapter.
type NIC struct {
	Key     int32  `json:"key"`
	Label   string `json:"label"`
	MAC     string `json:"mac"`
	Network string `json:"network"` // moref of the network or port group
	// Connected is the adapter's link now; StartConnected whether it
	// connects at power-on. A clone with neither reaches no network.
	Connected      bool `json:"connected"`
	StartConnected bool `json:"startConnected"`
}

// Snapshot is one node of a VM's snapshot tree.
type Snapshot struct {
	MoRef    string     `json:"moref"`
	Name     string     `json:"name"`
	Created  time.Time  `json:"created"`
	Children []Snapshot `json:"children,omitempty"`
}

// Inventory is one discovery's view of a vCenter.
type Inventory struct {
	VMs         []*VM
	Datacenters []Entity
	Clusters    []Entity
	Hosts       []Entity
	Pools       []Entity
	Datastores  []Entity
	Folders     []Entity
	Networks    []Entity

	byMoRef map[string]Entity
	vmByRef map[string]*VM
	// vmByName, vmByPath and vmByUUID (lower case) index VMs once, so
	// that matching a runbook's VMs costs a lookup each, not a scan.
	vmByName map[string][]*VM
	vmByPath map[string][]*VM
	vmByUUID map[string][]*VM
}

// index builds the VM indexes. Discovery calls it once the VMs are final.
func (inv *Inventory) index() {
	inv.vmByRef = make(map[string]*VM, len(inv.VMs))
	inv.vmByName = make(map[string][]*VM, len(inv.VMs))
	inv.vmByPath = make(map[string][]*VM, len(inv.VMs))
	inv.vmByUUID = make(map[string][]*VM, len(inv.VMs))
	for _, v := range inv.VMs {
		inv.vmByRef[v.MoRef] = v
		inv.vmByName[v.Name] = append(inv.vmByName[v.Name], v)
		inv.vmByPath[v.Path] = append(inv.vmByPath[v.Path], v)
		if v.InstanceUUID != "" {
			k := strings.ToLower(v.InstanceUUID)
			inv.vmByUUID[k] = append(inv.vmByUUID[k], v)
		}
	}
}

// Entity returns the entity (or VM, as an Entity) with the given moref.
func (inv *Inventory) Entity(moref string) (Entity, bool) {
	e, ok := inv.byMoRef[moref]
	return e, ok
}

// VM returns the VM with the given moref.
func (inv *Inventory) VM(moref string) (*VM, bool) {
	v, ok := inv.vmByRef[moref]
	return v, ok
}

// FindSnapshot returns the moref of the first snapshot named name in the
// VM's tree, depth first.
func (v *VM) FindSnapshot(name string) (string, bool) {
	var walk func([]Snapshot) (string, bool)
	walk = func(list []Snapshot) (string, bool) {
		for _, s := range list {
			if s.Name == name {
				return s.MoRef, true
			}
			if r, ok := walk(s.Children); ok {
				return r, true
			}
		}
		return "", false
	}
	return walk(v.Snapshots)
}
