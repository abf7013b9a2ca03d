package schema

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"cutover/internal/userfile"
)

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	},
}

// EnvVarPrefix prefixes environment variables that set runbook variables:
// CUTOVER_VAR_wave=3 sets var.wave.
const EnvVarPrefix = "CUTOVER_VAR_"

type variableDecl struct {
	v           *Variable
	validations []*hcl.Block
}

// decodeVariables reads variable blocks and gives each its value: default,
// then CUTOVER_VAR_<name>, then var files, then --var, later ones winning.
func (d *decoder) decodeVariables() {
	byName := map[string]*variableDecl{}
	var decls []*variableDecl
	// Variable blocks see no variables and no functions but type
	// constructors: their values must not depend on anything else.
	static := &hcl.EvalContext{}
	for _, b := range d.blocks["variable"] {
		content, diags := b.Body.Content(variableSchema)
		d.add(diags)
		v := &Variable{Name: b.Labels[0], Type: cty.DynamicPseudoType, DeclRange: b.DefRange}
		a := newAttrs(static, content.Attributes, "", nil)
		if at, ok := content.Attributes["type"]; ok {
			ty, diags := typeexpr.TypeConstraint(at.Expr)
			d.add(diags)
			if !diags.HasErrors() {
				v.Type = ty
			}
		}
		a.str("description", &v.Description)
		a.boolean("sensitive", &v.Sensitive)
		if at, ok := content.Attributes["default"]; ok {
			val, diags := at.Expr.Value(static)
			d.add(diags)
			if !diags.HasErrors() {
				cv, err := convert.Convert(val, v.Type)
				if err != nil {
					r := at.Expr.Range()
					d.errorf(&r, "Invalid default value for variable",
						"This default value is not compatible with the variable's type constraint: %s.", err)
					// Reported; an unknown value keeps later uses quiet.
					v.Value, v.Source = cty.UnknownVal(v.Type), "default"
				} else {
					v.Default = cv
					v.Value, v.Source = cv, "default"
				}
			}
		}
		d.add(a.diags)
		decl := &variableDecl{v: v, validations: content.Blocks}
		byName[v.Name] = decl
		decls = append(decls, decl)
		d.rb.Variables = append(d.rb.Variables, v)
	}

	for _, decl := range decls {
		if raw, ok := d.opts.lookupEnv(EnvVarPrefix + decl.v.Name); ok {
			d.assignRaw(decl.v, raw, "env", nil)
		}
	}
	for _, file := range d.opts.VarFiles {
		d.loadVarFile(file, byName)
	}
	for _, kv := range d.opts.Vars {
		name, raw, ok := strings.Cut(kv, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			d.errorf(nil, "Invalid --var option",
				"The option --var %q is not of the form NAME=VALUE.", redactAssignment(kv))
			continue
		}
		decl, ok := byName[name]
		if !ok {
			d.errorf(nil, "Value for undeclared variable",
				"A --var option sets %q, but the runbook declares no such variable.", name)
			continue
		}
		d.assignRaw(decl.v, raw, "cli", nil)
	}

	for _, decl := range decls {
		v := decl.v
		if v.Value == cty.NilVal {
			d.errorf(&v.DeclRange, "No value for required variable",
				"The variable %q has no default. Set it with --var %s=..., --var-file, or %s%s.",
				v.Name, v.Name, EnvVarPrefix, v.Name)
			v.Value = cty.UnknownVal(v.Type)
			continue
		}
		if v.Value.IsWhollyKnown() {
			d.runValidations(decl)
		}
	}
}

// redactAssignment keeps only the name of a malformed NAME=VALUE, since the
// value may be a secret.
func redactAssignment(kv string) string {
	if name, _, ok := strings.Cut(kv, "="); ok {
		return name + "=..."
	}
	if len(kv) > 3 {
		return kv[:3] + "..."
	}
	return "..."
}

// assignRaw sets a variable from a string given on the command line or in
// the environment. For primitive and untyped variables the string is the
// value; for collections it is parsed as an HCL expression, as Terraform does.
func (d *decoder) assignRaw(v *Variable, raw, source string, rng *hcl.Range) {
	var val cty.Value
	if v.Type.IsPrimitiveType() || v.Type == cty.DynamicPseudoType {
		val = cty.StringVal(raw)
	} else {
		if nestingError(source, []byte(raw)) != nil {
			d.errorf(rng, "Invalid value for variable",
				"The value given for %q (from %s) nests more than %d levels deep.", v.Name, source, MaxNesting)
			return
		}
		expr, diags := hclsyntax.ParseExpression([]byte(raw), source, hcl.Pos{Line: 1, Column: 1})
		if diags.HasErrors() {
			d.errorf(rng, "Invalid value for variable",
				"The value given for %q (from %s) is not a valid expression for type %s.",
				v.Name, source, v.Type.FriendlyName())
			return
		} else {
			var ediags hcl.Diagnostics
			val, ediags = expr.Value(nil)
			if ediags.HasErrors() {
				d.errorf(rng, "Invalid value for variable",
					"The value given for %q (from %s) must be a constant.", v.Name, source)
				return
			}
		}
	}
	d.assign(v, val, source, rng)
}

func (d *decoder) assign(v *Variable, val cty.Value, source string, rng *hcl.Range) {
	cv, err := convert.Convert(val, v.Type)
	if err != nil {
		d.errorf(rng, "Invalid value for variable",
			"The value given for %q (from %s) is not compatible with its type %s: %s.",
			v.Name, source, v.Type.FriendlyName(), err)
		return
	}
	v.Value, v.Source = cv, source
}

// loadVarFile reads NAME = value assignments from an HCL or JSON file.
func (d *decoder) loadVarFile(path string, byName map[string]*variableDecl) {
	src, err := userfile.Read(path, userfile.MaxSource)
	if err != nil {
		d.errorf(nil, "Cannot read variables file", "%s", err)
		return
	}
	if nd := nestingError(path, src); nd != nil {
		d.add(hcl.Diagnostics{nd})
		return
	}
	var f *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(path, ".json") {
		f, diags = parseJSON(src, path)
	} else {
		f, diags = hclsyntax.ParseConfig(src, path, hcl.Pos{Line: 1, Column: 1})
	}
	d.add(diags)
	if diags.HasErrors() {
		return
	}
	attrs, diags := f.Body.JustAttributes()
	d.add(diags)
	for _, name := range sortedKeys(attrs) {
		at := attrs[name]
		decl, ok := byName[name]
		if !ok {
			d.errorf(&at.NameRange, "Value for undeclared variable",
				"The file sets %q, but the runbook declares no such variable.", name)
			continue
		}
		val, diags := at.Expr.Value(nil)
		d.add(diags)
		if diags.HasErrors() {
			continue
		}
		r := at.Expr.Range()
		d.assign(decl.v, val, path, &r)
	}
}

// runValidations evaluates a variable's validation blocks: each condition
// sees only that variable.
func (d *decoder) runValidations(decl *variableDecl) {
	v := decl.v
	val := v.Value
	if v.Sensitive {
		val = val.Mark(sensitiveMark)
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{v.Name: val})},
		Functions: Functions(d.dir, FunctionOptions{NoFileAccess: true, LookupEnv: d.opts.lookupEnv}),
	}
	for _, b := range decl.validations {
		content, diags := b.Body.Content(validationSchema)
		d.add(diags)
		if diags.HasErrors() {
			continue
		}
		cond := content.Attributes["condition"]
		if !refersOnlyTo(cond.Expr, v.Name) {
			r := cond.Expr.Range()
			d.errorf(&r, "Invalid variable validation condition",
				"The condition for variable %q may refer only to var.%s.", v.Name, v.Name)
			continue
		}
		res, diags := cond.Expr.Value(ctx)
		d.add(diags)
		if diags.HasErrors() {
			continue
		}
		res, _ = res.Unmark()
		if !res.IsKnown() {
			continue
		}
		if res.IsNull() || !res.Type().Equals(cty.Bool) {
			r := cond.Expr.Range()
			d.errorf(&r, "Invalid validation result", "The condition must return true or false.")
			continue
		}
		if res.True() {
			continue
		}
		msgVal, diags := content.Attributes["error_message"].Expr.Value(ctx)
		d.add(diags)
		msg := "The value is not valid."
		if !diags.HasErrors() {
			if mv, marks := msgVal.Unmark(); len(marks) == 0 && mv.Type() == cty.String && !mv.IsNull() {
				msg = mv.AsString()
			}
		}
		d.errorf(&v.DeclRange, "Invalid value for variable",
			"%s\n\nThis was checked by the validation rule at %s.", msg, cond.Expr.Range())
	}
}

func refersOnlyTo(expr hcl.Expression, name string) bool {
	for _, tr := range expr.Variables() {
		if tr.RootName() != "var" || len(tr) < 2 {
			return false
		}
		if step, ok := tr[1].(hcl.TraverseAttr); !ok || step.Name != name {
			return false
		}
	}
	return true
}
