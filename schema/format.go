package schema

import (
	"bytes"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in canonical HCL layout. It refuses a file that does
// not parse, since reformatting broken syntax could change its meaning.
func Format(src []byte, filename string) ([]byte, hcl.Diagnostics) {
	// The parser recurses per nesting level: bound it first, as LoadDir
	// does.
	if d := nestingError(filename, src); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	_, diags := hclsyntax.ParseConfig(src, filename, hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		return nil, diags
	}
	out := hclwrite.Format(src)
	// hclwrite keeps a missing final newline; every formatted file ends in
	// exactly one.
	out = append(bytes.TrimRight(out, "\n"), '\n')
	if len(bytes.TrimSpace(out)) == 0 {
		out = nil
	}
	return out, nil
}
