package schema

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// splitInputs are sources that exercise what the piece-wise parse must
// cut around: strings, templates and heredocs holding braces and
// newlines, comments, nested blocks, CRLF line ends, labels beyond ASCII.
// The bool says the source must take the piece-wise path at all.
var splitInputs = []struct {
	name  string
	src   string
	split bool
}{
	{"locals", "locals {\n  a = 1\n  b = local.a + 1\n  c = \"x\"\n}\n", true},
	{"first item a block, no trailing newline",
		"locals {\n  a = 1\n}\nvariable \"v\" {\n  default = 2\n}", true},
	{"blocks and attributes",
		"# lead\n\nvcenter \"dc1\" {\n  url = \"https://x/sdk\"\n}\n\nvm \"a\" {\n  source {\n    name = \"a\"\n  }\n  target {\n    size = \"S\" # trailing\n    tags = {\n      a = \"}\"\n      \"b{\" = 1\n    }\n  }\n}\nx = 1\n", true},
	{"strings with braces and escapes",
		"locals {\n  a = \"{\\\"}\"\n  b = \"$${not} %%{not} ${\"}\"} %{ if true }y%{ endif }\"\n  c = [\n    \"]\",\n  ]\n}\n", true},
	{"heredocs",
		"locals {\n  a = <<EOT\n}\n  {\n${ {x = \"}\"}.x }\n  EOT\n  b = <<-EOT\n    x EOT y\n    EOT\n  c = 1\n}\n", true},
	{"comments", "locals {\n  // }\n  a = 1 /* {\n  */\n  /* } */ b = 2\n  # {\n}\n", true},
	{"crlf", "locals {\r\n  a = 1\r\n  b = \"x\"\r\n}\r\n", true},
	{"labels beyond ascii",
		"vm \"ünïcödé\" \"日本\" {\n  a = \"é\"\n}\nb = \"ç\"\n", true},
	{"blank lines and indentation", "\n\n  locals   {   \n\n  a = 1\n\n    }  \n\n", true},
	{"tabs before the closing brace", "locals {\n\ta = 1\n\t\t}\n", true},
	{"nested blocks in a big block",
		"vm \"a\" {\n  source {\n    name = \"a\"\n  }\n  target {\n    size = \"S\"\n  }\n  depends_on = [vm.b]\n}\n", true},
	{"heredoc with an interpolation across lines and CRLF",
		"locals {\r\n  a = <<-EOT\r\n    x ${\r\n  \"EOT\"\r\n} y\r\n    EOT\r\n  b = 2\r\n}\r\n", true},
	{"single-line block", "locals { a = 1 }\nb = 2\n", true},
	{"object attribute", "a = {\n  b = 1\n}\nc = 2\n", true},
	{"empty block", "locals {\n}\n", true},
	{"empty", "", true},
	// Each of these is an error; the pieces must not hide it.
	{"duplicate across pieces", "locals {\n  a = 1\n  a = 2\n}\n", false},
	{"duplicate at top level", "a = 1\nb = 2\na = 3\n", false},
	{"missing newline before brace", "locals {\n  a = 1 }\n", false},
	{"garbage after brace", "locals {\n  a = 1\n} x\n", false},
	{"unterminated heredoc", "locals {\n  a = <<EOT\n  x\n}\n", false},
	{"unterminated string", "locals {\n  a = \"x\n  b = 1\n}\n", false},
	{"unterminated comment", "locals {\n  /* a = 1\n}\n", false},
	{"stray brace", "a = 1\n}\nb = 2\n", false},
	{"unclosed block", "locals {\n  a = 1\n", false},
	{"newline inside expression", "locals {\n  a = 1 +\n  2\n}\n", false},
}

// checkSplit parses src whole and in pieces of chunk bytes and fails
// unless the pieces give no result or exactly the whole parse's tree.
func checkSplit(t *testing.T, src []byte, chunk int) *hcl.File {
	t.Helper()
	want, diags := hclsyntax.ParseConfig(src, "main.hcl", hcl.InitialPos)
	got := parseSplit(src, "main.hcl", chunk)
	if got == nil {
		return nil
	}
	if len(diags) > 0 {
		t.Fatalf("chunk %d: pieces parsed cleanly, whole parse says %s", chunk, diags.Error())
	}
	if !bytes.Equal(got.Bytes, src) {
		t.Fatalf("chunk %d: file bytes differ", chunk)
	}
	if !reflect.DeepEqual(got.Body, want.Body) {
		t.Fatalf("chunk %d: trees differ\n got: %s\nwant: %s", chunk, dumpBody(got.Body), dumpBody(want.Body))
	}
	type contexter interface{ ContextString(int) string }
	for off := 0; off < len(src); off += 3 {
		if g, w := got.Nav.(contexter).ContextString(off), want.Nav.(contexter).ContextString(off); g != w {
			t.Fatalf("chunk %d: context at byte %d is %q, want %q", chunk, off, g, w)
		}
	}
	return got
}

func dumpBody(b hcl.Body) string {
	s := fmt.Sprintf("%#v", b)
	if sb, ok := b.(*hclsyntax.Body); ok {
		for _, blk := range sb.Blocks {
			s += fmt.Sprintf("\n  block %#v\n  body %#v", blk, blk.Body)
		}
	}
	return s
}

// TestSplitParseSameTree: parsing in pieces gives hcl's own tree, ranges
// included, for every chunk size, or falls back to the whole parse; it
// never hides an error.
func TestSplitParseSameTree(t *testing.T) {
	t.Parallel()
	for _, tc := range splitInputs {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, chunk := range []int{1, 5, 20, 1 << 20} {
				got := checkSplit(t, []byte(tc.src), chunk)
				if tc.split && got == nil {
					t.Errorf("chunk %d: not parsed in pieces", chunk)
				}
				if !tc.split && got != nil {
					t.Errorf("chunk %d: parsed in pieces although it is an error", chunk)
				}
			}
		})
	}
}

// TestSplitParseRunbooks runs every runbook in the repository through the
// same comparison.
func TestSplitParseRunbooks(t *testing.T) {
	t.Parallel()
	var files []string
	for _, glob := range []string{"testdata/*/*.hcl", "../examples/*/*.hcl", "../examples/*/*.hcl.txt", "testdata/*/*.hcl.txt"} {
		m, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 20 {
		t.Fatalf("only %d runbooks found", len(files))
	}
	split := 0
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, chunk := range []int{1, 64} {
			if checkSplit(t, src, chunk) != nil {
				split++
			}
		}
	}
	// Most are valid, and every valid file must take the piece-wise path.
	if split < len(files) {
		t.Errorf("%d of %d parses took the piece-wise path", split, 2*len(files))
	}
}

// TestParseFileBig: a file above splitMin is parsed in pieces (and gives
// the whole parse's tree), one below it whole.
func TestParseFileBig(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("locals {\n")
	for i := 0; b.Len() < splitMin+splitChunk; i++ {
		fmt.Fprintf(&b, "  l%d = \"${local.l%d}}{\"\n", i+1, i)
	}
	b.WriteString("  l0 = 0\n}\n")
	src := []byte(b.String())
	if checkSplit(t, src, splitChunk) == nil {
		t.Fatal("a big file was not parsed in pieces")
	}
	f, diags := parseFile(src, "main.hcl")
	if diags.HasErrors() || len(f.Body.(*hclsyntax.Body).Blocks[0].Body.Attributes) < splitMin/30 {
		t.Fatalf("parseFile: %v", diags)
	}
}

// FuzzSplitParse: for any source, the piece-wise parse is either refused
// or exactly the whole parse.
func FuzzSplitParse(f *testing.F) {
	for _, tc := range splitInputs {
		f.Add([]byte(tc.src), uint8(5))
	}
	f.Fuzz(func(t *testing.T, src []byte, chunk uint8) {
		if nestingError("f", src) != nil {
			return
		}
		checkSplit(t, src, int(chunk))
	})
}
