package schema_test

import (
	"os"
	"path/filepath"
	"testing"

	"cutover/schema"
)

// varFileRunbook declares variables of every kind a var-file may set.
const varFileRunbook = `
variable "wave" { type = string }
variable "count" {
  type    = number
  default = 1
}
variable "tags" {
  type    = map(string)
  default = {}
}
variable "vms" {
  type    = list(object({ name = string, size = string }))
  default = []
}
`

// FuzzVarFile feeds arbitrary bytes to --var-file, as HCL and as JSON. It
// must return diagnostics, never panic or hang.
// Seeds: well-formed files of both kinds and the committed corpus under
// testdata/fuzz/FuzzVarFile.
func FuzzVarFile(f *testing.F) {
	f.Add([]byte(`wave = "w1"`+"\n"+`count = 3`+"\n"+`tags = { env = "prod" }`), false)
	f.Add([]byte(`vms = [{ name = "a", size = "Standard_D2s_v5" }]`), false)
	f.Add([]byte(`{"wave": "w1", "count": 3, "tags": {"env": "prod"}}`), true)
	f.Add([]byte(`{"vms": [{"name": "a", "size": "Standard_D2s_v5"}]}`), true)
	f.Add([]byte(`wave = [[[[[[[[[[[[[[[[[[[[`), false)
	dir, err := os.MkdirTemp("", "fuzz-varfile")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(dir) })
	opts := schema.Options{NoFileAccess: true, LookupEnv: func(string) (string, bool) { return "", false }}
	f.Fuzz(func(t *testing.T, src []byte, asJSON bool) {
		name := filepath.Join(dir, "vars.hcl")
		if asJSON {
			name = filepath.Join(dir, "vars.json")
		}
		if err := os.WriteFile(name, src, 0o600); err != nil {
			t.Fatal(err)
		}
		o := opts
		o.VarFiles = []string{name}
		rb, diags := schema.LoadSources("fuzz", map[string][]byte{"fuzz/main.hcl": []byte(varFileRunbook)}, o)
		if rb == nil && !diags.HasErrors() {
			t.Fatal("no runbook and no error")
		}
	})
}

// FuzzCSV feeds arbitrary bytes as the CSV wave of examples/csv-wave. It
// must return diagnostics, never panic; every VM of a runbook it accepts
// has a non-empty key and name free of control characters.
// Seeds: the example's own CSV and the committed corpus under
// testdata/fuzz/FuzzCSV.
func FuzzCSV(f *testing.F) {
	example := filepath.Join("..", "examples", "csv-wave")
	main, err := os.ReadFile(filepath.Join(example, "main.hcl"))
	if err != nil {
		f.Fatal(err)
	}
	wave, err := os.ReadFile(filepath.Join(example, "wave1.csv"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(wave)
	f.Add([]byte("name,size,subnet,ip,disk_type,stage,mac\n,Standard_D2s_v5,web,10.0.0.1,Premium_LRS,migrated,00:50:56:a1:00:01\n"))
	f.Add([]byte("name,size\n\"a\x1b[31m\",x\n"))
	dir, err := os.MkdirTemp("", "fuzz-csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), main, 0o600); err != nil {
		f.Fatal(err)
	}
	opts := schema.Options{LookupEnv: func(string) (string, bool) { return "", false }}
	f.Fuzz(func(t *testing.T, csv []byte) {
		if err := os.WriteFile(filepath.Join(dir, "wave1.csv"), csv, 0o600); err != nil {
			t.Fatal(err)
		}
		rb, diags := schema.LoadDir(dir, opts)
		if rb == nil && !diags.HasErrors() {
			t.Fatal("no runbook and no error")
		}
		if diags.HasErrors() {
			return
		}
		for _, vm := range rb.VMs {
			if vm.Key == "" || vm.Source.Name == "" {
				t.Fatalf("accepted a vm with an empty key or name: %+v", vm)
			}
			for _, r := range vm.Address + vm.Source.Name + vm.Target.Name {
				if r < 0x20 || r == 0x7f {
					t.Fatalf("accepted a control character in %q", vm.Address)
				}
			}
		}
	})
}
