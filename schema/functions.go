package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	ctyyaml "github.com/zclconf/go-cty-yaml"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"cutover/internal/userfile"
)

// FunctionOptions gate what the runbook functions may touch.
type FunctionOptions struct {
	// NoFileAccess makes file, fileexists and templatefile fail.
	NoFileAccess bool
	// LookupEnv backs env(); nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// Functions returns the functions a runbook may call: the go-cty standard
// library under the names Terraform users know, plus file, fileexists,
// templatefile, csvdecode, jsondecode, yamldecode and env. File paths are
// relative to baseDir.
func Functions(baseDir string, opts FunctionOptions) map[string]function.Function {
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	fns := map[string]function.Function{
		"abs":             stdlib.AbsoluteFunc,
		"ceil":            stdlib.CeilFunc,
		"chomp":           stdlib.ChompFunc,
		"chunklist":       stdlib.ChunklistFunc,
		"coalesce":        stdlib.CoalesceFunc,
		"coalescelist":    stdlib.CoalesceListFunc,
		"compact":         stdlib.CompactFunc,
		"concat":          stdlib.ConcatFunc,
		"contains":        stdlib.ContainsFunc,
		"csvdecode":       stdlib.CSVDecodeFunc,
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"flatten":         stdlib.FlattenFunc,
		"floor":           stdlib.FloorFunc,
		"format":          stdlib.FormatFunc,
		"formatdate":      stdlib.FormatDateFunc,
		"formatlist":      stdlib.FormatListFunc,
		"indent":          stdlib.IndentFunc,
		"index":           stdlib.IndexFunc,
		"join":            stdlib.JoinFunc,
		"jsondecode":      stdlib.JSONDecodeFunc,
		"jsonencode":      stdlib.JSONEncodeFunc,
		"keys":            stdlib.KeysFunc,
		"length":          stdlib.LengthFunc,
		"log":             stdlib.LogFunc,
		"lookup":          stdlib.LookupFunc,
		"lower":           stdlib.LowerFunc,
		"max":             stdlib.MaxFunc,
		"merge":           stdlib.MergeFunc,
		"min":             stdlib.MinFunc,
		"parseint":        stdlib.ParseIntFunc,
		"pow":             boundedPow(stdlib.PowFunc),
		"range":           stdlib.RangeFunc,
		"regex":           stdlib.RegexFunc,
		"regexall":        stdlib.RegexAllFunc,
		"regex_replace":   stdlib.RegexReplaceFunc,
		"replace":         stdlib.ReplaceFunc,
		"reverse":         stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setproduct":      boundedProduct(stdlib.SetProductFunc),
		"setsubtract":     stdlib.SetSubtractFunc,
		"setunion":        stdlib.SetUnionFunc,
		"signum":          stdlib.SignumFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"split":           stdlib.SplitFunc,
		"strrev":          stdlib.ReverseFunc,
		"substr":          stdlib.SubstrFunc,
		"timeadd":         stdlib.TimeAddFunc,
		"title":           stdlib.TitleFunc,
		"tobool":          stdlib.MakeToFunc(cty.Bool),
		"tolist":          stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":           stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber":        stdlib.MakeToFunc(cty.Number),
		"toset":           stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring":        stdlib.MakeToFunc(cty.String),
		"trim":            stdlib.TrimFunc,
		"trimprefix":      stdlib.TrimPrefixFunc,
		"trimspace":       stdlib.TrimSpaceFunc,
		"trimsuffix":      stdlib.TrimSuffixFunc,
		"upper":           stdlib.UpperFunc,
		"values":          stdlib.ValuesFunc,
		"yamldecode":      ctyyaml.YAMLDecodeFunc,
		"yamlencode":      ctyyaml.YAMLEncodeFunc,
		"zipmap":          stdlib.ZipmapFunc,
		"env":             envFunc(lookup),
		"startswith":      stringPredicate("startswith", strings.HasPrefix),
		"endswith":        stringPredicate("endswith", strings.HasSuffix),
		"strcontains":     stringPredicate("strcontains", strings.Contains),
		"try":             tryfunc.TryFunc,
		"can":             tryfunc.CanFunc,
	}
	files := &fileAccess{base: baseDir, disabled: opts.NoFileAccess}
	fns["file"] = files.fileFunc()
	fns["fileexists"] = files.existsFunc()
	for _, n := range []string{"jsondecode", "yamldecode"} {
		fns[n] = boundedDecode(n, fns[n])
	}
	// templatefile's templates may call every other function but itself.
	fns["templatefile"] = files.templateFunc(fns)
	return fns
}

// envFunc reads an environment variable; a second argument is the default
// when it is unset. The result is always sensitive: environment variables
// are where credentials live.
func envFunc(lookup func(string) (string, bool)) function.Function {
	return function.New(&function.Spec{
		Description: "Reads an environment variable. The result is sensitive.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam:    &function.Parameter{Name: "default", Type: cty.String},
		Type:        function.StaticReturnType(cty.String),
		RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder {
			return b.NotNull()
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(args) > 2 {
				return cty.NilVal, function.NewArgErrorf(2, "env takes a name and at most one default")
			}
			if v, ok := lookup(args[0].AsString()); ok {
				return cty.StringVal(v).Mark(sensitiveMark), nil
			}
			if len(args) == 2 {
				return args[1].Mark(sensitiveMark), nil
			}
			return cty.StringVal("").Mark(sensitiveMark), nil
		},
	})
}

type fileAccess struct {
	base     string
	disabled bool
}

func (f *fileAccess) resolve(p string) (string, error) {
	if f.disabled {
		return "", fmt.Errorf("file access is disabled in this run")
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(f.base, p)
	}
	return filepath.Clean(p), nil
}

func (f *fileAccess) read(p string) (string, error) {
	full, err := f.resolve(p)
	if err != nil {
		return "", err
	}
	b, err := userfile.Read(full, userfile.MaxSource)
	if err != nil {
		if os.IsNotExist(err) {
			return "", fmt.Errorf("no file %q (paths are relative to the runbook directory)", p)
		}
		return "", fmt.Errorf("cannot read %q: %v", p, err)
	}
	return string(b), nil
}

func (f *fileAccess) fileFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Reads a file relative to the runbook directory.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			s, err := f.read(args[0].AsString())
			if err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			return cty.StringVal(s), nil
		},
	})
}

func (f *fileAccess) existsFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Reports whether a file exists relative to the runbook directory.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			full, err := f.resolve(args[0].AsString())
			if err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			st, err := os.Stat(full)
			return cty.BoolVal(err == nil && st.Mode().IsRegular()), nil
		},
	})
}

func (f *fileAccess) templateFunc(others map[string]function.Function) function.Function {
	return function.New(&function.Spec{
		Description: "Renders a template file with the given variables.",
		Params: []function.Parameter{
			{Name: "path", Type: cty.String},
			{Name: "vars", Type: cty.DynamicPseudoType},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			src, err := f.read(name)
			if err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			vars := args[1]
			if !vars.Type().IsObjectType() && !vars.Type().IsMapType() {
				return cty.NilVal, function.NewArgErrorf(1, "the template variables must be an object or a map")
			}
			if d := templateNestingError(name, []byte(src)); d != nil {
				return cty.NilVal, function.NewArgErrorf(0, "template %s: %s at line %d: %s", name, d.Summary, d.Subject.Start.Line, d.Detail)
			}
			tmpl, diags := hclsyntax.ParseTemplate([]byte(src), name, hcl.Pos{Line: 1, Column: 1})
			if diags.HasErrors() {
				return cty.NilVal, function.NewArgErrorf(0, "template %s: %s", name, diags.Error())
			}
			fns := make(map[string]function.Function, len(others))
			for k, v := range others {
				if k != "templatefile" {
					fns[k] = v
				}
			}
			m := map[string]cty.Value{}
			for it := vars.ElementIterator(); it.Next(); {
				k, v := it.Element()
				m[k.AsString()] = v
			}
			out, diags := tmpl.Value(&hcl.EvalContext{Variables: m, Functions: fns})
			if diags.HasErrors() {
				return cty.NilVal, function.NewArgErrorf(0, "template %s: %s", name, strings.TrimSpace(diags.Error()))
			}
			out, err = convertString(out)
			if err != nil {
				return cty.NilVal, function.NewArgErrorf(0, "template %s: %v", name, err)
			}
			return out, nil
		},
	})
}

func convertString(v cty.Value) (cty.Value, error) {
	if v.Type() == cty.String {
		return v, nil
	}
	return cty.NilVal, fmt.Errorf("the template produced a %s, not a string", v.Type().FriendlyName())
}

// stringPredicate makes startswith, endswith and strcontains, which
// Terraform users expect beside the go-cty standard library.
func stringPredicate(name string, fn func(s, part string) bool) function.Function {
	return function.New(&function.Spec{
		Description: name + " tests a string against another.",
		Params:      []function.Parameter{{Name: "str", Type: cty.String}, {Name: "part", Type: cty.String}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(fn(args[0].AsString(), args[1].AsString())), nil
		},
	})
}
