package schema_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cutover/schema"
)

// writeWave writes the csv-wave example's runbook with a CSV of n rows.
func writeWave(tb testing.TB, n int) string {
	tb.Helper()
	dir := tb.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "examples", "csv-wave", "main.hcl"))
	if err != nil {
		tb.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("name,size,subnet,ip,disk_type,stage,mac\n")
	sizes := []string{"Standard_D2s_v5", "Standard_D4s_v5", "Standard_E4s_v5"}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&csv, "vm%05d,%s,app,10.%d.%d.%d,Premium_LRS,migrated,00:50:56:%02x:%02x:%02x\n",
			i, sizes[i%3], i>>16&255, i>>8&255, i&255, i>>16&255, i>>8&255, i&255)
	}
	for name, content := range map[string]string{"main.hcl": string(src), "wave1.csv": csv.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

func TestWaveOfThousandDecodes(t *testing.T) {
	t.Parallel()
	rb := loadValid(t, writeWave(t, 1000), testOptions())
	if len(rb.VMs) != 1000 {
		t.Fatalf("%d VMs, want 1000", len(rb.VMs))
	}
	if vm := rb.VMs[999]; vm.Address != `vm.wave["vm00999"]` || vm.Target.NICs[0].StaticIP != "10.0.3.231" {
		t.Errorf("last VM = %s %+v", vm.Address, vm.Target.NICs)
	}
}

// BenchmarkValidateCSVWave measures decoding and validating a runbook whose
// for_each runs over a CSV of 1,000 (and 5,000) VMs, as validate does.
func BenchmarkValidateCSVWave(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("vms=%d", n), func(b *testing.B) {
			dir := writeWave(b, n)
			opts := testOptions()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rb, diags := schema.LoadDir(dir, opts)
				if diags.HasErrors() || len(rb.VMs) != n {
					b.Fatalf("%d VMs: %s", len(rb.VMs), describe(diags))
				}
			}
		})
	}
}
