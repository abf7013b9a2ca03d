package schema_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"cutover/schema"
)

// manyLocals is a runbook of n locals, each referring to the one before,
// plus one that refers to them all through a for expression's input.
func manyLocals(n int) []byte {
	var b strings.Builder
	b.WriteString("locals {\n  l0 = 0\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "  l%d = local.l%d + 1\n", i, i-1)
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

func loadSrc(t testing.TB, src []byte) (*schema.Runbook, hcl.Diagnostics) {
	t.Helper()
	return schema.LoadSources("hostile", map[string][]byte{"hostile/main.hcl": src}, testOptions())
}

// TestManyLocalsEvaluate: 20,000 chained locals decode without error; the
// time they take is measured in BenchmarkLocals.
func TestManyLocalsEvaluate(t *testing.T) {
	t.Parallel()
	if _, diags := loadSrc(t, manyLocals(20000)); diags.HasErrors() {
		t.Fatal(diags.Error())
	}
}

// BenchmarkLocals measures validating runbooks of 1,000, 10,000 and
// 100,000 chained locals: the time per local must stay flat (linear in
// their number), and 100,000 must validate in well under two seconds.
func BenchmarkLocals(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		src := manyLocals(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if _, diags := loadSrc(b, src); diags.HasErrors() {
					b.Fatal(diags.Error())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/local")
		})
	}
}

const hostileBase = `
vcenter "dc1" {
  url      = "https://vc01.corp.example/sdk"
  username = "u"
  password = "p"
}
azure "migrate" {
  subscription_id = "11111111-2222-3333-4444-555555555555"
  vault           = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/migrate-rg/providers/Microsoft.RecoveryServices/vaults/v1"
  appliance       = "appliance-01"
}
`

// TestHostileRunbooks: each runbook is refused with a diagnostic on the
// offending line, never a crash or a silent fallback.
func TestHostileRunbooks(t *testing.T) {
	t.Parallel()
	deep := "locals {\n  x = " + strings.Repeat("[", 200000) + strings.Repeat("]", 200000) + "\n}\n"
	for _, tc := range []struct {
		name, src string
		line      int
		want      string
	}{
		{"deep brackets", deep, 2, "Nesting too deep"},
		{"deep braces", "locals {\n  x = " + strings.Repeat("{a=", 300) + "1" + strings.Repeat("}", 300) + "\n}\n", 2, "Nesting too deep"},
		{"empty for_each key", hostileBase + "vm \"w\" {\n  for_each = { \"\" = \"x\" }\n}\n", 13, `Invalid for_each key`},
		{"control character key", hostileBase + "vm \"w\" {\n  for_each = toset([\"a\\u001b[2Jb\"])\n}\n", 13, `Invalid for_each key`},
		{"control character source name", hostileBase + "vm \"w\" {\n  source {\n    name = \"db\\u001b]0;x\\u0007\"\n  }\n}\n", 14, "control character"},
		{"ten megabyte size", hostileBase + "vm \"w\" {\n  target {\n    size = \"Standard_" + strings.Repeat("D", 10<<20) + "\"\n  }\n}\n", 14, "Invalid VM size"},
		{"tag name with slash", hostileBase + "vm \"w\" {\n  target {\n    vm_tags = { \"a/b\" = \"c\" }\n  }\n}\n", 14, "must not contain"},
		{"long tag value", hostileBase + "vm \"w\" {\n  target {\n    vm_tags = { a = \"" + strings.Repeat("v", 257) + "\" }\n  }\n}\n", 14, "at most 256"},
		{"http vCenter", "vcenter \"dc1\" {\n  url = \"http://vc01.corp.example/sdk\"\n  username = \"u\"\n}\n", 2, "is not https"},
		{"local time zone", "window \"w\" {\n  schedule = \"0 22 * * SAT\"\n  duration = \"6h\"\n  timezone = \"Local\"\n}\n", 4, "IANA"},
		{"estimate longer than window", "window \"w\" {\n  schedule = \"0 22 * * SAT\"\n  duration = \"1h\"\n  estimates = { unplanned_failover = \"2h\" }\n}\n", 4, "does not fit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, diags := loadSrc(t, []byte(tc.src))
			for _, d := range diags {
				if d.Severity == hcl.DiagError && strings.Contains(d.Summary+" "+d.Detail, tc.want) {
					if d.Subject == nil || d.Subject.Start.Line != tc.line {
						t.Fatalf("diagnostic %q at %v, want line %d", d.Summary, d.Subject, tc.line)
					}
					return
				}
			}
			t.Fatalf("no error %q in %v", tc.want, diags)
		})
	}
}

// TestHostileVarFiles: var-files nested too deep are refused, in HCL and
// JSON, before parsing.
func TestHostileVarFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"deep.hcl":  "v = " + strings.Repeat("[", 200000) + strings.Repeat("]", 200000),
		"deep.json": `{"v": ` + strings.Repeat("[", 200000) + strings.Repeat("]", 200000) + "}",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		o := testOptions()
		o.VarFiles = []string{path}
		_, diags := schema.LoadSources("h", map[string][]byte{"h/main.hcl": []byte("variable \"v\" {\n  type = any\n}\n")}, o)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), "Nesting too deep") || !strings.Contains(diags.Error(), name+":1,") {
			t.Errorf("%s: %v", name, diags)
		}
	}
}

// TestDeepJSONDecode: jsondecode of a value nested too deep (here from the
// environment, which no pre-parse scan sees) is an error, not a crash.
func TestDeepJSONDecode(t *testing.T) {
	t.Parallel()
	o := testOptions()
	o.LookupEnv = func(string) (string, bool) {
		return strings.Repeat("[", 200000) + strings.Repeat("]", 200000), true
	}
	_, diags := schema.LoadSources("h", map[string][]byte{"h/main.hcl": []byte("locals {\n  x = jsondecode(env(\"DEEP\"))\n}\n")}, o)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "nests more than 128 levels") || !strings.Contains(diags.Error(), "main.hcl:2,") {
		t.Fatalf("diags %v", diags)
	}
}

// TestInsecureWarns: insecure = true is a warning on the attribute, shown
// by every command that loads the runbook.
func TestInsecureWarns(t *testing.T) {
	t.Parallel()
	_, diags := loadSrc(t, []byte("vcenter \"dc1\" {\n  url = \"https://vc01.corp.example/sdk\"\n  username = \"u\"\n  insecure = true\n}\n"))
	for _, d := range diags {
		if d.Severity == hcl.DiagWarning && d.Summary == "TLS certificate checks are off" && d.Subject != nil && d.Subject.Start.Line == 4 {
			return
		}
	}
	t.Fatalf("no warning on line 4: %v", diags)
}
