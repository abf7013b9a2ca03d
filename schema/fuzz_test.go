package schema_test

import (
	"os"
	"path/filepath"
	"testing"

	"cutover/schema"
)

// FuzzLoad feeds arbitrary bytes to the decoder as one runbook file. It
// must return diagnostics, never panic. Seeds: every example and fixture
// (added here) and the committed corpus under testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{
		filepath.Join("..", "examples", "*", "*.hcl"),
		filepath.Join("testdata", "invalid", "*.hcl"),
		filepath.Join("testdata", "valid", "*", "*.hcl"),
	} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	opts := schema.Options{
		NoFileAccess: true,
		LookupEnv:    func(string) (string, bool) { return "", false },
		CheckSchedule: func(string) error {
			return nil
		},
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		rb, diags := schema.LoadSources("fuzz", map[string][]byte{"fuzz/main.hcl": src}, opts)
		if rb == nil && !diags.HasErrors() {
			t.Fatal("no runbook and no error")
		}
		if !diags.HasErrors() {
			for _, vm := range rb.VMs {
				if vm.Address == "" || vm.Source.VCenter == "" {
					t.Fatalf("valid runbook with incomplete vm %+v", vm)
				}
			}
		}
	})
}
