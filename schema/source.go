package schema

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

var sourceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "vcenter"}, {Name: "name"}, {Name: "path"}, {Name: "moref"}, {Name: "instance_uuid"},
		{Name: "host"}, {Name: "resource_pool"}, {Name: "datastore"}, {Name: "folder"},
		{Name: "shutdown"}, {Name: "snapshot_before_cutover"}, {Name: "ft_primary"}, {Name: "move_priority"},
	},
}

// MovePriorities are the source's move_priority values, for MigrateVM_Task.
var MovePriorities = []string{"default", "high", "low"}

var morefPattern = regexp.MustCompile(`^vm-[0-9]+$`)

func (d *decoder) decodeSource(b *hcl.Block, ctx *hcl.EvalContext, vm *VM, defaultName string) {
	src := &vm.Source
	src.Shutdown = ShutdownASR
	src.VCenter = d.only("vcenter")
	rng := vm.DeclRange
	if b != nil {
		content, diags := b.Body.Content(sourceSchema)
		d.add(diags)
		rng = b.DefRange
		a := newAttrs(ctx, content.Attributes, "source.", &vm.Sensitive)
		d.ref(a, "vcenter", "vcenter", &src.VCenter)
		a.exclusive(b.DefRange, "name", "path", "moref", "instance_uuid")
		a.nonEmpty("name", &src.Name)
		a.nonEmpty("path", &src.Path)
		a.nonEmpty("moref", &src.Moref)
		a.nonEmpty("instance_uuid", &src.InstanceUUID)
		a.str("host", &src.Host)
		a.str("resource_pool", &src.ResourcePool)
		a.str("datastore", &src.Datastore)
		a.str("folder", &src.Folder)
		var shutdown string
		a.enum("shutdown", &shutdown, string(ShutdownASR), string(ShutdownGuest), string(ShutdownHard), string(ShutdownNone))
		if shutdown != "" {
			src.Shutdown = Shutdown(shutdown)
		}
		a.boolean("snapshot_before_cutover", &src.SnapshotBeforeCutover)
		a.str("ft_primary", &src.FTPrimary)
		for _, n := range []string{"name", "path", "host", "resource_pool", "datastore", "folder", "ft_primary"} {
			v := map[string]string{"name": src.Name, "path": src.Path, "host": src.Host, "resource_pool": src.ResourcePool,
				"datastore": src.Datastore, "folder": src.Folder, "ft_primary": src.FTPrimary}[n]
			a.check(n, v, "Invalid name", func(s string) string {
				if why := nameProblem(s); why != "" {
					return why + "."
				}
				return ""
			})
		}
		a.enum("move_priority", &src.MovePriority, MovePriorities...)
		a.check("path", src.Path, "Invalid inventory path", func(s string) string {
			if !strings.HasPrefix(s, "/") {
				return "is not an inventory path; paths start with /, such as /dc1/vm/prod/db01."
			}
			return ""
		})
		a.check("moref", src.Moref, "Invalid moref", func(s string) string {
			if !morefPattern.MatchString(s) {
				return "is not a virtual machine managed object ID such as vm-1234."
			}
			return ""
		})
		a.check("instance_uuid", src.InstanceUUID, "Invalid instance UUID", func(s string) string {
			if !guidPattern.MatchString(s) {
				return "is not a UUID such as 5010a2f3-7c1e-4c3e-8d42-1f0e7a9b0c11."
			}
			return ""
		})
		d.add(a.diags)
	}
	if src.Name == "" && src.Path == "" && src.Moref == "" && src.InstanceUUID == "" {
		src.Name = defaultName
	}
	if src.VCenter == "" {
		if len(d.blocks["vcenter"]) == 0 {
			d.errorf(&rng, "No vcenter declared", "%s needs a source vCenter, but the runbook declares no vcenter block.", vm.Address)
		} else {
			d.errorf(&rng, "Missing source vcenter",
				"%s must say which vCenter it lives in: the runbook declares several (set vcenter = vcenter.NAME in its source block).%s",
				vm.Address, d.declaredList("vcenter"))
		}
	}
}

var targetAttrs = []hcl.AttributeSchema{
	{Name: "azure"}, {Name: "size"}, {Name: "resource_group"},
	{Name: "network"}, {Name: "subnet"}, {Name: "test_network"}, {Name: "test_subnet"}, {Name: "allow_test_in_production"},
	{Name: "zone"}, {Name: "availability_set"}, {Name: "proximity_placement_group"},
	{Name: "boot_diagnostics_storage_account"}, {Name: "security_type"}, {Name: "secure_boot"}, {Name: "tpm"},
	{Name: "license_type"}, {Name: "sql_license_type"}, {Name: "linux_license_type"},
	{Name: "vm_tags"}, {Name: "nic_tags"}, {Name: "disk_tags"},
}

var targetSchema = &hcl.BodySchema{
	Attributes: append(append([]hcl.AttributeSchema{}, targetAttrs...), hcl.AttributeSchema{Name: "name"}),
	Blocks:     []hcl.BlockHeaderSchema{{Type: "nic"}, {Type: "disk"}},
}

// defaultTargetSchema is a target block inside defaults: no per-VM name,
// NICs or disks.
var defaultTargetSchema = &hcl.BodySchema{Attributes: targetAttrs}

// Enumerations of target settings, as the ASR API spells them.
var (
	DiskTypes         = []string{"Standard_LRS", "Premium_LRS", "StandardSSD_LRS", "Premium_ZRS", "StandardSSD_ZRS"}
	LicenseTypes      = []string{"NoLicenseType", "WindowsServer"}
	SQLLicenseTypes   = []string{"NoLicenseType", "PAYG", "AHUB"}
	LinuxLicenseTypes = []string{"NoLicenseType", "LinuxServer"}
	SecurityTypes     = []string{"None", "TrustedLaunch", "ConfidentialVM"}
	Zones             = []string{"1", "2", "3"}
)

var (
	vmSizePattern = regexp.MustCompile(`^(Standard|Basic)_[A-Za-z0-9_]+$`)
	azureVMName   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]$|^[A-Za-z0-9]$`)
	macPattern    = regexp.MustCompile(`^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$`)
)

// decodeTargetAttrs decodes the attributes a target block shares with
// defaults.target.
func (d *decoder) decodeTargetAttrs(a *attrs, t *Target, block hcl.Range) {
	d.ref(a, "azure", "azure", &t.Azure)
	a.nonEmpty("size", &t.Size)
	a.nonEmpty("resource_group", &t.ResourceGroup)
	a.nonEmpty("network", &t.Network)
	a.nonEmpty("subnet", &t.Subnet)
	a.nonEmpty("test_network", &t.TestNetwork)
	a.nonEmpty("test_subnet", &t.TestSubnet)
	a.boolean("allow_test_in_production", &t.AllowTestInProduction)
	a.enum("zone", &t.Zone, Zones...)
	a.nonEmpty("availability_set", &t.AvailabilitySet)
	a.nonEmpty("proximity_placement_group", &t.ProximityPlacementGroup)
	a.nonEmpty("boot_diagnostics_storage_account", &t.BootDiagnosticsStorageAccount)
	a.enum("security_type", &t.SecurityType, SecurityTypes...)
	a.boolPtr("secure_boot", &t.SecureBoot)
	a.boolPtr("tpm", &t.TPM)
	a.enum("license_type", &t.LicenseType, LicenseTypes...)
	a.enum("sql_license_type", &t.SQLLicenseType, SQLLicenseTypes...)
	a.enum("linux_license_type", &t.LinuxLicenseType, LinuxLicenseTypes...)
	a.strMap("vm_tags", &t.VMTags)
	a.strMap("nic_tags", &t.NICTags)
	a.strMap("disk_tags", &t.DiskTags)
	a.exclusive(block, "zone", "availability_set")

	a.check("size", t.Size, "Invalid VM size", func(s string) string {
		if len(s) > maxVMSizeLen || !vmSizePattern.MatchString(s) {
			return fmt.Sprintf("is not an Azure VM size such as Standard_D4s_v5 (at most %d characters).", maxVMSizeLen)
		}
		return ""
	})
	for _, n := range []string{"vm_tags", "nic_tags", "disk_tags"} {
		tags := map[string]map[string]string{"vm_tags": t.VMTags, "nic_tags": t.NICTags, "disk_tags": t.DiskTags}[n]
		if why := tagsProblem(tags); why != "" && a.has(n) {
			a.errorf(n, "Invalid tags", "%s %s", n, why)
		}
	}
	a.check("resource_group", t.ResourceGroup, "Malformed resource group", checkResource("resourceGroups"))
	a.check("network", t.Network, "Malformed network ID", checkResource("Microsoft.Network/virtualNetworks"))
	a.check("test_network", t.TestNetwork, "Malformed network ID", checkResource("Microsoft.Network/virtualNetworks"))
	a.check("availability_set", t.AvailabilitySet, "Malformed availability set ID", checkResource("Microsoft.Compute/availabilitySets"))
	a.check("proximity_placement_group", t.ProximityPlacementGroup, "Malformed proximity placement group ID", checkResource("Microsoft.Compute/proximityPlacementGroups"))
	a.check("boot_diagnostics_storage_account", t.BootDiagnosticsStorageAccount, "Malformed storage account ID", checkResource("Microsoft.Storage/storageAccounts"))
	if (t.SecureBoot != nil || t.TPM != nil) && t.SecurityType != "TrustedLaunch" && t.SecurityType != "ConfidentialVM" && a.has("security_type") {
		name := "secure_boot"
		if t.SecureBoot == nil {
			name = "tpm"
		}
		a.errorf(name, "Setting needs a security type", "%s applies only with security_type TrustedLaunch or ConfidentialVM.", name)
	}
}

func (d *decoder) decodeTarget(b *hcl.Block, ctx *hcl.EvalContext, vm *VM) {
	t := &vm.Target
	if b != nil {
		content, diags := b.Body.Content(targetSchema)
		d.add(diags)
		a := newAttrs(ctx, content.Attributes, "target.", &vm.Sensitive)
		d.decodeTargetAttrs(a, t, b.DefRange)
		if a.has("zone") && a.has("availability_set") {
			d.reported[vm.Address+".zone"] = true
		}
		a.nonEmpty("name", &t.Name)
		a.check("name", t.Name, "Invalid Azure VM name", checkAzureVMName)
		d.add(a.diags)
		d.decodeNICs(content.Blocks, ctx, vm)
		d.decodeDisks(content.Blocks, ctx, vm)
	}
	if t.Name == "" {
		t.Name = vm.Source.Name
		if t.Name == "" {
			t.Name = vm.Block
		}
		if why := checkAzureVMName(t.Name); why != "" {
			d.errorf(&vm.DeclRange, "Invalid Azure VM name",
				"%s has no target name, and its source name %q %s Set target { name = ... }.", vm.Address, t.Name, why)
		}
	}
	if t.Azure == "" {
		t.Azure = d.only("azure")
	}
}

func checkAzureVMName(s string) string {
	if !azureVMName.MatchString(s) || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "-") {
		return "is not a valid Azure VM name: 1 to 64 letters, digits, dots, dashes and underscores, starting with a letter or digit and not ending in a dot or dash."
	}
	return ""
}

var nicSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "mac"}, {Name: "nic_id"}, {Name: "primary"}, {Name: "selected"},
		{Name: "subnet"}, {Name: "static_ip"}, {Name: "test_subnet"}, {Name: "test_static_ip"}, {Name: "target_name"},
	},
}

func (d *decoder) decodeNICs(blocks hcl.Blocks, ctx *hcl.EvalContext, vm *VM) {
	var primaries []hcl.Range
	seen := map[string]hcl.Range{}
	for i, b := range blocks.OfType("nic") {
		content, diags := b.Body.Content(nicSchema)
		d.add(diags)
		n := NIC{DeclRange: b.DefRange}
		a := newAttrs(ctx, content.Attributes, "target.nic."+itoa(i)+".", &vm.Sensitive)
		a.exclusive(b.DefRange, "mac", "nic_id")
		a.nonEmpty("mac", &n.MAC)
		a.nonEmpty("nic_id", &n.NICID)
		a.boolPtr("primary", &n.Primary)
		a.boolPtr("selected", &n.Selected)
		a.nonEmpty("subnet", &n.Subnet)
		a.nonEmpty("static_ip", &n.StaticIP)
		a.nonEmpty("test_subnet", &n.TestSubnet)
		a.nonEmpty("test_static_ip", &n.TestStaticIP)
		a.nonEmpty("target_name", &n.TargetName)
		a.check("mac", n.MAC, "Invalid MAC address", func(s string) string {
			if !macPattern.MatchString(s) {
				return "is not a MAC address such as 00:50:56:aa:bb:cc."
			}
			return ""
		})
		for _, ip := range []string{"static_ip", "test_static_ip"} {
			v := n.StaticIP
			if ip == "test_static_ip" {
				v = n.TestStaticIP
			}
			a.check(ip, v, "Invalid IP address", func(s string) string {
				if p := net.ParseIP(s); p == nil || p.To4() == nil {
					return "is not an IPv4 address."
				}
				return ""
			})
		}
		d.add(a.diags)
		if !a.has("mac") && !a.has("nic_id") {
			d.errorf(&b.DefRange, "NIC without a source", "A nic block must name its source NIC with mac or nic_id.")
		}
		sel := strings.ToLower(n.MAC + n.NICID)
		if prev, ok := seen[sel]; ok && sel != "" {
			d.errorf(&b.DefRange, "Duplicate nic block", "This NIC was already mapped at %s.", prev)
		}
		seen[sel] = b.DefRange
		if n.Primary != nil && *n.Primary {
			primaries = append(primaries, b.DefRange)
		}
		vm.Target.NICs = append(vm.Target.NICs, n)
	}
	if len(primaries) > 1 {
		d.errorf(&primaries[1], "Several primary NICs", "%s marks more than one NIC primary; Azure VMs have exactly one primary NIC (first at %s).", vm.Address, primaries[0])
	}
}

var diskSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "id"}, {Name: "label"}, {Name: "type"},
		{Name: "log_storage_account"}, {Name: "disk_encryption_set"}, {Name: "target_name"},
	},
}

func (d *decoder) decodeDisks(blocks hcl.Blocks, ctx *hcl.EvalContext, vm *VM) {
	seen := map[string]hcl.Range{}
	for i, b := range blocks.OfType("disk") {
		content, diags := b.Body.Content(diskSchema)
		d.add(diags)
		k := Disk{DeclRange: b.DefRange}
		a := newAttrs(ctx, content.Attributes, "target.disk."+itoa(i)+".", &vm.Sensitive)
		a.exclusive(b.DefRange, "id", "label")
		a.nonEmpty("id", &k.ID)
		a.nonEmpty("label", &k.Label)
		a.enum("type", &k.Type, DiskTypes...)
		a.nonEmpty("log_storage_account", &k.LogStorageAccount)
		a.nonEmpty("disk_encryption_set", &k.DiskEncryptionSet)
		if a.has("target_name") {
			// Accepted by the schema so that the refusal can say why.
			a.errorf("target_name", "Disk names are not settable",
				"The ASR API version cutover speaks (2025-01-01) takes no disk name when enabling or updating replication, so ASR names the managed disks itself (later versions add vmDisks[].targetDiskName to updates). Remove target_name.")
		}
		a.check("log_storage_account", k.LogStorageAccount, "Malformed storage account ID", checkResource("Microsoft.Storage/storageAccounts"))
		a.check("disk_encryption_set", k.DiskEncryptionSet, "Malformed disk encryption set ID", checkResource("Microsoft.Compute/diskEncryptionSets"))
		d.add(a.diags)
		if !a.has("id") && !a.has("label") {
			d.errorf(&b.DefRange, "Disk without a source", "A disk block must name its source disk with id or label.")
		}
		sel := strings.ToLower(k.ID + k.Label)
		if prev, ok := seen[sel]; ok && sel != "" {
			d.errorf(&b.DefRange, "Duplicate disk block", "This disk was already mapped at %s.", prev)
		}
		seen[sel] = b.DefRange
		vm.Target.Disks = append(vm.Target.Disks, k)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
