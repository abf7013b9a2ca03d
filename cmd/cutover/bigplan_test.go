package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestApplyDirShowsABigPlanBriefly grows the CSV wave past the threshold:
// apply DIR then shows the counts and per-window counts instead of every
// step, and says how to see them; --show-plan shows them all.
func TestApplyDirShowsABigPlanBriefly(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	dir := copyExample(t, "csv-wave")
	csv := filepath.Join(dir, "wave1.csv")
	b, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	var rows strings.Builder
	rows.Write(b)
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&rows, "wave1-extra%02d,Standard_D4s_v5,web,10.20.9.%d,StandardSSD_LRS,migrated,00:50:56:a1:09:%02x\n", i, i+10, i)
	}
	if err := os.WriteFile(csv, []byte(rows.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// Without a terminal apply refuses to ask, after showing the plan.
	code, out, errOut := runCLI(t, "apply", dir, "--sim")
	if code != 1 || !strings.Contains(errOut, "no terminal to confirm on") {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"60 VMs.", "Plan: 60 to replicate", "By window:", `window "weekend" (`, "60 VMs,",
		"they are not listed", "--show-plan", "cutover show FILE", "0 to update"} {
		if !strings.Contains(out, want) {
			t.Errorf("brief plan lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "goes from") || strings.Count(out, "\n") > 30 {
		t.Errorf("the brief plan lists steps (%d lines):\n%s", strings.Count(out, "\n"), out)
	}
	_, full, _ := runCLI(t, "apply", dir, "--sim", "--show-plan")
	if !strings.Contains(full, "cutover will perform the following actions") || strings.Count(full, "goes from") != 60 {
		t.Errorf("--show-plan does not list every VM (%d lines)", strings.Count(full, "\n"))
	}
}
