package schema

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// sensitiveMark is the cty mark carried by values from env() and from
// variables declared sensitive.
const sensitiveMark = "sensitive"

// attrs evaluates the attributes of one block against an evaluation context,
// converting each to the Go type its field needs. It collects diagnostics
// instead of stopping, and records which attributes were sensitive.
type attrs struct {
	ctx    *hcl.EvalContext
	body   hcl.Attributes
	prefix string // attribute path prefix, such as "target."
	sens   *Attrs
	diags  hcl.Diagnostics
}

func newAttrs(ctx *hcl.EvalContext, body hcl.Attributes, prefix string, sens *Attrs) *attrs {
	return &attrs{ctx: ctx, body: body, prefix: prefix, sens: sens}
}

// has reports whether the attribute is set at all.
func (a *attrs) has(name string) bool { _, ok := a.body[name]; return ok }

// rng is the attribute's expression range, or nil when unset.
func (a *attrs) rng(name string) *hcl.Range {
	if at, ok := a.body[name]; ok {
		r := at.Expr.Range()
		return &r
	}
	return nil
}

// sensitive reports whether the attribute's value was sensitive.
func (a *attrs) sensitive(name string) bool {
	return a.sens != nil && a.sens.Has(a.prefix+name)
}

// value evaluates and converts an attribute. ok is false when the attribute
// is unset, null or invalid (a diagnostic says which).
func (a *attrs) value(name string, ty cty.Type) (cty.Value, bool) {
	at, ok := a.body[name]
	if !ok {
		return cty.NilVal, false
	}
	v, diags := at.Expr.Value(a.ctx)
	a.diags = append(a.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	v, marks := v.UnmarkDeep()
	if _, ok := marks[sensitiveMark]; ok && a.sens != nil {
		a.sens.add(a.prefix + name)
	}
	if v.IsNull() {
		return cty.NilVal, false
	}
	if !v.IsWhollyKnown() {
		// Only a variable or local that already failed is unknown here;
		// its own diagnostic says why.
		return cty.NilVal, false
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		a.diags = append(a.diags, &hcl.Diagnostic{
			Severity:    hcl.DiagError,
			Summary:     "Incorrect attribute value type",
			Detail:      fmt.Sprintf("Inappropriate value for attribute %q: %s.", name, err.Error()),
			Subject:     a.rng(name),
			Expression:  at.Expr,
			EvalContext: a.ctx,
		})
		return cty.NilVal, false
	}
	return cv, true
}

func (a *attrs) str(name string, dst *string) bool {
	v, ok := a.value(name, cty.String)
	if ok {
		*dst = v.AsString()
	}
	return ok
}

// nonEmpty decodes a string that, once set, must not be empty.
func (a *attrs) nonEmpty(name string, dst *string) bool {
	if !a.str(name, dst) {
		return false
	}
	if strings.TrimSpace(*dst) == "" {
		a.errorf(name, "Empty value", "The attribute %q must not be empty.", name)
		return false
	}
	return true
}

func (a *attrs) secret(name string, dst *Secret) {
	var s string
	if a.str(name, &s) {
		*dst = NewSecret(s)
	}
}

// positive decodes a number that must be above zero.
func (a *attrs) positive(name string, dst *float64) {
	v, ok := a.value(name, cty.Number)
	if !ok {
		return
	}
	f, _ := v.AsBigFloat().Float64()
	if f <= 0 {
		a.errorf(name, "Invalid value", "The attribute %q must be a number above zero.", name)
		return
	}
	*dst = f
}

func (a *attrs) boolean(name string, dst *bool) {
	v, ok := a.value(name, cty.Bool)
	if ok {
		*dst = v.True()
	}
}

func (a *attrs) boolPtr(name string, dst **bool) {
	v, ok := a.value(name, cty.Bool)
	if ok {
		b := v.True()
		*dst = &b
	}
}

func (a *attrs) strList(name string, dst *[]string) {
	v, ok := a.value(name, cty.List(cty.String))
	if !ok {
		return
	}
	out := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			a.errorf(name, "Null list element", "The list %q must not hold null elements.", name)
			return
		}
		out = append(out, e.AsString())
	}
	*dst = out
}

func (a *attrs) strMap(name string, dst *map[string]string) {
	v, ok := a.value(name, cty.Map(cty.String))
	if !ok {
		return
	}
	out := make(map[string]string, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if e.IsNull() {
			a.errorf(name, "Null map element", "The map %q must not hold null values.", name)
			return
		}
		out[k.AsString()] = e.AsString()
	}
	*dst = out
}

// enum decodes a string that must be one of allowed.
func (a *attrs) enum(name string, dst *string, allowed ...string) {
	var s string
	if !a.str(name, &s) {
		return
	}
	for _, v := range allowed {
		if s == v {
			*dst = s
			return
		}
	}
	a.errorf(name, "Invalid value for "+name,
		"%s is not one of the accepted values: %s.", a.show(name, s), strings.Join(allowed, ", "))
}

// show quotes a value for a message, or hides it when it was sensitive.
func (a *attrs) show(name, value string) string {
	if a.sensitive(name) {
		return "The given value (sensitive)"
	}
	// A hostile value may be megabytes long: show its start and size.
	if len(value) > 80 {
		return fmt.Sprintf("%q… (%d bytes)", strings.ToValidUTF8(value[:64], ""), len(value))
	}
	return fmt.Sprintf("%q", value)
}

// check runs fn on a decoded value and reports its complaint at the
// attribute.
func (a *attrs) check(name, value, summary string, fn func(string) string) {
	if value == "" || !a.has(name) {
		return
	}
	if why := fn(value); why != "" {
		a.errorf(name, summary, "%s %s", a.show(name, value), why)
	}
}

func (a *attrs) errorf(name, summary, format string, args ...any) {
	a.diags = append(a.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  a.rng(name),
	})
}

// exclusive reports an error when more than one of names is set.
func (a *attrs) exclusive(block hcl.Range, names ...string) {
	var set []string
	for _, n := range names {
		if a.has(n) {
			set = append(set, n)
		}
	}
	if len(set) > 1 {
		a.diags = append(a.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Conflicting attributes",
			Detail:   fmt.Sprintf("Only one of %s may be set; this block sets %s.", strings.Join(names, ", "), strings.Join(set, " and ")),
			Subject:  a.rng(set[1]),
			Context:  &block,
		})
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
