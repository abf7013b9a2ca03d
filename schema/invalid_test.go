package schema_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"cutover/schema"
	"cutover/window"
	"github.com/hashicorp/hcl/v2"
)

// expectation is a diagnostic a fixture marks on its offending line with
// "# ERROR: <summary>" or "# WARNING: <summary>".
type expectation struct {
	severity hcl.DiagnosticSeverity
	line     int
	summary  string
}

var marker = regexp.MustCompile(`#\s*(ERROR|WARNING):\s*(.+?)\s*$`)

func expectations(t *testing.T, src []byte) []expectation {
	t.Helper()
	var out []expectation
	for i, line := range strings.Split(string(src), "\n") {
		m := marker.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		sev := hcl.DiagError
		if m[1] == "WARNING" {
			sev = hcl.DiagWarning
		}
		out = append(out, expectation{severity: sev, line: i + 1, summary: m[2]})
	}
	return out
}

func testOptions() schema.Options {
	env := map[string]string{"TEST_VC_PASSWORD": "s3cr3t-from-env"}
	return schema.Options{
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		CheckSchedule: func(s string) error {
			_, err := window.Parse(s, "1h", "")
			return err
		},
	}
}

// TestInvalidRunbooks decodes every fixture in testdata/invalid and checks
// that exactly the marked diagnostics come out, each on its marked line.
func TestInvalidRunbooks(t *testing.T) {
	dir := filepath.Join("testdata", "invalid")
	base, err := os.ReadFile(filepath.Join(dir, "_base.hcl.txt"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("want at least 30 invalid fixtures, have %d", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".hcl"), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := expectations(t, src)
			if len(want) == 0 {
				t.Fatal("fixture marks no expected diagnostic")
			}
			sources := map[string][]byte{file: src}
			if !strings.HasPrefix(string(src), "# NOBASE") {
				sources[filepath.Join(dir, "_base.hcl")] = base
			}
			_, diags := schema.LoadSources(dir, sources, testOptions())

			matched := make([]bool, len(diags))
			for _, w := range want {
				found := false
				for i, d := range diags {
					if matched[i] || d.Severity != w.severity || d.Summary != w.summary ||
						d.Subject == nil || d.Subject.Filename != file || d.Subject.Start.Line != w.line {
						continue
					}
					matched[i], found = true, true
					break
				}
				if !found {
					t.Errorf("line %d: want %q, got:\n%s", w.line, w.summary, describe(diags))
				}
			}
			for i, d := range diags {
				if !matched[i] {
					t.Errorf("unexpected diagnostic: %s", describe(hcl.Diagnostics{d}))
				}
			}
		})
	}
}

func describe(diags hcl.Diagnostics) string {
	var lines []string
	for _, d := range diags {
		where := "(no range)"
		if d.Subject != nil {
			where = d.Subject.String()
		}
		lines = append(lines, "  "+where+": "+d.Summary+": "+d.Detail)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
