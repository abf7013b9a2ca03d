package azuresim

import "fmt"

// Seed describes the static inventory of a simulated world: the vault and its
// InMageRcm fabric, the replication appliance, the VMware site with its
// discovered machines and run-as accounts, and any protected items that exist
// before the first request.
type Seed struct {
	SubscriptionID string `json:"subscriptionId"`
	ResourceGroup  string `json:"resourceGroup"`
	Location       string `json:"location"`
	Vault          string `json:"vault"`
	// Fabric is the name of the InMageRcm fabric; OtherFabrics are extra
	// fabrics of other providers (listed, never chosen).
	Fabric       string   `json:"fabric"`
	OtherFabrics []string `json:"otherFabrics,omitempty"`
	// Appliance is the replication appliance (process server) name;
	// ProcessServerID its machine ID.
	Appliance       string `json:"appliance"`
	ProcessServerID string `json:"processServerId"`
	// Site is the Microsoft.OffAzure VMware site name.
	Site string `json:"site"`
	// Containers are the protection containers of the fabric (one in a
	// healthy vault).
	Containers    []string        `json:"containers"`
	Policies      []string        `json:"policies"`
	RunAsAccounts []RunAsAccount  `json:"runAsAccounts,omitempty"`
	Machines      []Machine       `json:"machines,omitempty"`
	Items         []ProtectedItem `json:"items,omitempty"`
	// AllowCancelFailover puts CancelFailover in allowedOperations after an
	// unplanned failover. Off by default: a recording of a real InMageRcm
	// item after an unplanned failover offers no CancelFailover. Set it
	// (or call Sim.SetAllowCancelFailover) to rehearse a failover cancel.
	AllowCancelFailover bool `json:"allowCancelFailover,omitempty"`
}

// RunAsAccount is a credential registered on the appliance.
type RunAsAccount struct {
	Name           string `json:"name"`
	DisplayName    string `json:"displayName"`
	CredentialType string `json:"credentialType"`
}

// Machine is a VMware VM discovered by the appliance.
type Machine struct {
	// Name is the machine's ARM name (its ID inside the site).
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	OSType      string `json:"osType"`
	OSName      string `json:"osName"`
	Firmware    string `json:"firmware"`
	Disks       []Disk `json:"disks"`
	NICs        []NIC  `json:"nics"`
	Cores       int    `json:"cores"`
	MemoryMB    int    `json:"memoryMB"`
}

// Disk is a discovered disk.
type Disk struct {
	ID     string `json:"id"`
	SizeGB int    `json:"sizeGB"`
	IsOS   bool   `json:"isOS"`
}

// NIC is a discovered network adapter.
type NIC struct {
	ID      string `json:"id"`
	MAC     string `json:"mac"`
	IP      string `json:"ip"`
	Network string `json:"network"`
}

// itemNICID is the nicId the service gives the item's copy of this NIC. For
// a VMware machine it is the source NIC's MAC address: the Terraform
// provider (azurerm_site_recovery_vmware_replicated_vm) sends the source
// MAC as nicId when it updates NIC settings, so that is what the service
// reports. The discovered NIC ID is the fallback when no MAC is known.
func (n NIC) itemNICID() string {
	if n.MAC != "" {
		return n.MAC
	}
	return n.ID
}

// ProtectedItem seeds a replication that already exists. State is one of the
// protection states (default Protected); the item replicates Machine.
type ProtectedItem struct {
	Name                  string `json:"name"`
	Container             string `json:"container,omitempty"`
	Machine               string `json:"machine"`
	State                 string `json:"state,omitempty"`
	TargetVMName          string `json:"targetVmName"`
	TargetVMSize          string `json:"targetVmSize,omitempty"`
	TargetResourceGroupID string `json:"targetResourceGroupId"`
	TargetNetworkID       string `json:"targetNetworkId,omitempty"`
	Policy                string `json:"policy,omitempty"`
}

// DefaultSeed returns a small consistent world: one vault, one InMageRcm
// fabric (plus a Hyper-V one to be skipped), one appliance, one site, one
// container, two policies, two run-as accounts and the given number of
// discovered machines named vm-0001... with two disks and one NIC each.
func DefaultSeed(machines int) Seed {
	s := Seed{
		SubscriptionID:  "00000000-0000-0000-0000-000000000001",
		ResourceGroup:   "migrate-rg",
		Location:        "chinanorth3",
		Vault:           "proj-MigrateVault-1",
		Fabric:          "appliance-01-fabric",
		OtherFabrics:    []string{"hyperv-site-fabric"},
		Appliance:       "appliance-01",
		ProcessServerID: "5f0b8c2e-0000-4000-8000-000000000001",
		Site:            "vmware-site-01",
		Containers:      []string{"cloud_5f0b8c2e-container"},
		Policies:        []string{"24-hour-replication-policy", "12-hour-replication-policy"},
		RunAsAccounts: []RunAsAccount{
			{Name: "runas-0001", DisplayName: "Admin", CredentialType: "WindowsServer"},
			{Name: "runas-0002", DisplayName: "credentialLessRunAsAccount", CredentialType: "CredentialLessAccount"},
		},
	}
	for i := 1; i <= machines; i++ {
		s.Machines = append(s.Machines, NumberedMachine(i))
	}
	return s
}

// NumberedMachine builds the i-th machine of DefaultSeed.
func NumberedMachine(i int) Machine {
	n := pad4(i)
	return Machine{
		Name:        "machine-" + n,
		DisplayName: "vm-" + n,
		OSType:      "WindowsGuest",
		OSName:      "Microsoft Windows Server 2022 Datacenter",
		Firmware:    "UEFI",
		Cores:       2,
		MemoryMB:    4096,
		Disks: []Disk{
			{ID: "6000C290-" + n + "-0000-0000-000000000000", SizeGB: 60, IsOS: true},
			{ID: "6000C290-" + n + "-0001-0000-000000000000", SizeGB: 10},
		},
		NICs: []NIC{{
			ID:      "4000-" + n,
			MAC:     fmt.Sprintf("00:50:56:00:%02x:%02x", i/256%256, i%256),
			IP:      fmt.Sprintf("10.0.%d.%d", i/250, i%250+1),
			Network: "VM Network",
		}},
	}
}

func pad4(i int) string { return fmt.Sprintf("%04d", i) }
