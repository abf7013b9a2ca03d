package schema

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// depRef is one element of depends_on: vm.NAME or vm.NAME[KEY].
type depRef struct {
	block string
	key   *string // nil refers to every instance of the block
	rng   hcl.Range
}

// decodeDependsOn reads depends_on as static references: like Terraform, it
// is structure, not a value, so it cannot depend on for_each data.
func (d *decoder) decodeDependsOn(at *hcl.Attribute) []depRef {
	exprs, diags := hcl.ExprList(at.Expr)
	d.add(diags)
	var out []depRef
	for _, e := range exprs {
		r := e.Range()
		tr, diags := hcl.AbsTraversalForExpr(e)
		if diags.HasErrors() || tr.RootName() != "vm" || len(tr) < 2 || len(tr) > 3 {
			d.errorf(&r, "Invalid depends_on reference",
				"depends_on lists vm references such as vm.db or vm.app[\"web01\"].")
			continue
		}
		step, ok := tr[1].(hcl.TraverseAttr)
		if !ok {
			d.errorf(&r, "Invalid depends_on reference", "depends_on lists vm references such as vm.db or vm.app[\"web01\"].")
			continue
		}
		ref := depRef{block: step.Name, rng: r}
		if len(tr) == 3 {
			idx, ok := tr[2].(hcl.TraverseIndex)
			if !ok || !idx.Key.IsKnown() || idx.Key.IsNull() {
				d.errorf(&r, "Invalid depends_on reference", "The index of a vm reference must be a constant key.")
				continue
			}
			var key string
			switch idx.Key.Type() {
			case cty.String:
				key = idx.Key.AsString()
			case cty.Number:
				key = idx.Key.AsBigFloat().Text('f', -1)
			default:
				d.errorf(&r, "Invalid depends_on reference", "The index of a vm reference must be a string or a number.")
				continue
			}
			ref.key = &key
		}
		out = append(out, ref)
	}
	return out
}

// checkReferences resolves depends_on to instances and reports undeclared
// vms and cycles.
func (d *decoder) checkReferences() {
	byBlock := map[string][]*VM{}
	byAddr := map[string]*VM{}
	for _, vm := range d.rb.VMs {
		byBlock[vm.Block] = append(byBlock[vm.Block], vm)
		byAddr[vm.Address] = vm
	}
	declaredBlocks := map[string]bool{}
	for _, b := range d.blocks["vm"] {
		declaredBlocks[b.Labels[0]] = true
	}
	firstRange := map[string]hcl.Range{}
	deps := map[string][]string{}
	for _, vm := range d.rb.VMs {
		seen := map[string]bool{}
		for _, ref := range d.dependsOn[vm] {
			if !declaredBlocks[ref.block] {
				r := ref.rng
				d.errorf(&r, "Reference to undeclared vm",
					"depends_on refers to vm.%s, but no vm block has that name.", ref.block)
				continue
			}
			var targets []*VM
			if ref.key == nil {
				targets = byBlock[ref.block]
			} else {
				for _, cand := range byBlock[ref.block] {
					if cand.Key == *ref.key {
						targets = append(targets, cand)
					}
				}
				if len(targets) == 0 {
					r := ref.rng
					d.errorf(&r, "Reference to undeclared vm instance",
						"depends_on refers to vm.%s[%q], but vm.%s has no instance with that key.", ref.block, *ref.key, ref.block)
					continue
				}
			}
			for _, t := range targets {
				if t == vm {
					r := ref.rng
					d.errorf(&r, "Self-referential depends_on", "%s cannot depend on itself.", vm.Address)
					continue
				}
				if !seen[t.Address] {
					seen[t.Address] = true
					vm.DependsOn = append(vm.DependsOn, t.Address)
					deps[vm.Address] = append(deps[vm.Address], t.Address)
					if _, ok := firstRange[vm.Address]; !ok {
						firstRange[vm.Address] = ref.rng
					}
				}
			}
		}
		sort.Strings(vm.DependsOn)
	}
	nodes := make([]string, 0, len(d.rb.VMs))
	for _, vm := range d.rb.VMs {
		nodes = append(nodes, vm.Address)
	}
	_, cycles := topoOrder(nodes, deps)
	for _, c := range cycles {
		r := firstRange[c[0]]
		d.errorf(&r, "Cycle in depends_on",
			"These VMs wait for each other, so none could ever start: %s.", formatCycle("", c))
	}
}

// checkTargetNames refuses two VMs that would land under the same Azure VM
// name in the same resource group: Azure names are case-insensitive.
func (d *decoder) checkTargetNames() {
	seen := map[string]*VM{}
	for _, vm := range d.rb.VMs {
		if vm.Target.Name == "" {
			continue
		}
		key := strings.ToLower(vm.Target.ResourceGroup + "/" + vm.Target.Name)
		if prev, ok := seen[key]; ok {
			r := vm.DeclRange
			detail := fmt.Sprintf("%s and %s both land as Azure VM %q in resource group %q.",
				prev.Address, vm.Address, vm.Target.Name, vm.Target.ResourceGroup)
			if vm.Sensitive.Has("target.name") || prev.Sensitive.Has("target.name") {
				detail = fmt.Sprintf("%s and %s both land under the same Azure VM name.", prev.Address, vm.Address)
			}
			d.errorf(&r, "Duplicate target VM name", "%s", detail)
			continue
		}
		seen[key] = vm
	}
}
