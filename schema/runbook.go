package schema

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Runbook is a decoded, validated runbook directory.
type Runbook struct {
	Dir  string
	Name string // from the runbook block; the directory's base name if absent
	// Description is free text from the runbook block.
	Description string
	// Hash is the SHA-256 of every file's name and content, in name order.
	// Plans record it to refuse being applied to another runbook.
	Hash string
	// Files are the parsed sources, keyed by file name, for rendering
	// diagnostics with snippets.
	Files map[string]*hcl.File

	Variables []*Variable
	VCenters  []*VCenter
	Azures    []*Azure
	Windows   []*Window
	Defaults  *Defaults
	// State says where the journal and lock live; nil means the local
	// default, .cutover/ next to the runbook.
	State *StateBackend
	// VMs are the expanded VM instances (one per for_each key or count
	// index), in declaration order and then key order.
	VMs []*VM
}

// Variable is a declared input variable and the value it received.
type Variable struct {
	Name        string
	Description string
	Type        cty.Type
	Default     cty.Value
	Sensitive   bool
	// Value is the final value (default, env, var file or --var), unmarked.
	Value cty.Value
	// Source says where Value came from: "default", "env", a var file name or
	// "cli".
	Source    string
	DeclRange hcl.Range
}

// VCenter is a vcenter block: one source vCenter connection.
type VCenter struct {
	Name       string
	URL        string
	Username   string
	Password   Secret
	Insecure   bool
	Thumbprint string
	Datacenter string
	Sensitive  Attrs
	DeclRange  hcl.Range
}

// Azure is an azure block: one Recovery Services vault and its appliance.
type Azure struct {
	Name           string
	Cloud          string // AzureCloud, AzureChinaCloud or AzureUSGovernment
	Endpoint       string // custom ARM endpoint instead of Cloud
	CAFile         string // PEM bundle trusted for Endpoint, relative to the runbook
	SubscriptionID string
	TenantID       string
	Vault          string // ARM ID of the Recovery Services vault
	Appliance      string
	Credential     string // default, cli, client_secret, managed_identity or token
	ClientID       string
	ClientSecret   Secret
	TokenEnv       string // env var holding a bearer token for credential = "token"
	// WriteBurst and WritesPerSecond size the subscription's write budget
	// (zero: ARM's 200 and 10 per s).
	WriteBurst      int
	WritesPerSecond float64
	Sensitive       Attrs
	DeclRange       hcl.Range
}

// Window is a maintenance window: disruptive steps run only while it is
// open.
type Window struct {
	Name     string
	Schedule string // cron, five fields or a descriptor such as @daily
	Duration string
	Timezone string // IANA name; empty means UTC
	// Estimates override how long a disruptive step kind is expected to
	// take, for deciding whether it still fits in the window.
	Estimates map[string]string
	DeclRange hcl.Range
}

// StateBackend is a state block: where apply keeps its journal and lock so
// that every runner sees them.
type StateBackend struct {
	Backend        string // local or azurerm
	StorageAccount string
	Container      string
	// Key names the state inside the container (default: the runbook's
	// name).
	Key string
	// Endpoint replaces https://<account>.blob.core.windows.net/ (an
	// emulator, a sovereign cloud).
	Endpoint  string
	DeclRange hcl.Range
}

// Defaults are merged into every vm: an attribute a vm leaves unset takes
// the default's value.
type Defaults struct {
	Replication Replication
	Target      Target
	DeclRange   hcl.Range
}

// Stage is the lifecycle stage a runbook asks a VM to reach.
type Stage string

// The stages a runbook may ask for, in lifecycle order.
const (
	StageReplicating Stage = "replicating"
	StageTested      Stage = "tested"
	StageMigrated    Stage = "migrated"
	StageCompleted   Stage = "completed"
)

// Stages lists the valid stages in lifecycle order.
var Stages = []Stage{StageReplicating, StageTested, StageMigrated, StageCompleted}

// VM is one expanded vm instance.
type VM struct {
	// Address is the instance address: vm.db, vm.app["web01"] or vm.web[0].
	Address string
	// Block is the vm block's label.
	Block string
	// Key is the for_each key or the count index as a string; empty for a
	// single instance.
	Key string

	Stage Stage
	// Window names the window that binds this VM's disruptive steps.
	Window string
	// DependsOn holds the instance addresses this VM waits for.
	DependsOn []string

	Source      Source
	Target      Target
	Replication Replication
	Rehearsal   *Rehearsal

	// Sensitive lists attribute paths (such as "target.name") whose value
	// came from a sensitive input and must be shown as (sensitive).
	Sensitive Attrs
	DeclRange hcl.Range
}

// Shutdown is how the source VM is stopped before failover.
type Shutdown string

// Shutdown modes.
const (
	// ShutdownASR (the default) leaves the shutdown to the failover: ASR
	// shuts the source down and replicates its last writes before it
	// fails over (performShutdown "true").
	ShutdownASR   Shutdown = "asr"
	ShutdownGuest Shutdown = "guest"
	ShutdownHard  Shutdown = "hard"
	ShutdownNone  Shutdown = "none"
)

// Source says which vCenter VM this is and how to prepare it.
type Source struct {
	VCenter string
	// Exactly one of Name, Path, Moref and InstanceUUID identifies the VM.
	// Name defaults to the instance key or the block label.
	Name         string
	Path         string
	Moref        string
	InstanceUUID string

	// Placement to relocate to before cutover; empty means leave as is.
	Host         string
	ResourcePool string
	Datastore    string
	Folder       string
	// MovePriority is default, high or low: the priority of the
	// MigrateVM_Task a host or pool move runs as.
	MovePriority string

	Shutdown              Shutdown
	SnapshotBeforeCutover bool
	// FTPrimary, when set, names the fault-tolerance member (host name or VM
	// path) that must be primary before cutover.
	FTPrimary string
}

// Target is where and how the VM lands in Azure.
type Target struct {
	Azure         string
	Name          string
	Size          string
	ResourceGroup string
	Network       string
	Subnet        string
	TestNetwork   string
	TestSubnet    string
	// AllowTestInProduction lets test_network be the production network:
	// the test VM then boots beside the running source, with its address
	// and identity. Only an explicit true allows it.
	AllowTestInProduction         bool
	Zone                          string
	AvailabilitySet               string
	ProximityPlacementGroup       string
	BootDiagnosticsStorageAccount string
	SecurityType                  string
	SecureBoot                    *bool
	TPM                           *bool
	LicenseType                   string
	SQLLicenseType                string
	LinuxLicenseType              string
	VMTags                        map[string]string
	NICTags                       map[string]string
	DiskTags                      map[string]string
	NICs                          []NIC
	Disks                         []Disk
}

// NIC maps one source NIC to its Azure settings.
type NIC struct {
	MAC          string // source MAC address, or
	NICID        string // the NIC id ASR reports
	Primary      *bool
	Selected     *bool
	Subnet       string
	StaticIP     string
	TestSubnet   string
	TestStaticIP string
	TargetName   string
	DeclRange    hcl.Range
}

// Disk maps one source disk to its Azure settings.
type Disk struct {
	ID                string // source disk id (vCenter backing UUID / ASR disk id), or
	Label             string // the vCenter label ("Hard disk 1")
	Type              string
	LogStorageAccount string
	DiskEncryptionSet string
	DeclRange         hcl.Range
}

// Replication holds the ASR replication settings of a VM.
type Replication struct {
	Policy            string
	RunAsAccount      string
	MultiVMGroup      string
	DiskType          string
	LogStorageAccount string
	DiskEncryptionSet string
	// MaxRPO bounds the recovery point objective a failover step accepts,
	// for example "30m"; empty means no bound.
	MaxRPO string
}

// Rehearsal is an on-premises dress rehearsal: a clone of the source placed
// on the given host/pool/datastore and customised.
type Rehearsal struct {
	// Name is the clone's name as written; the provider escapes it as
	// vSphere requires (% / and \).
	Name         string
	Host         string
	ResourcePool string
	Datastore    string
	Folder       string
	// Network is the isolated port group (name or inventory path) every
	// adapter of the clone is moved to; empty means the adapters start
	// disconnected. Either way the clone powers on only after its
	// adapters are read back isolated.
	Network       string
	PowerOn       bool
	Customization *Customization
	// Recustomize, when set, customizes the running clone again with
	// CustomizeGuest_Task (for example a new address once it boots in
	// isolation).
	Recustomize *Recustomize
	DeclRange   hcl.Range
}

// Recustomize is a guest customization of the running rehearsal clone,
// and the guest login it runs with.
type Recustomize struct {
	Customization
	GuestUsername string
	// GuestPassword never reaches plans, journals or output.
	GuestPassword Secret
	DeclRange     hcl.Range
}

// Customization is a guest customization: by spec name from vCenter's
// CustomizationSpecManager, or spelled out.
type Customization struct {
	Spec       string
	OS         string // linux or windows
	Hostname   string
	Domain     string
	Workgroup  string
	TimeZone   string
	DNSServers []string
	NICs       []CustomizationNIC
}

// CustomizationNIC sets one NIC's guest IP configuration; an empty IP means
// DHCP.
type CustomizationNIC struct {
	IP      string
	Netmask string
	Gateway []string
}

// Attrs is a set of attribute paths.
type Attrs map[string]bool

// Has reports whether path is in the set.
func (a Attrs) Has(path string) bool { return a[path] }

func (a *Attrs) add(path string) {
	if *a == nil {
		*a = Attrs{}
	}
	(*a)[path] = true
}
