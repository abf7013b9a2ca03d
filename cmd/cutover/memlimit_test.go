package main

import (
	"math"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// TestPlanSetsMemoryLimitFromRunbook checks that plan gives itself a soft
// memory limit sized from the runbook's VMs, and that a GOMEMLIMIT the user
// set is left in force.
func TestPlanSetsMemoryLimitFromRunbook(t *testing.T) {
	dir := copyExample(t, "quickstart")
	for _, tc := range []struct {
		name string
		env  string // GOMEMLIMIT, "" for unset
		want int64
	}{
		{"sized from the runbook", "", planMemoryLimit(3)},
		{"GOMEMLIMIT wins", "1GiB", math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev := debug.SetMemoryLimit(math.MaxInt64)
			t.Cleanup(func() { debug.SetMemoryLimit(prev) })
			if tc.env != "" {
				// The runtime read GOMEMLIMIT at start; the CLI only has to
				// leave the limit alone when it is set.
				t.Setenv("GOMEMLIMIT", tc.env)
			}
			code, out, errOut := runCLI(t, "plan", dir, "--sim", "--out", filepath.Join(t.TempDir(), "q.plan"))
			if code != 0 {
				t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
			}
			if got := debug.SetMemoryLimit(-1); got != tc.want {
				t.Errorf("memory limit = %d, want %d", got, tc.want)
			}
		})
	}
	if planMemoryLimit(10000) >= 160<<20 || planMemoryLimit(50000) >= 700<<20 {
		t.Errorf("limits %d MiB at 10,000 VMs and %d MiB at 50,000 leave no room under the 200 MB and 800 MB goals",
			planMemoryLimit(10000)>>20, planMemoryLimit(50000)>>20)
	}
}
