package schema

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "runbook"},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "vcenter", LabelNames: []string{"name"}},
		{Type: "azure", LabelNames: []string{"name"}},
		{Type: "window", LabelNames: []string{"name"}},
		{Type: "defaults"},
		{Type: "state"},
		{Type: "vm", LabelNames: []string{"name"}},
	},
}

// decoder carries one decoding run: the structure read in the first pass
// and the diagnostics of both.
type decoder struct {
	opts *Options
	rb   *Runbook
	dir  string

	blocks map[string][]*hcl.Block
	locals map[string]*hcl.Attribute
	ctx    *hcl.EvalContext

	diags hcl.Diagnostics
	// reported marks checks already reported at a more precise range.
	reported map[string]bool
	// dependsOn holds each vm's depends_on references until every vm is
	// expanded and they can be resolved.
	dependsOn map[*VM][]depRef
}

func (d *decoder) add(diags hcl.Diagnostics) { d.diags = append(d.diags, diags...) }

func (d *decoder) errorf(rng *hcl.Range, summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  rng,
	})
}

func (d *decoder) decode(files []*hcl.File) {
	d.structure(files)
	d.decodeVariables()
	d.buildContext()
	d.decodeRunbookBlock()
	d.decodeVCenters()
	d.decodeAzures()
	d.decodeWindows()
	d.decodeDefaults()
	d.decodeState()
	d.decodeVMs()
	d.checkReferences()
}

// structure is the first pass: it reads every file's top-level blocks,
// refuses unknown ones and duplicate names, and keeps expressions for later.
func (d *decoder) structure(files []*hcl.File) {
	d.reported = map[string]bool{}
	d.dependsOn = map[*VM][]depRef{}
	d.blocks = map[string][]*hcl.Block{}
	d.locals = map[string]*hcl.Attribute{}
	seen := map[string]*hcl.Block{}
	for _, f := range files {
		content, diags := f.Body.Content(rootSchema)
		d.add(diags)
		for _, b := range content.Blocks {
			switch b.Type {
			case "locals":
				attrs, diags := b.Body.JustAttributes()
				d.add(diags)
				for name, at := range attrs {
					if prev, ok := d.locals[name]; ok {
						d.errorf(&at.NameRange, "Duplicate local value",
							"A local value named %q was already defined at %s.", name, prev.NameRange)
						continue
					}
					d.locals[name] = at
				}
				continue
			case "runbook", "defaults", "state":
				if prev, ok := seen[b.Type]; ok {
					d.errorf(&b.DefRange, "Duplicate "+b.Type+" block",
						"Only one %s block is allowed; another was declared at %s.", b.Type, prev.DefRange)
					continue
				}
				seen[b.Type] = b
			default:
				key := b.Type + "." + b.Labels[0]
				if !hclIdentifier(b.Labels[0]) {
					d.errorf(&b.LabelRanges[0], "Invalid "+b.Type+" name",
						"%q is not a valid name: use letters, digits, underscores and dashes, starting with a letter or underscore.", b.Labels[0])
					continue
				}
				if prev, ok := seen[key]; ok {
					d.errorf(&b.LabelRanges[0], "Duplicate "+b.Type+" block",
						"A %s named %q was already declared at %s.", b.Type, b.Labels[0], prev.DefRange)
					continue
				}
				seen[key] = b
			}
			d.blocks[b.Type] = append(d.blocks[b.Type], b)
		}
	}
}

// hclIdentifier reports whether s can be used after a dot in a reference.
func hclIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case i > 0 && (r == '-' || r >= '0' && r <= '9'):
		default:
			return false
		}
	}
	return true
}

// buildContext makes the evaluation context shared by every block: var,
// local, references to named blocks and the functions.
func (d *decoder) buildContext() {
	vars := map[string]cty.Value{}
	for _, v := range d.rb.Variables {
		val := v.Value
		if v.Sensitive {
			val = val.Mark(sensitiveMark)
		}
		vars[v.Name] = val
	}
	d.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":     objectOrEmpty(vars),
			"path":    cty.ObjectVal(map[string]cty.Value{"runbook": cty.StringVal(d.dir)}),
			"vcenter": namedRefs(d.blocks["vcenter"]),
			"azure":   namedRefs(d.blocks["azure"]),
			"window":  namedRefs(d.blocks["window"]),
		},
		Functions: Functions(d.dir, FunctionOptions{NoFileAccess: d.opts.NoFileAccess, LookupEnv: d.opts.lookupEnv}),
	}
	d.ctx.Variables["local"] = d.evalLocals()
}

// namedRefs lets `vcenter.dc1` evaluate to an object naming the block, so a
// reference can be static or computed (vcenter[each.value.vc]).
func namedRefs(blocks []*hcl.Block) cty.Value {
	m := map[string]cty.Value{}
	for _, b := range blocks {
		m[b.Labels[0]] = cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(b.Labels[0])})
	}
	return objectOrEmpty(m)
}

func objectOrEmpty(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// ref decodes an attribute that names another block of the given kind:
// either a reference (vcenter.dc1) or a plain string ("dc1").
func (d *decoder) ref(a *attrs, name, kind string, dst *string) {
	at, ok := a.body[name]
	if !ok {
		return
	}
	if tr, diags := hcl.AbsTraversalForExpr(at.Expr); !diags.HasErrors() && tr.RootName() == kind && len(tr) == 2 {
		if step, ok := tr[1].(hcl.TraverseAttr); ok {
			if !d.declared(kind, step.Name) {
				r := at.Expr.Range()
				d.errorf(&r, "Reference to undeclared "+kind,
					"No %s block named %q is declared.%s%s", kind, step.Name, d.didYouMean(kind, step.Name), d.declaredList(kind))
				return
			}
			*dst = step.Name
			return
		}
	}
	v, diags := at.Expr.Value(a.ctx)
	a.diags = append(a.diags, diags...)
	if diags.HasErrors() {
		return
	}
	v, _ = v.UnmarkDeep()
	r := at.Expr.Range()
	switch {
	case v.IsNull():
		return
	case v.Type() == cty.String && v.IsKnown():
		*dst = v.AsString()
	case v.Type().IsObjectType() && v.Type().HasAttribute("name") && v.IsKnown():
		*dst = v.GetAttr("name").AsString()
	default:
		d.errorf(&r, "Invalid reference", "The attribute %q must refer to a %s block, like %s.NAME.", name, kind, kind)
		return
	}
	if !d.declared(kind, *dst) {
		d.errorf(&r, "Reference to undeclared "+kind,
			"No %s block named %q is declared.%s%s", kind, *dst, d.didYouMean(kind, *dst), d.declaredList(kind))
		*dst = ""
	}
}

func (d *decoder) declared(kind, name string) bool {
	for _, b := range d.blocks[kind] {
		if b.Labels[0] == name {
			return true
		}
	}
	return false
}

// didYouMean suggests the declared block a misspelt reference meant.
func (d *decoder) didYouMean(kind, name string) string {
	var names []string
	for _, b := range d.blocks[kind] {
		names = append(names, b.Labels[0])
	}
	if s := Suggest(name, names); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

func (d *decoder) declaredList(kind string) string {
	var names []string
	for _, b := range d.blocks[kind] {
		names = append(names, b.Labels[0])
	}
	if len(names) == 0 {
		return fmt.Sprintf(" The runbook declares no %s blocks.", kind)
	}
	return fmt.Sprintf(" Declared: %s.", strings.Join(names, ", "))
}

// only returns the name of the single block of a kind, so references may
// be left out when there is exactly one.
func (d *decoder) only(kind string) string {
	if len(d.blocks[kind]) == 1 {
		return d.blocks[kind][0].Labels[0]
	}
	return ""
}

var runbookSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "name"}, {Name: "description"}},
}

func (d *decoder) decodeRunbookBlock() {
	for _, b := range d.blocks["runbook"] {
		content, diags := b.Body.Content(runbookSchema)
		d.add(diags)
		a := newAttrs(d.ctx, content.Attributes, "runbook.", nil)
		if a.nonEmpty("name", &d.rb.Name) {
			// Plans, state keys and every message carry the name.
			if p := nameProblem(d.rb.Name); p != "" {
				a.errorf("name", "Invalid runbook name", "The runbook name %s.", p)
			}
		}
		a.str("description", &d.rb.Description)
		d.add(a.diags)
	}
}
