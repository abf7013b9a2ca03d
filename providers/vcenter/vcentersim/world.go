package vcentersim

import (
	"encoding/json"
	"fmt"
	"io"
)

// World describes a simulated vCenter inventory. It decodes from JSON so a
// --sim world can live in a file next to the runbook that plans against it.
type World struct {
	Datacenters        []Datacenter        `json:"datacenters"`
	CustomizationSpecs []CustomizationSpec `json:"customizationSpecs,omitempty"`
	// GuestLogin, if set, is the only guest login CustomizeGuest_Task
	// accepts; otherwise any login with a user name is accepted.
	GuestLogin *GuestLogin `json:"guestLogin,omitempty"`
}

// GuestLogin is a guest OS account of the simulated VMs.
type GuestLogin struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Datacenter is one datacenter and everything inside it.
type Datacenter struct {
	Name string `json:"name"`
	// Folders are VM folder paths relative to the datacenter's vm folder,
	// e.g. "prod/web". Parents are created as needed.
	Folders    []string  `json:"folders,omitempty"`
	Clusters   []Cluster `json:"clusters"`
	Datastores []string  `json:"datastores"`
	// Networks are distributed port groups; every datacenter also has the
	// standard "VM Network" that vcsim creates.
	Networks []string `json:"networks,omitempty"`
	VMs      []VM     `json:"vms,omitempty"`
}

// Cluster is a compute cluster with its hosts and child resource pools.
type Cluster struct {
	Name  string   `json:"name"`
	Hosts []string `json:"hosts"`
	// Pools are child pools of the cluster's root pool ("Resources").
	Pools []string `json:"pools,omitempty"`
}

// VM is one virtual machine. Empty placement fields default to the first
// cluster, its first host, the root pool, the first datastore and the vm
// folder of the datacenter.
type VM struct {
	Name      string `json:"name"`
	Folder    string `json:"folder,omitempty"`
	Cluster   string `json:"cluster,omitempty"`
	Host      string `json:"host,omitempty"`
	Pool      string `json:"pool,omitempty"`
	Datastore string `json:"datastore,omitempty"`
	// PowerState is "poweredOn" or "poweredOff" (default).
	PowerState string `json:"powerState,omitempty"`
	Template   bool   `json:"template,omitempty"`
	GuestID    string `json:"guestId,omitempty"`
	CPUs       int32  `json:"cpus,omitempty"`
	MemoryMB   int64  `json:"memoryMB,omitempty"`
	Disks      []Disk `json:"disks,omitempty"`
	NICs       []NIC  `json:"nics,omitempty"`
	// NoTools models a guest without VMware Tools: it never reports tools
	// running, so ShutdownGuest and CustomizeGuest_Task are refused.
	NoTools bool `json:"noTools,omitempty"`
	// Snapshots are created in order, each a child of the previous one.
	Snapshots []string `json:"snapshots,omitempty"`
	// FTSecondary makes this VM the primary of a fault-tolerant pair whose
	// secondary is created on the given host.
	FTSecondary *FTSecondary `json:"ftSecondary,omitempty"`
	// GuestHostName and GuestIP are what the guest reports once powered
	// on, as after a guest customization (kept across processes).
	GuestHostName string `json:"guestHostName,omitempty"`
	GuestIP       string `json:"guestIp,omitempty"`
}

// Disk is a virtual disk; Datastore defaults to the VM's datastore.
type Disk struct {
	SizeGB    int64  `json:"sizeGB"`
	Datastore string `json:"datastore,omitempty"`
}

// NIC is a virtual network adapter; Network defaults to "VM Network" and MAC
// to one vcsim generates.
type NIC struct {
	Network string `json:"network,omitempty"`
	MAC     string `json:"mac,omitempty"`
	// Disconnected adapters do not connect at power-on
	// (connectable.startConnected false).
	Disconnected bool `json:"disconnected,omitempty"`
}

// FTSecondary places the secondary VM of a fault-tolerant pair. Real vCenter
// gives the secondary the primary's name; vcsim refuses duplicate names in
// one folder, so the default name is the primary's plus " (secondary)".
type FTSecondary struct {
	Name string `json:"name,omitempty"`
	Host string `json:"host"`
}

// CustomizationSpec is a guest customization spec stored in the simulated
// CustomizationSpecManager, so runbooks can refer to it by name.
type CustomizationSpec struct {
	Name     string `json:"name"`
	Windows  bool   `json:"windows,omitempty"`
	Hostname string `json:"hostname"`
	Domain   string `json:"domain,omitempty"`
	TimeZone string `json:"timeZone,omitempty"`
	// DNSServers apply globally; one DHCP adapter per NIC is assumed.
	DNSServers []string `json:"dnsServers,omitempty"`
	NICs       int      `json:"nics,omitempty"`
}

// DecodeWorld reads a JSON world description and rejects unknown fields, so
// a typo in a --sim file is an error rather than a silently empty world.
func DecodeWorld(r io.Reader) (World, error) {
	var w World
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return World{}, fmt.Errorf("decode simulated world: %w", err)
	}
	return w, nil
}

// ScaledWorld describes one datacenter with two clusters of four hosts, two
// datastores, two port groups and n powered-on VMs spread over ten folders,
// with one disk and one NIC each. It is the world of the scale benchmarks.
func ScaledWorld(n int) World {
	dc := Datacenter{
		Name:       "DC0",
		Datastores: []string{"ds0", "ds1"},
		Networks:   []string{"pg-app", "pg-db"},
		Clusters: []Cluster{
			{Name: "C0", Hosts: []string{"c0-h0", "c0-h1", "c0-h2", "c0-h3"}, Pools: []string{"prod"}},
			{Name: "C1", Hosts: []string{"c1-h0", "c1-h1", "c1-h2", "c1-h3"}},
		},
	}
	for f := range 10 {
		dc.Folders = append(dc.Folders, fmt.Sprintf("wave%d", f))
	}
	for i := range n {
		c := dc.Clusters[i%2]
		vm := VM{
			Name:       fmt.Sprintf("vm-%05d", i),
			Folder:     dc.Folders[i%10],
			Cluster:    c.Name,
			Host:       c.Hosts[(i/2)%4],
			Datastore:  dc.Datastores[i%2],
			PowerState: "poweredOn",
			Disks:      []Disk{{SizeGB: 20}},
			NICs:       []NIC{{Network: dc.Networks[i%2]}},
		}
		dc.VMs = append(dc.VMs, vm)
	}
	return World{Datacenters: []Datacenter{dc}}
}
