package schema

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var vmSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "for_each"}, {Name: "count"}, {Name: "depends_on"}, {Name: "stage"}, {Name: "window"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "source"}, {Type: "target"}, {Type: "replication"}, {Type: "rehearsal"},
	},
}

// instance is one expansion of a vm block, before its body is decoded.
type instance struct {
	address string
	key     string
	each    cty.Value // each object, or count object, or NilVal
	eachVar string    // "each" or "count"
}

func (d *decoder) decodeVMs() {
	for _, b := range d.blocks["vm"] {
		content, diags := b.Body.Content(vmSchema)
		d.add(diags)
		if diags.HasErrors() {
			continue
		}
		for _, inst := range d.expand(b, content) {
			ctx := d.ctx
			if inst.eachVar != "" {
				ctx = d.ctx.NewChild()
				ctx.Variables = map[string]cty.Value{inst.eachVar: inst.each}
			}
			vm := d.decodeVM(b, content, inst, ctx)
			d.rb.VMs = append(d.rb.VMs, vm)
		}
	}
	d.checkTargetNames()
}

// expand evaluates for_each or count and returns the block's instances.
func (d *decoder) expand(b *hcl.Block, content *hcl.BodyContent) []instance {
	name := b.Labels[0]
	forEach, hasForEach := content.Attributes["for_each"]
	count, hasCount := content.Attributes["count"]
	switch {
	case hasForEach && hasCount:
		r := count.NameRange
		d.errorf(&r, "Conflicting attributes", "A vm block may use for_each or count, not both.")
		return nil
	case hasForEach:
		return d.expandForEach(name, forEach)
	case hasCount:
		return d.expandCount(name, count)
	}
	return []instance{{address: "vm." + name}}
}

func (d *decoder) expandForEach(name string, at *hcl.Attribute) []instance {
	v, diags := at.Expr.Value(d.ctx)
	d.add(diags)
	if diags.HasErrors() {
		return nil
	}
	r := at.Expr.Range()
	if v.IsMarked() {
		d.errorf(&r, "Sensitive for_each", "The for_each value is sensitive; its keys would become part of VM addresses shown in every plan.")
		return nil
	}
	if !v.IsWhollyKnown() {
		return nil // a failed variable or local, reported where it failed
	}
	if v.IsNull() {
		d.errorf(&r, "Invalid for_each argument", "The for_each value must not be null.")
		return nil
	}
	ty := v.Type()
	if (ty.IsSetType() || ty.IsMapType() || ty.IsObjectType()) && v.LengthInt() == 0 {
		return nil // toset([]) or {}: no instances, whatever the element type
	}
	var keys []string
	vals := map[string]cty.Value{}
	switch {
	case ty.IsMapType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			keys = append(keys, k.AsString())
			vals[k.AsString()] = e
		}
	case ty.IsSetType() && ty.ElementType() == cty.String:
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() {
				d.errorf(&r, "Invalid for_each argument", "The for_each set must not hold null.")
				return nil
			}
			e, _ = e.Unmark()
			keys = append(keys, e.AsString())
			vals[e.AsString()] = e
		}
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		d.errorf(&r, "Invalid for_each argument",
			"for_each needs a map or a set of strings; this is a %s. For CSV rows use a map keyed by a column, such as { for r in local.rows : r.name => r }, or toset() for a list of names.",
			ty.FriendlyName())
		return nil
	default:
		d.errorf(&r, "Invalid for_each argument",
			"for_each needs a map or a set of strings; this is a %s.", ty.FriendlyName())
		return nil
	}
	sort.Strings(keys)
	for _, k := range keys {
		// A key names the VM in every plan, journal and message; an empty
		// one would quietly fall back to the block label.
		if why := nameProblem(k); why != "" {
			d.errorf(&r, "Invalid for_each key", "The for_each key %q %s; every key becomes part of a VM address.", k, why)
			return nil
		}
	}
	out := make([]instance, 0, len(keys))
	for _, k := range keys {
		out = append(out, instance{
			address: fmt.Sprintf("vm.%s[%q]", name, k),
			key:     k,
			each:    cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(k), "value": vals[k]}),
			eachVar: "each",
		})
	}
	return out
}

func (d *decoder) expandCount(name string, at *hcl.Attribute) []instance {
	v, diags := at.Expr.Value(d.ctx)
	d.add(diags)
	if diags.HasErrors() {
		return nil
	}
	v, _ = v.Unmark()
	r := at.Expr.Range()
	if !v.IsKnown() {
		return nil
	}
	if v.IsNull() || v.Type() != cty.Number {
		d.errorf(&r, "Invalid count argument", "count must be a whole number.")
		return nil
	}
	bf := v.AsBigFloat()
	n, acc := bf.Int64()
	if acc != big.Exact || n < 0 || n > 100000 {
		d.errorf(&r, "Invalid count argument", "count must be a whole number between 0 and 100000.")
		return nil
	}
	out := make([]instance, 0, n)
	for i := int64(0); i < n; i++ {
		out = append(out, instance{
			address: fmt.Sprintf("vm.%s[%d]", name, i),
			key:     strconv.FormatInt(i, 10),
			each:    cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(i)}),
			eachVar: "count",
		})
	}
	return out
}

func (d *decoder) decodeVM(b *hcl.Block, content *hcl.BodyContent, inst instance, ctx *hcl.EvalContext) *VM {
	vm := &VM{Address: inst.address, Block: b.Labels[0], Key: inst.key, Stage: StageReplicating, DeclRange: b.DefRange}
	a := newAttrs(ctx, content.Attributes, "", &vm.Sensitive)
	var stage string
	a.enum("stage", &stage, stageNames()...)
	if stage != "" {
		vm.Stage = Stage(stage)
	}
	d.ref(a, "window", "window", &vm.Window)
	if _, set := content.Attributes["window"]; set && vm.Window == "" {
		// The window is named but wrong: its error says so; warning that
		// the VM "names no window" would contradict it.
		d.reported[vm.Address+".window"] = true
	}
	d.add(a.diags)
	if at, ok := content.Attributes["depends_on"]; ok {
		d.dependsOn[vm] = d.decodeDependsOn(at)
	}

	nested := map[string]*hcl.Block{}
	for _, nb := range content.Blocks {
		if prev, ok := nested[nb.Type]; ok {
			d.errorf(&nb.DefRange, "Duplicate "+nb.Type+" block",
				"A vm may have one %s block; another was declared at %s.", nb.Type, prev.DefRange)
			continue
		}
		nested[nb.Type] = nb
	}

	defaultName := inst.key
	if defaultName == "" || inst.eachVar == "count" {
		defaultName = b.Labels[0]
		if inst.eachVar == "count" {
			defaultName = fmt.Sprintf("%s-%s", b.Labels[0], inst.key)
		}
	}
	d.decodeSource(nested["source"], ctx, vm, defaultName)
	d.decodeTarget(nested["target"], ctx, vm)
	d.decodeReplication(nested["replication"], ctx, vm)
	d.decodeRehearsal(nested["rehearsal"], ctx, vm)
	d.applyDefaults(vm)
	d.checkVM(vm, b)
	return vm
}

func stageNames() []string {
	out := make([]string, len(Stages))
	for i, s := range Stages {
		out[i] = string(s)
	}
	return out
}

// checkVM validates what needs the whole vm, defaults merged.
func (d *decoder) checkVM(vm *VM, b *hcl.Block) {
	rng := b.DefRange
	if vm.Target.Azure == "" {
		if len(d.blocks["azure"]) == 0 {
			d.errorf(&rng, "No azure declared", "%s needs a target vault, but the runbook declares no azure block.", vm.Address)
		} else {
			d.errorf(&rng, "Missing target azure",
				"%s must say which azure block it replicates through: the runbook declares several (set azure = azure.NAME in its target block or in defaults).%s",
				vm.Address, d.declaredList("azure"))
		}
	}
	if vm.Target.ResourceGroup == "" {
		d.errorf(&rng, "Missing target resource group",
			"%s has no target resource_group; set it in its target block or in defaults.", vm.Address)
	}
	if vm.Replication.Policy == "" {
		d.errorf(&rng, "Missing replication policy",
			"%s has no replication policy; set it in its replication block or in defaults.", vm.Address)
	}
	if vm.Stage != StageReplicating && (vm.Target.Network == "" || vm.Target.Subnet == "") {
		d.errorf(&rng, "Missing target network",
			"%s asks for stage %q, which fails over into a network: set target network and subnet (here or in defaults).", vm.Address, vm.Stage)
	}
	d.checkTestNetwork(vm, rng)
	for _, n := range vm.Target.NICs {
		if n.Primary == nil || !*n.Primary {
			continue
		}
		for _, pair := range [][3]string{{"subnet", vm.Target.Subnet, n.Subnet}, {"test_subnet", vm.Target.TestSubnet, n.TestSubnet}} {
			if pair[1] != "" && pair[2] != "" && !strings.EqualFold(lastSegment(pair[1]), lastSegment(pair[2])) {
				rng := n.DeclRange
				d.errorf(&rng, "Conflicting primary NIC subnet",
					"%s: target.%s is %q but its primary nic block sets %s %q. target.%s is the primary NIC's; set it in one place.",
					vm.Address, pair[0], pair[1], pair[0], pair[2], pair[0])
			}
		}
	}
	if (vm.Stage == StageMigrated || vm.Stage == StageCompleted) && vm.Window == "" && !d.reported[vm.Address+".window"] {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Disruptive stage without a window",
			Detail: fmt.Sprintf("%s asks for stage %q, which shuts the source down and fails over, but names no window: those steps may run whenever apply runs.",
				vm.Address, vm.Stage),
			Subject: &rng,
		})
	}
	if vm.Target.Zone != "" && vm.Target.AvailabilitySet != "" && !d.reported[vm.Address+".zone"] {
		d.errorf(&rng, "Zone and availability set",
			"%s sets both zone %q and availability_set; an Azure VM can be in a zone or an availability set, not both.", vm.Address, vm.Target.Zone)
	}
}

// checkTestNetwork refuses a stage that runs a test failover without an
// isolated network to run it in: a test VM in the production network boots
// beside the running source with its IP address, host name and domain
// identity.
func (d *decoder) checkTestNetwork(vm *VM, rng hcl.Range) {
	t := vm.Target
	if vm.Stage == StageReplicating {
		return
	}
	if t.TestNetwork == "" {
		d.errorf(&rng, "Missing test network",
			"%s asks for stage %q, which runs a test failover first: set target test_network (and test_subnet), here or in defaults, to a network isolated from production. Without one the test VM would boot beside the running source with its address and identity.",
			vm.Address, vm.Stage)
		return
	}
	if t.Network != "" && SameNetwork(t.ResourceGroup, t.TestNetwork, t.Network) && !t.AllowTestInProduction {
		d.errorf(&rng, "Test network is the production network",
			"%s: target test_network %s is the production network %s, so the test VM would boot beside the running source with its address and identity. Name an isolated network, or set allow_test_in_production = true in its target block (or defaults) to accept that.",
			vm.Address, shownAttr(vm, "target.test_network", t.TestNetwork), shownAttr(vm, "target.network", t.Network))
	}
}

// SameNetwork compares two virtual networks given as names or ARM IDs. A
// bare name lives in the target resource group (rg, itself a name or an
// ID), as the executor resolves it.
func SameNetwork(rg, a, b string) bool {
	aID, bID := strings.HasPrefix(a, "/"), strings.HasPrefix(b, "/")
	if aID == bID {
		return strings.EqualFold(strings.TrimSuffix(a, "/"), strings.TrimSuffix(b, "/"))
	}
	name, id := a, strings.TrimSuffix(b, "/")
	if aID {
		name, id = b, strings.TrimSuffix(a, "/")
	}
	parts := strings.Split(id, "/")
	if len(parts) < 9 || !strings.EqualFold(parts[len(parts)-1], name) {
		return false
	}
	// /subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/NAME
	return strings.EqualFold(parts[4], lastSegment(rg))
}

// shownAttr quotes a value for a message, or says (sensitive).
func shownAttr(vm *VM, path, v string) string {
	if vm.Sensitive.Has(path) {
		return "(sensitive)"
	}
	return fmt.Sprintf("%q", v)
}

// lastSegment is an Azure name, or the last segment of an ARM ID.
func lastSegment(s string) string { return s[strings.LastIndex(s, "/")+1:] }
