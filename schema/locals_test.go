package schema

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
)

// localsOf decodes src as far as the local values and returns them with
// every diagnostic, each as "line: summary" (detail too for cycles).
func localsOf(t *testing.T, src string) (cty.Value, []string) {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCL([]byte(src), "main.hcl")
	if diags.HasErrors() {
		t.Fatalf("parse: %s", diags.Error())
	}
	d := &decoder{
		opts: &Options{LookupEnv: func(string) (string, bool) { return "", false }},
		rb:   &Runbook{},
		dir:  ".",
	}
	d.structure([]*hcl.File{f})
	d.decodeVariables()
	d.buildContext()
	var got []string
	for _, dg := range d.diags {
		s := fmt.Sprintf("%d: %s", dg.Subject.Start.Line, dg.Summary)
		if strings.HasPrefix(dg.Summary, "Cycle") {
			s += ": " + dg.Detail
		}
		got = append(got, s)
	}
	return d.ctx.Variables["local"], got
}

// TestLocalsEvaluate pins what local values evaluate to and which errors
// they give, at which line: order of declaration does not matter, locals
// see variables, sensitivity follows the value, a cycle, an undeclared
// reference or a use of the whole local object is an error on its line and
// leaves the value unknown.
func TestLocalsEvaluate(t *testing.T) {
	t.Parallel()
	sensitive := func(v cty.Value) cty.Value { return v.Mark(sensitiveMark) }
	for _, tc := range []struct {
		name  string
		src   string
		want  map[string]cty.Value
		diags []string
	}{
		{
			name: "declared after use",
			src:  "locals {\n  c = local.b + 1\n  b = local.a * 2\n  a = 3\n}\n",
			want: map[string]cty.Value{"a": cty.NumberIntVal(3), "b": cty.NumberIntVal(6), "c": cty.NumberIntVal(7)},
		},
		{
			name: "across blocks and one local used twice",
			src:  "locals {\n  x = \"a\"\n}\nlocals {\n  y = \"${local.x}-${local.x}\"\n  z = upper(local.y)\n}\n",
			want: map[string]cty.Value{"x": cty.StringVal("a"), "y": cty.StringVal("a-a"), "z": cty.StringVal("A-A")},
		},
		{
			name: "variables",
			src:  "variable \"n\" {\n  default = 4\n}\nlocals {\n  m = var.n + 1\n  l = [for i in range(local.m) : i if i > var.n - 2]\n}\n",
			want: map[string]cty.Value{
				"m": cty.NumberIntVal(5),
				"l": cty.TupleVal([]cty.Value{cty.NumberIntVal(3), cty.NumberIntVal(4)}),
			},
		},
		{
			name: "sensitive follows the value",
			src:  "variable \"pw\" {\n  default   = \"s\"\n  sensitive = true\n}\nlocals {\n  p = \"${var.pw}-x\"\n  q = local.p\n  r = \"${local.q}!\"\n  s = \"plain\"\n}\n",
			want: map[string]cty.Value{
				"p": sensitive(cty.StringVal("s-x")),
				"q": sensitive(cty.StringVal("s-x")),
				"r": sensitive(cty.StringVal("s-x!")),
				"s": cty.StringVal("plain"),
			},
		},
		{
			name: "the whole local object is refused",
			src:  "locals {\n  a = 1\n  k = keys(local)\n  i = local[\"a\"]\n  f = [for n, v in local : n if v == local.a]\n  m = local.z\n  z = 2\n  u = local.k\n}\n",
			want: map[string]cty.Value{
				"a": cty.NumberIntVal(1),
				"k": cty.DynamicVal,
				"i": cty.DynamicVal,
				"f": cty.DynamicVal,
				"m": cty.NumberIntVal(2),
				"z": cty.NumberIntVal(2),
				"u": cty.DynamicVal,
			},
			diags: []string{"5: Invalid use of local", "4: Invalid use of local", "3: Invalid use of local"},
		},
		{
			name: "cycle",
			src:  "locals {\n  a = local.b\n  b = local.c\n  c = local.a\n  d = 1\n}\n",
			want: map[string]cty.Value{"a": cty.DynamicVal, "b": cty.DynamicVal, "c": cty.DynamicVal, "d": cty.NumberIntVal(1)},
			diags: []string{
				"2: Cycle in local values: Local values refer to each other in a cycle: local.a -> local.b -> local.c -> local.a.",
			},
		},
		{
			name: "self reference",
			src:  "locals {\n  a = local.a + 1\n}\n",
			want: map[string]cty.Value{"a": cty.DynamicVal},
			diags: []string{
				"2: Cycle in local values: Local values refer to each other in a cycle: local.a -> local.a.",
			},
		},
		{
			name: "two cycles and a local that uses one",
			src:  "locals {\n  x = local.y\n  y = local.x\n  p = local.q\n  q = local.p\n  u = local.x\n}\n",
			want: map[string]cty.Value{
				"x": cty.DynamicVal, "y": cty.DynamicVal, "p": cty.DynamicVal, "q": cty.DynamicVal, "u": cty.DynamicVal,
			},
			diags: []string{
				"4: Cycle in local values: Local values refer to each other in a cycle: local.p -> local.q -> local.p.",
				"2: Cycle in local values: Local values refer to each other in a cycle: local.x -> local.y -> local.x.",
				"6: Unsupported attribute",
			},
		},
		{
			name: "cycles that share a local are one error",
			src:  "locals {\n  a = local.b\n  b = local.a + local.c\n  c = local.b\n  d = 1\n}\n",
			want: map[string]cty.Value{"a": cty.DynamicVal, "b": cty.DynamicVal, "c": cty.DynamicVal, "d": cty.NumberIntVal(1)},
			diags: []string{
				"2: Cycle in local values: Local values refer to each other in a cycle: local.a -> local.b -> local.a.",
			},
		},
		{
			name:  "undeclared local",
			src:   "locals {\n  a = 1\n  b = local.nope + local.a\n}\n",
			want:  map[string]cty.Value{"a": cty.NumberIntVal(1), "b": cty.DynamicVal},
			diags: []string{"3: Reference to undeclared local value", "3: Unsupported attribute"},
		},
		{
			name:  "an error leaves the value unknown and quiet downstream",
			src:   "locals {\n  a = 1 + \"x\"\n  b = local.a + 1\n}\n",
			want:  map[string]cty.Value{"a": cty.DynamicVal, "b": cty.UnknownVal(cty.Number).RefineNotNull()},
			diags: []string{"2: Invalid operand"},
		},
		{
			name: "no locals",
			src:  "variable \"n\" {\n  default = 1\n}\n",
			want: map[string]cty.Value{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, diags := localsOf(t, tc.src)
			if strings.Join(diags, "\n") != strings.Join(tc.diags, "\n") {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(diags, "\n"), strings.Join(tc.diags, "\n"))
			}
			if !got.Type().IsObjectType() {
				t.Fatalf("local is %#v, want an object", got)
			}
			if n := len(got.Type().AttributeTypes()); n != len(tc.want) {
				t.Errorf("local has %d attributes, want %d: %#v", n, len(tc.want), got)
			}
			for name, want := range tc.want {
				if !got.Type().HasAttribute(name) {
					t.Errorf("local.%s missing", name)
					continue
				}
				if v := got.GetAttr(name); !v.RawEquals(want) {
					t.Errorf("local.%s = %#v, want %#v", name, v, want)
				}
			}
		})
	}
}

// TestLocalsManyCycles: a chain whose every link also refers back to its
// start holds as many cycles as links; it is reported once, with the
// shortest of them, rather than once per cycle (which listed a number of
// names quadratic in the chain's length).
func TestLocalsManyCycles(t *testing.T) {
	t.Parallel()
	const n = 5000
	var b strings.Builder
	b.WriteString("locals {\n  l0 = local.l1\n")
	for i := 1; i < n-1; i++ {
		fmt.Fprintf(&b, "  l%d = local.l%d + local.l0\n", i, i+1)
	}
	fmt.Fprintf(&b, "  l%d = local.l0\n}\n", n-1)
	got, diags := localsOf(t, b.String())
	want := "2: Cycle in local values: Local values refer to each other in a cycle: local.l0 -> local.l1 -> local.l0."
	if len(diags) != 1 || diags[0] != want {
		t.Fatalf("%d diagnostics, first %q; want one: %s", len(diags), diags[:min(len(diags), 2)], want)
	}
	for _, name := range []string{"l0", "l1", "l2500", fmt.Sprintf("l%d", n-1)} {
		if v := got.GetAttr(name); !v.RawEquals(cty.DynamicVal) {
			t.Errorf("local.%s = %#v, want unknown", name, v)
		}
	}
}
