package schema

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// MaxNesting is the deepest bracket nesting ({, [ and ( together) a
// runbook, var-file or decoded JSON value may have. Real runbooks stay
// below ten; the parsers recurse per level, so an unbounded depth is a
// stack overflow waiting for a hostile file.
const MaxNesting = 128

// nestingError returns a diagnostic at the first bracket that opens
// deeper than MaxNesting, or nil. It counts raw bytes, strings included:
// it runs before parsing, and a string holding more than a hundred
// unclosed brackets is no loss.
func nestingError(filename string, src []byte) *hcl.Diagnostic {
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
// holding a control character, which would reach terminals, logs and
// Azure. It returns "" for a good name.
func nameProblem(s string) string {
	if strings.TrimSpace(s) == "" {
		return "is empty"
	}
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
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
	if d := nestingError(name, []byte(args[0].AsString())); d != nil {
		return function.NewArgErrorf(0, "the value nests more than %d levels deep", MaxNesting)
	}
	return nil
}
