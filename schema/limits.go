package schema

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"gopkg.in/yaml.v3"
)

// MaxNesting is the deepest bracket nesting ({, [ and ( together) a
// runbook, var-file or decoded JSON value may have. Real runbooks stay
// below ten; the parsers recurse per level, so an unbounded depth is a
// stack overflow waiting for a hostile file.
const MaxNesting = 128

// nestingError returns a diagnostic at the first bracket that opens
// deeper than MaxNesting, or nil. It counts raw bytes, strings included:
// it runs before parsing, and a string holding more than a hundred
// unclosed brackets is no loss. Then it checks the lexer's tokens for what
// recurses without brackets (see tokenDepthError).
func nestingError(filename string, src []byte) *hcl.Diagnostic {
	if d := bracketDepthError(filename, src); d != nil {
		return d
	}
	// Lexing errors are left for the parser to report in full.
	toks, _ := hclsyntax.LexConfig(src, filename, hcl.InitialPos)
	return tokenDepthError(toks)
}

// templateNestingError is nestingError for a template file (templatefile),
// which is lexed as a template, not as configuration.
func templateNestingError(filename string, src []byte) *hcl.Diagnostic {
	if d := bracketDepthError(filename, src); d != nil {
		return d
	}
	toks, _ := hclsyntax.LexTemplate(src, filename, hcl.InitialPos)
	return tokenDepthError(toks)
}

// MaxOperators is the most operators (unary, binary and the conditional's
// "?") one expression may chain without brackets. The parser recurses per
// unary operator and per conditional, and evaluation per binary operator,
// so a runbook of a million "!" overflows the stack without a bracket in
// it; real expressions hold a handful.
const MaxOperators = 512

// MaxTryNesting is how deep try and can calls may nest. Both evaluate
// their arguments once for the result's type and again for its value, so
// the innermost of n nested calls runs 2^n times: sixty never finish.
const MaxTryNesting = 8

// tokenDepthError bounds, from the lexer's tokens (the lexer does not
// recurse), what the parser and evaluator recurse on besides brackets:
// nested templates (quotes, heredocs, ${ and %{ sequences), nested
// %{ if } and %{ for } directives, and chains of operators within one
// item (an item ends at a newline or comma of its bracket level).
func tokenDepthError(toks hclsyntax.Tokens) *hcl.Diagnostic {
	ops := []int{0}        // operators seen in the current item, per open level
	directives := 0        // open %{ if } / %{ for }
	tries := []bool{false} // per open level: opened by try( or can(
	nTries := 0
	tooDeep := func(rng hcl.Range, detail string) *hcl.Diagnostic {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Nesting too deep", Detail: detail, Subject: rng.Ptr()}
	}
	for i, t := range toks {
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl,
			hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc:
			ops = append(ops, 0)
			try := t.Type == hclsyntax.TokenOParen && i > 0 && toks[i-1].Type == hclsyntax.TokenIdent &&
				(string(toks[i-1].Bytes) == "try" || string(toks[i-1].Bytes) == "can")
			tries = append(tries, try)
			if try {
				nTries++
				if nTries > MaxTryNesting {
					return tooDeep(t.Range, fmt.Sprintf("try and can calls nest more than %d deep here; each level evaluates its arguments again, so deeper nesting never finishes.", MaxTryNesting))
				}
			}
			if len(ops)-1+directives > MaxNesting {
				return tooDeep(t.Range, fmt.Sprintf("Brackets, strings and templates nest more than %d levels deep here; no runbook or variables file needs that many.", MaxNesting))
			}
			if t.Type == hclsyntax.TokenTemplateControl && i+1 < len(toks) && toks[i+1].Type == hclsyntax.TokenIdent {
				switch string(toks[i+1].Bytes) {
				case "if", "for":
					directives++
				case "endif", "endfor":
					if directives > 0 {
						directives--
					}
				}
			}
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
			hclsyntax.TokenTemplateSeqEnd, hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc:
			if len(ops) > 1 {
				ops = ops[:len(ops)-1]
				if tries[len(tries)-1] {
					nTries--
				}
				tries = tries[:len(tries)-1]
			}
		case hclsyntax.TokenNewline, hclsyntax.TokenComma:
			ops[len(ops)-1] = 0
		case hclsyntax.TokenBang, hclsyntax.TokenMinus, hclsyntax.TokenPlus, hclsyntax.TokenStar,
			hclsyntax.TokenSlash, hclsyntax.TokenPercent, hclsyntax.TokenAnd, hclsyntax.TokenOr,
			hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual, hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq,
			hclsyntax.TokenGreaterThan, hclsyntax.TokenGreaterThanEq, hclsyntax.TokenQuestion:
			ops[len(ops)-1]++
			if ops[len(ops)-1] > MaxOperators {
				return tooDeep(t.Range, fmt.Sprintf("More than %d operators are chained here without brackets; split the expression into locals.", MaxOperators))
			}
		}
	}
	return nil
}

// bracketDepthError is the raw-byte bracket count of nestingError.
func bracketDepthError(filename string, src []byte) *hcl.Diagnostic {
	depth := 0
	line, col := 1, 1
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '{', '[', '(':
			depth++
			if depth > MaxNesting {
				pos := hcl.Pos{Line: line, Column: col, Byte: i}
				return &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Nesting too deep",
					Detail:   fmt.Sprintf("Brackets nest more than %d levels deep here; no runbook or variables file needs that many.", MaxNesting),
					Subject:  &hcl.Range{Filename: filename, Start: pos, End: hcl.Pos{Line: line, Column: col + 1, Byte: i + 1}},
				}
			}
		case '}', ']', ')':
			if depth > 0 {
				depth--
			}
		case '\n':
			line, col = line+1, 0
		}
		if c < utf8.RuneSelf || utf8.RuneStart(c) {
			col++
		}
	}
	return nil
}

// nameProblem says why s cannot name a VM, key or file entry: empty, or
// holding a control character or a bidirectional override (which makes a
// name show as another), which would reach terminals, logs and Azure. It returns "" for a good name.
func nameProblem(s string) string {
	if strings.TrimSpace(s) == "" {
		return "is empty"
	}
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) {
			return "holds a control character or invalid UTF-8"
		}
	}
	return ""
}

// Azure's limits on what a target names (Azure Resource Manager naming
// rules and tag limits, learn.microsoft.com/azure/azure-resource-manager/
// management/resource-name-rules and tag-resources#limitations).
const (
	maxVMSizeLen   = 64
	maxTags        = 50
	maxTagNameLen  = 512
	maxTagValueLen = 256
	tagNameForbid  = `<>%&\?/`
)

// tagsProblem checks one tag map against Azure's limits and returns what
// is wrong, or "".
func tagsProblem(tags map[string]string) string {
	if len(tags) > maxTags {
		return fmt.Sprintf("holds %d tags; Azure allows at most %d per resource.", len(tags), maxTags)
	}
	for _, k := range sortedKeys(tags) {
		v := tags[k]
		switch {
		case nameProblem(k) != "":
			return fmt.Sprintf("has a tag name that %s.", nameProblem(k))
		case len(k) > maxTagNameLen:
			return fmt.Sprintf("has a tag name of %d characters; Azure allows at most %d.", len(k), maxTagNameLen)
		case strings.ContainsAny(k, tagNameForbid):
			return fmt.Sprintf("has tag name %q; Azure tag names must not contain any of %s.", k, tagNameForbid)
		case len(v) > maxTagValueLen:
			return fmt.Sprintf("has a value of %d characters for tag %q; Azure allows at most %d.", len(v), k, maxTagValueLen)
		case v != "" && nameProblem(v) != "":
			return fmt.Sprintf("has a value for tag %q that %s.", k, nameProblem(v))
		}
	}
	return ""
}

// boundedDecode wraps a decoding function (jsondecode, yamldecode) so that
// a string nesting deeper than MaxNesting is refused before the decoder,
// which recurses per level, sees it.
func boundedDecode(name string, fn function.Function) function.Function {
	return function.New(&function.Spec{
		Params: fn.Params(),
		Type: func(args []cty.Value) (cty.Type, error) {
			if err := decodeDepth(name, args); err != nil {
				return cty.NilType, err
			}
			return fn.ReturnTypeForValues(args)
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if err := decodeDepth(name, args); err != nil {
				return cty.NilVal, err
			}
			return fn.Call(args)
		},
	})
}

func decodeDepth(name string, args []cty.Value) error {
	if len(args) == 0 || !args[0].IsKnown() || args[0].IsNull() || args[0].Type() != cty.String {
		return nil
	}
	src := []byte(args[0].AsString())
	if d := bracketDepthError(name, src); d != nil {
		return function.NewArgErrorf(0, "the value nests more than %d levels deep", MaxNesting)
	}
	if name == "yamldecode" {
		if p := yamlProblem(src); p != "" {
			return function.NewArgErrorf(0, "%s", p)
		}
	}
	return nil
}

// MaxYAMLNodes bounds the values a yamldecode argument may expand to.
// Aliases repeat what an anchor holds, and an anchor may hold aliases: ten
// lines of YAML can stand for a billion values ("billion laughs"), which
// the decoder would build in full.
const MaxYAMLNodes = 1_000_000

// yamlProblem reads src as a YAML node tree, in which aliases are not
// expanded, and says what is wrong when its expansion would be larger than
// MaxYAMLNodes, nest deeper than MaxNesting (block indentation nests
// without brackets) or hold an alias of its own ancestor. Other syntax
// errors are left to yamldecode, which reports them in its own words.
func yamlProblem(src []byte) string {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		if strings.Contains(err.Error(), "depth") {
			return fmt.Sprintf("the value nests more than %d levels deep", MaxNesting)
		}
		return ""
	}
	const busy = -1
	sizes := map[*yaml.Node]int{}
	var size func(n *yaml.Node, depth int) (int, string)
	size = func(n *yaml.Node, depth int) (int, string) {
		if depth > MaxNesting {
			return 0, fmt.Sprintf("the value nests more than %d levels deep", MaxNesting)
		}
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		switch sizes[n] {
		case busy:
			return 0, "an alias refers to a value that holds it"
		case 0:
		default:
			return sizes[n], ""
		}
		sizes[n] = busy
		total := 1
		for _, c := range n.Content {
			k, p := size(c, depth+1)
			if p != "" {
				return 0, p
			}
			total += k
			if total > MaxYAMLNodes {
				return 0, fmt.Sprintf("the value expands to more than %d values (through aliases)", MaxYAMLNodes)
			}
		}
		sizes[n] = total
		return total, ""
	}
	_, p := size(&doc, 0)
	return p
}

// MaxProduct bounds setproduct's result: its size is the product of its
// arguments' lengths, so three sets of a thousand would ask for a billion
// elements at once and end the process for lack of memory.
const MaxProduct = 1_000_000

// boundedProduct wraps setproduct with that bound, checked from the
// arguments' lengths before anything is built.
func boundedProduct(fn function.Function) function.Function {
	check := func(args []cty.Value) error {
		n := 1
		for i, a := range args {
			if !a.IsKnown() || a.IsNull() || !a.CanIterateElements() {
				return nil
			}
			n *= max(a.LengthInt(), 1)
			if n > MaxProduct {
				return function.NewArgErrorf(i, "the product of these collections would hold more than %d elements", MaxProduct)
			}
		}
		return nil
	}
	return function.New(&function.Spec{
		Params:   fn.Params(),
		VarParam: fn.VarParam(),
		Type: func(args []cty.Value) (cty.Type, error) {
			if err := check(args); err != nil {
				return cty.NilType, err
			}
			return fn.ReturnTypeForValues(args)
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if err := check(args); err != nil {
				return cty.NilVal, err
			}
			return fn.Call(args)
		},
	})
}

// boundedPow is pow without NaN: a negative base to a fractional power has
// no real value, and go-cty's number type, which cannot hold NaN, panics
// (the message would carry a Go stack trace).
func boundedPow(fn function.Function) function.Function {
	return function.New(&function.Spec{
		Params: fn.Params(),
		Type:   function.StaticReturnType(cty.Number),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			base, exp := args[0].AsBigFloat(), args[1].AsBigFloat()
			if base.Sign() < 0 && !exp.IsInt() {
				return cty.NilVal, function.NewArgErrorf(1, "a negative number to a fractional power has no real value")
			}
			return fn.Call(args)
		},
	})
}
