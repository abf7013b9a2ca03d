package schema

import (
	"encoding/csv"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"cutover/internal/userfile"
)

// ImportRow is one VM as cutover import writes it: what the inventory
// says about it, and the targets it proposes. The CSV's columns are
// ImportColumns; the runbook's vm block reads them with csvdecode.
type ImportRow struct {
	// Identity: InstanceUUID selects the source VM (a name can repeat);
	// Path and Name are for the reader.
	Name, VCenter, Azure, Path, InstanceUUID string
	GuestOS                                  string
	CPUs, MemoryMB, Disks, DiskGB            int
	// NICs are "MAC=port group" pairs, joined with ";".
	NICs string
	// Discovered by the Azure Migrate appliance; Replicating already.
	Discovered, Replicating bool

	Stage, TargetName, Size, DiskType, Subnet  string
	ResourceGroup, Network, TestNetwork        string
	Policy, LogStorageAccount, AvailabilitySet string
}

// ImportColumns is the header of an import CSV, in order.
var ImportColumns = []string{
	"key", "name", "vcenter", "azure", "source_path", "instance_uuid", "guest_os", "cpus", "memory_mb", "disks", "disk_gb", "nics",
	"discovered", "replicating",
	"stage", "target_name", "size", "disk_type", "subnet",
	"resource_group", "network", "test_network", "policy", "log_storage_account", "availability_set",
}

func (r ImportRow) values() []string {
	return []string{
		r.TargetName, r.Name, r.VCenter, r.Azure, r.Path, r.InstanceUUID, r.GuestOS,
		fmt.Sprint(r.CPUs), fmt.Sprint(r.MemoryMB), fmt.Sprint(r.Disks), fmt.Sprint(r.DiskGB), r.NICs,
		fmt.Sprint(r.Discovered), fmt.Sprint(r.Replicating),
		r.Stage, r.TargetName, r.Size, r.DiskType, r.Subnet,
		r.ResourceGroup, r.Network, r.TestNetwork, r.Policy, r.LogStorageAccount, r.AvailabilitySet,
	}
}

// WriteImportCSV writes rows under ImportColumns.
func WriteImportCSV(w io.Writer, rows []ImportRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ImportColumns); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write(r.values()); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// optional target and replication attributes: the vm block reads one from
// its column only when some row has a value, and a row's empty value
// reads as null, so that the runbook's defaults apply to it.
var importOptional = []struct {
	block, attr, column string
	get                 func(ImportRow) string
}{
	{"target", "size", "size", func(r ImportRow) string { return r.Size }},
	{"target", "subnet", "subnet", func(r ImportRow) string { return r.Subnet }},
	{"target", "resource_group", "resource_group", func(r ImportRow) string { return r.ResourceGroup }},
	{"target", "network", "network", func(r ImportRow) string { return r.Network }},
	{"target", "test_network", "test_network", func(r ImportRow) string { return r.TestNetwork }},
	{"target", "availability_set", "availability_set", func(r ImportRow) string { return r.AvailabilitySet }},
	{"replication", "disk_type", "disk_type", func(r ImportRow) string { return r.DiskType }},
	{"replication", "policy", "policy", func(r ImportRow) string { return r.Policy }},
	{"replication", "log_storage_account", "log_storage_account", func(r ImportRow) string { return r.LogStorageAccount }},
}

// ImportBlocks writes the locals and vm blocks that read csvFile (a path
// relative to the runbook directory): one vm block per vcenter and azure
// pair the rows use, each with for_each over its rows, keyed by the
// proposed target name, which import keeps unique. multiAzure says the
// runbook declares several azure blocks, so each vm block names its own.
func ImportBlocks(csvFile string, rows []ImportRow, multiAzure bool) ([]byte, error) {
	type pair struct{ vc, az string }
	var pairs []pair
	seen := map[pair]bool{}
	for _, r := range rows {
		p := pair{r.VCenter, r.Azure}
		if !seen[p] {
			seen[p] = true
			pairs = append(pairs, p)
		}
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].vc+"\x00"+pairs[i].az < pairs[j].vc+"\x00"+pairs[j].az })

	f := hclwrite.NewEmptyFile()
	body := f.Body()
	body.AppendUnstructuredTokens(comment(fmt.Sprintf(
		"Written by cutover import: one VM per row of %s. Edit the rows (stage, size,\nsubnet, ...) rather than this block; re-run import with --force to refresh them.", csvFile)))
	locals := body.AppendNewBlock("locals", nil).Body()
	if err := setExpr(locals, "imported_vms", fmt.Sprintf("csvdecode(file(%q))", csvFile)); err != nil {
		return nil, err
	}
	for _, p := range pairs {
		body.AppendNewline()
		name := "imported"
		if len(pairs) > 1 {
			name = "imported_" + p.vc
			if multiAzure {
				name += "_" + p.az
			}
		}
		vm := body.AppendNewBlock("vm", []string{name}).Body()
		filter := fmt.Sprintf("r.vcenter == %q", p.vc)
		if multiAzure {
			filter += fmt.Sprintf(" && r.azure == %q", p.az)
		}
		exprs := [][2]string{
			{"for_each", "{ for r in local.imported_vms : r.key => r if " + filter + " }"},
			{"stage", "each.value.stage"},
		}
		for _, e := range exprs {
			if err := setExpr(vm, e[0], e[1]); err != nil {
				return nil, err
			}
		}
		vm.AppendNewline()
		src := vm.AppendNewBlock("source", nil).Body()
		if err := setExpr(src, "vcenter", "vcenter."+p.vc); err != nil {
			return nil, err
		}
		if err := setExpr(src, "instance_uuid", "each.value.instance_uuid"); err != nil {
			return nil, err
		}
		blocks := map[string]*hclwrite.Body{}
		blocks["target"] = vm.AppendNewBlock("target", nil).Body()
		if multiAzure {
			if err := setExpr(blocks["target"], "azure", "azure."+p.az); err != nil {
				return nil, err
			}
		}
		if err := setExpr(blocks["target"], "name", "each.value.target_name"); err != nil {
			return nil, err
		}
		for _, o := range importOptional {
			used := false
			for _, r := range rows {
				if r.VCenter == p.vc && (!multiAzure || r.Azure == p.az) && o.get(r) != "" {
					used = true
					break
				}
			}
			if !used {
				continue
			}
			b := blocks[o.block]
			if b == nil {
				b = vm.AppendNewBlock(o.block, nil).Body()
				blocks[o.block] = b
			}
			// null leaves the attribute unset for a row without a value,
			// so the runbook's defaults apply to it.
			col := "each.value." + o.column
			if err := setExpr(b, o.attr, col+` != "" ? `+col+" : null"); err != nil {
				return nil, err
			}
		}
	}
	return hclwrite.Format(f.Bytes()), nil
}

// setExpr sets an attribute to an expression given as source text, parsed
// so that hclwrite lays it out.
func setExpr(b *hclwrite.Body, name, expr string) error {
	f, diags := hclwrite.ParseConfig([]byte("x = "+expr+"\n"), "import", hcl.InitialPos)
	if diags.HasErrors() {
		return fmt.Errorf("import: expression %s: %s", expr, diags.Error())
	}
	b.SetAttributeRaw(name, f.Body().GetAttribute("x").Expr().BuildTokens(nil))
	return nil
}

func comment(text string) hclwrite.Tokens {
	var toks hclwrite.Tokens
	for _, l := range strings.Split(text, "\n") {
		toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenComment, Bytes: []byte("# " + l + "\n")})
	}
	return toks
}

// DeclaresVMs reports whether any *.hcl file in dir has a vm block, read
// syntactically: import must not add a second set of VMs to a runbook
// that already declares its own, whether or not it validates.
func DeclaresVMs(dir string) (bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if err != nil {
		return false, err
	}
	for _, path := range files {
		src, err := userfile.Read(path, userfile.MaxSource)
		if err != nil {
			return false, err
		}
		if d := nestingError(path, src); d != nil {
			return false, fmt.Errorf("%s", hcl.Diagnostics{d}.Error())
		}
		f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
		if diags.HasErrors() {
			return false, fmt.Errorf("%s", diags.Error())
		}
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			if b.Type == "vm" {
				return true, nil
			}
		}
	}
	return false, nil
}
