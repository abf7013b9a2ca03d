package planner

import (
	"context"
	"fmt"
	"math"
	"path"
	"sort"
	"strings"

	"cutover/providers/azure"
	"cutover/providers/vcenter"
	"cutover/schema"
)

// Inventory is what cutover import reads: every vCenter VM the runbook's
// vcenter blocks see (one bulk discovery each, as plan does), matched to
// the Azure Migrate appliance's discovered machines and the vault's
// protected items (one inventory read per azure block), as rows of a
// runbook CSV with proposed targets.

// ImportOptions tune Inventory.
type ImportOptions struct {
	// Folder keeps VMs whose inventory path starts with it.
	Folder string
	// Match keeps VMs whose name matches the glob (path.Match).
	Match string
	// Networks maps port group names to target subnets.
	Networks map[string]string
	// Sizes is the size rule's table; nil means DefaultSizes.
	Sizes []SizeRule
	// DiskType and Stage fill every row; empty means StandardSSD_LRS and
	// replicating.
	DiskType, Stage string
	// ASR, when set, limits the import to the machines these rows of an
	// at-scale CSV name, and takes their targets from them.
	ASR []schema.ASRRow
}

// Skipped is a VM import leaves out, with the reason.
type Skipped struct {
	VM, Reason string
}

// SizeRule is one Azure size the rule may propose.
type SizeRule struct {
	Size      string
	VCPUs     int
	MemoryGiB int
}

// DefaultSizes is the size rule's table: general purpose (D) and memory
// optimised (E) v5 sizes with premium storage, smallest first. The rule
// proposes the first size with at least the VM's vCPUs and memory, so a
// VM keeps its shape rather than being resized on the way; sizes are
// from Microsoft's Dv5/Ev5 series pages. Teams override the table with
// import --sizes FILE.
var DefaultSizes = []SizeRule{
	{"Standard_D2s_v5", 2, 8}, {"Standard_E2s_v5", 2, 16},
	{"Standard_D4s_v5", 4, 16}, {"Standard_E4s_v5", 4, 32},
	{"Standard_D8s_v5", 8, 32}, {"Standard_E8s_v5", 8, 64},
	{"Standard_D16s_v5", 16, 64}, {"Standard_E16s_v5", 16, 128},
	{"Standard_D32s_v5", 32, 128}, {"Standard_E32s_v5", 32, 256},
	{"Standard_D48s_v5", 48, 192}, {"Standard_E48s_v5", 48, 384},
	{"Standard_D64s_v5", 64, 256}, {"Standard_E64s_v5", 64, 512},
	{"Standard_D96s_v5", 96, 384}, {"Standard_E96s_v5", 96, 672},
}

// SizeFor applies the size rule: the first size in rules with at least
// cpus vCPUs and memoryMB of memory (rounded up to whole GiB); "" when
// none is large enough, leaving the size to ASR's own choice.
func SizeFor(rules []SizeRule, cpus, memoryMB int) string {
	gib := int(math.Ceil(float64(memoryMB) / 1024))
	for _, r := range rules {
		if r.VCPUs >= cpus && r.MemoryGiB >= gib {
			return r.Size
		}
	}
	return ""
}

// AzureVMName proposes an Azure VM name for a source name: letters,
// digits, hyphens, underscores and periods; not starting with an
// underscore (nor, for readability, a hyphen or period) or ending with a period or hyphen; at most 64 characters
// (the Linux limit; Windows guests' computer names are limited to 15,
// which Azure derives separately). Other characters become hyphens.
func AzureVMName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := strings.TrimLeft(b.String(), "_-.")
	if len(s) > 64 {
		s = s[:64]
	}
	s = strings.TrimRight(s, ".-")
	if s == "" {
		s = "vm"
	}
	return s
}

type importCandidate struct {
	vc  string
	inv *vcenter.Inventory
	vm  *vcenter.VM
}

// Inventory reads every source and returns one row per VM that can be
// migrated, and the VMs left out with the reason. Rows are in inventory
// path order; target names are unique (a repeated one gets -2, -3, ...).
func Inventory(ctx context.Context, src Sources, opts ImportOptions) ([]schema.ImportRow, []Skipped, error) {
	if opts.Sizes == nil {
		opts.Sizes = DefaultSizes
	}
	if opts.DiskType == "" {
		opts.DiskType = "StandardSSD_LRS"
	}
	if opts.Stage == "" {
		opts.Stage = string(schema.StageReplicating)
	}
	type vault struct {
		name string
		x    *azureIndex
	}
	var vaults []vault
	for _, name := range sortedNames(src.Azures) {
		inv, err := src.Azures[name].ReadInventory(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("azure %q: %w", name, err)
		}
		vaults = append(vaults, vault{name, indexAzure(inv)})
	}
	var cands []importCandidate
	for _, name := range sortedNames(src.VCenters) {
		inv, err := src.VCenters[name].Discover(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("vcenter %q: %w", name, err)
		}
		for _, v := range inv.VMs {
			cands = append(cands, importCandidate{name, inv, v})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].vm.Path < cands[j].vm.Path })

	var skipped []Skipped
	asrByName := map[string]*schema.ASRRow{}
	if opts.ASR != nil {
		for i := range opts.ASR {
			asrByName[strings.ToLower(opts.ASR[i].Source())] = &opts.ASR[i]
		}
		// An at-scale CSV names machines; a name that more than one VM has
		// cannot say which is meant.
		byName := map[string][]string{}
		for _, c := range cands {
			if !c.vm.Template {
				byName[strings.ToLower(c.vm.Name)] = append(byName[strings.ToLower(c.vm.Name)], c.vm.Path)
			}
		}
		for _, r := range opts.ASR {
			switch paths := byName[strings.ToLower(r.Source())]; {
			case len(paths) == 0:
				skipped = append(skipped, Skipped{r.Source(), fmt.Sprintf("line %d: no VM of that name in vCenter", r.Line)})
			case len(paths) > 1:
				skipped = append(skipped, Skipped{r.Source(), fmt.Sprintf("line %d: %d VMs have that name (%s); the CSV cannot say which", r.Line, len(paths), strings.Join(paths, ", "))})
				delete(asrByName, strings.ToLower(r.Source()))
			}
		}
	}

	var rows []schema.ImportRow
	used := map[string]bool{}
	for _, c := range cands {
		v := c.vm
		var asr *schema.ASRRow
		if opts.ASR != nil {
			if asr = asrByName[strings.ToLower(v.Name)]; asr == nil || v.Template {
				continue
			}
		}
		if opts.Folder != "" && !strings.HasPrefix(v.Path, strings.TrimRight(opts.Folder, "/")+"/") {
			continue
		}
		if opts.Match != "" {
			if ok, _ := path.Match(opts.Match, v.Name); !ok {
				continue
			}
		}
		why := ""
		var m *azure.Machine
		var item *azure.ProtectedItem
		az := ""
		for _, vt := range vaults {
			if m = vt.x.machine(v); m != nil {
				az = vt.name
				item = vt.x.item(m, "")
				break
			}
		}
		switch {
		case v.Template:
			why = "a template, not a VM"
		case v.FTRole > 1:
			why = "the secondary of a fault-tolerant pair; its primary is imported"
		case v.InstanceUUID == "":
			why = "no instance UUID to identify it by"
		case m == nil:
			why = "not discovered by the Azure Migrate appliance of any azure block"
		}
		if why != "" {
			skipped = append(skipped, Skipped{v.Path, why})
			continue
		}
		row := schema.ImportRow{
			Name: v.Name, VCenter: c.vc, Azure: az, Path: v.Path, InstanceUUID: v.InstanceUUID,
			GuestOS: v.GuestFullName, CPUs: int(v.NumCPU), MemoryMB: int(v.MemoryMB),
			Discovered: true, Replicating: item != nil, Stage: opts.Stage, DiskType: opts.DiskType,
		}
		if row.GuestOS == "" {
			row.GuestOS = m.OSName
		}
		if row.CPUs == 0 {
			row.CPUs = m.Cores
		}
		if row.MemoryMB == 0 {
			row.MemoryMB = m.MemoryMB
		}
		var bytes int64
		for _, d := range v.Disks {
			bytes += d.SizeBytes
		}
		row.Disks, row.DiskGB = len(v.Disks), int(math.Ceil(float64(bytes)/(1<<30)))
		var nics []string
		for i, n := range v.NICs {
			pg := n.Network
			if e, ok := c.inv.Entity(n.Network); ok {
				pg = e.Name
			}
			nics = append(nics, n.MAC+"="+pg)
			if i == 0 {
				row.Subnet = opts.Networks[pg]
			}
		}
		row.NICs = strings.Join(nics, ";")
		row.Size = SizeFor(opts.Sizes, row.CPUs, row.MemoryMB)
		row.TargetName = AzureVMName(v.Name)
		if item != nil && item.VM != "" {
			// ASR fixed the target name when replication was enabled; a
			// runbook that asks for another would only be told it cannot.
			row.TargetName = item.VM
		}
		if asr != nil {
			asr.Targets(&row)
		}
		base := row.TargetName
		for i := 2; used[strings.ToLower(row.TargetName)]; i++ {
			row.TargetName = fmt.Sprintf("%s-%d", strings.TrimRight(base[:min(len(base), 60)], ".-"), i)
		}
		used[strings.ToLower(row.TargetName)] = true
		rows = append(rows, row)
	}
	return rows, skipped, nil
}

func sortedNames[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
