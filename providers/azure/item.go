package azure

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	asr "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/recoveryservices/armrecoveryservicessiterecovery/v2"
)

// ProtectedItem is one replicated VM as the planner sees it: the provider's
// own struct, so that SDK model changes stop here.
type ProtectedItem struct {
	ID        string
	Name      string
	Container string
	// VM is the item's friendly name (the target VM name at enable time).
	VM        string
	MachineID string

	ProtectionState            string
	ProtectionStateDescription string
	// ActiveLocation is Primary before a failover and Recovery after it.
	ActiveLocation               string
	AllowedOperations            []string
	TestFailoverState            string
	TestFailoverStateDescription string
	ReplicationHealth            string
	FailoverHealth               string
	HealthErrors                 []HealthError

	// InitialReplicationPercent and ResyncPercent are nil when the service
	// reports no progress.
	InitialReplicationPercent *int
	ResyncState               string
	ResyncRequired            bool
	ResyncPercent             *int
	LastRPOSeconds            *int64
	LastRPOCalculated         time.Time
	LastRecoveryPointID       string
	LastRecoveryPointTime     time.Time
	LastTestFailover          time.Time
	LastFailover              time.Time

	// CurrentScenario and CurrentJobID name the running ASR job ("" when
	// none runs).
	CurrentScenario string
	CurrentJobID    string
	ScenarioStart   time.Time

	PolicyID        string
	PolicyName      string
	ProcessServerID string
	RunAsAccountID  string
	// MultiVMGroup is the multi-VM consistency group the item is in.
	MultiVMGroup string

	Target TargetSettings

	// ETag fingerprints the plan-relevant fields (the service returns no
	// etag for protected items): equal ETags mean a plan built on one read
	// is still valid against the other.
	ETag string
}

// HealthError is one entry of healthErrors.
type HealthError struct {
	Code              string
	Level             string
	Category          string
	Message           string
	PossibleCauses    string
	RecommendedAction string
}

// TargetSettings are the Azure-side settings of a replicated VM.
type TargetSettings struct {
	VMName                          string `json:"vmName"`
	VMSize                          string `json:"vmSize"`
	ResourceGroupID                 string `json:"resourceGroupId"`
	NetworkID                       string `json:"networkId"`
	Subnet                          string `json:"subnet"`
	TestNetworkID                   string `json:"testNetworkId"`
	TestSubnet                      string `json:"testSubnet"`
	AvailabilityZone                string `json:"availabilityZone"`
	AvailabilitySetID               string `json:"availabilitySetId"`
	ProximityPlacementGroupID       string `json:"proximityPlacementGroupId"`
	BootDiagnosticsStorageAccountID string `json:"bootDiagnosticsStorageAccountId"`
	LicenseType                     string `json:"licenseType"`
	SQLServerLicenseType            string `json:"sqlServerLicenseType"`
	LinuxLicenseType                string `json:"linuxLicenseType"`
	SecurityType                    string `json:"securityType"`
	// SecureBoot and TPM are nil when ASR reports nothing for them.
	SecureBoot *bool             `json:"secureBoot,omitempty"`
	TPM        *bool             `json:"tpm,omitempty"`
	Tags       map[string]string `json:"tags"`
	NICTags    map[string]string `json:"nicTags,omitempty"`
	DiskTags   map[string]string `json:"diskTags,omitempty"`
	NICs       []NIC             `json:"nics"`
	Disks      []Disk            `json:"disks"`
}

// NIC is a replicated network adapter and its target settings.
type NIC struct {
	ID           string `json:"id"`
	Primary      bool   `json:"primary"`
	Selected     bool   `json:"selected"`
	SourceIP     string `json:"sourceIp"`
	TargetSubnet string `json:"targetSubnet"`
	TargetIP     string `json:"targetIp"`
	TestSubnet   string `json:"testSubnet"`
	TestIP       string `json:"testIp"`
	TargetName   string `json:"targetName,omitempty"`
}

// Disk is a replicated disk.
type Disk struct {
	ID                  string `json:"id"`
	Type                string `json:"type"`
	LogStorageAccountID string `json:"logStorageAccountId"`
	DiskEncryptionSetID string `json:"diskEncryptionSetId"`
	SizeBytes           int64  `json:"sizeBytes"`
	IsOS                bool   `json:"isOS"`
}

// Allows reports whether op is in the item's allowedOperations.
func (p *ProtectedItem) Allows(op string) bool {
	for _, a := range p.AllowedOperations {
		if strings.EqualFold(a, op) {
			return true
		}
	}
	return false
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func utc(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.UTC()
}

func isTrue(p *string) bool { return p != nil && strings.EqualFold(*p, "true") }

func pct(p *int32) *int {
	if p == nil {
		return nil
	}
	v := int(*p)
	return &v
}

func enumStr[T ~string](p *T) string {
	if p == nil {
		return ""
	}
	return string(*p)
}

// protectedItemFrom converts the SDK model; it never fails, missing fields
// stay empty.
func protectedItemFrom(m *asr.ReplicationProtectedItem) ProtectedItem {
	out := ProtectedItem{ID: str(m.ID), Name: str(m.Name)}
	if id := str(m.ID); id != "" {
		if i := strings.Index(strings.ToLower(id), "/replicationprotectioncontainers/"); i >= 0 {
			rest := id[i+len("/replicationProtectionContainers/"):]
			out.Container, _, _ = strings.Cut(rest, "/")
		}
	}
	p := m.Properties
	if p == nil {
		out.ETag = fingerprint(&out)
		return out
	}
	out.VM = str(p.FriendlyName)
	out.ProtectionState = str(p.ProtectionState)
	out.ProtectionStateDescription = str(p.ProtectionStateDescription)
	out.ActiveLocation = str(p.ActiveLocation)
	for _, a := range p.AllowedOperations {
		out.AllowedOperations = append(out.AllowedOperations, str(a))
	}
	out.TestFailoverState = str(p.TestFailoverState)
	out.TestFailoverStateDescription = str(p.TestFailoverStateDescription)
	out.ReplicationHealth = str(p.ReplicationHealth)
	out.FailoverHealth = str(p.FailoverHealth)
	for _, h := range p.HealthErrors {
		if h == nil {
			continue
		}
		out.HealthErrors = append(out.HealthErrors, HealthError{
			Code: str(h.ErrorCode), Level: str(h.ErrorLevel), Category: str(h.ErrorCategory), Message: str(h.ErrorMessage),
			PossibleCauses: str(h.PossibleCauses), RecommendedAction: str(h.RecommendedAction),
		})
	}
	out.PolicyID, out.PolicyName = str(p.PolicyID), str(p.PolicyFriendlyName)
	out.LastTestFailover, out.LastFailover = utc(p.LastSuccessfulTestFailoverTime), utc(p.LastSuccessfulFailoverTime)
	if cs := p.CurrentScenario; cs != nil && str(cs.ScenarioName) != "" && !strings.EqualFold(str(cs.ScenarioName), "None") {
		out.CurrentScenario, out.CurrentJobID, out.ScenarioStart = str(cs.ScenarioName), str(cs.JobID), utc(cs.StartTime)
	}
	if d, ok := p.ProviderSpecificDetails.(*asr.InMageRcmReplicationDetails); ok && d != nil {
		fillInMageRcm(&out, d)
	}
	out.ETag = fingerprint(&out)
	return out
}

func fillInMageRcm(out *ProtectedItem, d *asr.InMageRcmReplicationDetails) {
	out.MachineID = str(d.FabricDiscoveryMachineID)
	out.ProcessServerID, out.RunAsAccountID = str(d.ProcessServerID), str(d.RunAsAccountID)
	out.InitialReplicationPercent = pct(d.InitialReplicationProgressPercentage)
	out.ResyncPercent = pct(d.ResyncProgressPercentage)
	out.ResyncState, out.ResyncRequired = enumStr(d.ResyncState), isTrue(d.ResyncRequired)
	out.LastRPOSeconds = d.LastRpoInSeconds
	out.LastRPOCalculated = utc(d.LastRpoCalculatedTime)
	out.LastRecoveryPointID, out.LastRecoveryPointTime = str(d.LastRecoveryPointID), utc(d.LastRecoveryPointReceived)
	ts := TargetSettings{
		VMName: str(d.TargetVMName), VMSize: str(d.TargetVMSize), ResourceGroupID: str(d.TargetResourceGroupID),
		NetworkID: str(d.TargetNetworkID), TestNetworkID: str(d.TestNetworkID), AvailabilityZone: str(d.TargetAvailabilityZone),
		AvailabilitySetID: str(d.TargetAvailabilitySetID), ProximityPlacementGroupID: str(d.TargetProximityPlacementGroupID),
		BootDiagnosticsStorageAccountID: str(d.TargetBootDiagnosticsStorageAccountID), LicenseType: str(d.LicenseType),
		SQLServerLicenseType: str(d.SQLServerLicenseType), LinuxLicenseType: enumStr(d.LinuxLicenseType),
	}
	if sp := d.TargetVMSecurityProfile; sp != nil {
		ts.SecurityType = enumStr(sp.TargetVMSecurityType)
		ts.SecureBoot, ts.TPM = securityFlag(sp.TargetVMSecureBoot), securityFlag(sp.TargetVMTpm)
	}
	out.MultiVMGroup = str(d.MultiVMGroupName)
	ts.Tags, ts.NICTags, ts.DiskTags = tagsOf(d.TargetVMTags), tagsOf(d.TargetNicTags), tagsOf(d.TargetManagedDiskTags)
	for _, n := range d.VMNics {
		if n == nil {
			continue
		}
		nic := NIC{
			ID: str(n.NicID), Primary: isTrue(n.IsPrimaryNic), Selected: isTrue(n.IsSelectedForFailover), SourceIP: str(n.SourceIPAddress),
			TargetSubnet: str(n.TargetSubnetName), TargetIP: str(n.TargetIPAddress), TestSubnet: str(n.TestSubnetName), TestIP: str(n.TestIPAddress),
			TargetName: str(n.TargetNicName),
		}
		ts.NICs = append(ts.NICs, nic)
		if nic.Primary {
			ts.Subnet, ts.TestSubnet = nic.TargetSubnet, nic.TestSubnet
		}
	}
	for _, dk := range d.ProtectedDisks {
		if dk == nil {
			continue
		}
		var size int64
		if dk.CapacityInBytes != nil {
			size = *dk.CapacityInBytes
		}
		ts.Disks = append(ts.Disks, Disk{
			ID: str(dk.DiskID), Type: enumStr(dk.DiskType), LogStorageAccountID: str(dk.LogStorageAccountID),
			DiskEncryptionSetID: str(dk.DiskEncryptionSetID), SizeBytes: size, IsOS: isTrue(dk.IsOSDisk),
		})
	}
	out.Target = ts
}

// fingerprint hashes what a plan depends on: lifecycle state, gate, health
// level, policy and every target setting. Volatile telemetry (RPO, recovery
// points, progress percentages) is left out so that a plan does not go
// stale merely because replication is running.
func fingerprint(p *ProtectedItem) string {
	allowed := slices.Clone(p.AllowedOperations)
	slices.Sort(allowed)
	v := struct {
		ID, Machine, State, TFO, Health, Policy, Scenario string
		Allowed                                           []string
		Target                                            TargetSettings
	}{strings.ToLower(p.ID), strings.ToLower(p.MachineID), p.ProtectionState, p.TestFailoverState, p.ReplicationHealth, strings.ToLower(p.PolicyID), p.CurrentScenario, allowed, p.Target}
	buf, _ := json.Marshal(v)
	sum := sha256.Sum256(buf)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// Machine is a VMware VM discovered by the appliance.
type Machine struct {
	ID           string
	Name         string
	DisplayName  string
	InstanceUUID string
	OSType       string
	OSName       string
	Firmware     string
	Cores        int
	MemoryMB     int
	PowerState   string
	Disks        []MachineDisk
	NICs         []MachineNIC
}

// MachineDisk is a discovered disk; ID is what enable replication expects
// in disksToInclude.
type MachineDisk struct {
	ID        string
	Name      string
	SizeBytes int64
	Lun       int
}

// MachineNIC is a discovered network adapter.
type MachineNIC struct {
	ID      string
	MAC     string
	IPs     []string
	Network string
}

func machineFrom(m *OffAzureMachine) Machine {
	p := &m.Properties
	out := Machine{
		ID: m.ID, Name: m.Name, DisplayName: p.DisplayName, InstanceUUID: p.InstanceUUID,
		OSType: p.OperatingSystemDetails.OSType, OSName: p.OperatingSystemDetails.OSName, Firmware: p.Firmware,
		Cores: p.NumberOfProcessorCore, MemoryMB: int(p.AllocatedMemoryInMB), PowerState: p.PowerStatus,
	}
	for _, d := range p.Disks {
		id := d.UUID
		if id == "" {
			id = d.DiskID
		}
		name := d.Label
		if name == "" {
			name = d.Name
		}
		out.Disks = append(out.Disks, MachineDisk{ID: id, Name: name, SizeBytes: d.MaxSizeInBytes, Lun: d.Lun})
	}
	for _, n := range p.NetworkAdapters {
		out.NICs = append(out.NICs, MachineNIC{ID: n.NicID, MAC: n.MacAddress, IPs: n.IPAddressList, Network: n.NetworkName})
	}
	return out
}

// RunAsAccount is a credential the appliance uses to push the mobility agent.
type RunAsAccount struct {
	ID             string
	Name           string
	DisplayName    string
	CredentialType string
	Appliance      string
}

// tagsOf reads a tag list; nil when it holds none.
func tagsOf(list []*asr.UserCreatedResourceTag) map[string]string {
	var out map[string]string
	for _, tag := range list {
		if tag == nil {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[str(tag.TagName)] = str(tag.TagValue)
	}
	return out
}

func securityFlag(c *asr.SecurityConfiguration) *bool {
	if c == nil {
		return nil
	}
	on := *c == asr.SecurityConfigurationEnabled
	return &on
}
