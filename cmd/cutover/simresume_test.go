package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSimResumeAfterKill applies a --sim plan in a child process, SIGKILLs
// it while test failovers run in the simulated vault, and resumes: the
// resumed apply (a new process, serving the vault on a new port) must
// re-attach to the running operations and finish the plan within 30 s.
func TestSimResumeAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	t.Setenv(SimTimeScaleEnv, "0.5")
	dir := copyExample(t, "quickstart")
	planPath := filepath.Join(t.TempDir(), "q.plan")
	if code, out, errOut := runCLI(t, "plan", dir, "--sim", "--out", planPath); code != 0 {
		t.Fatalf("plan: exit %d %s %s", code, out, errOut)
	}
	w := &simWorld{dir: dir, planPath: planPath}

	first := w.startApply(t, 10)
	deadline := time.After(60 * time.Second)
wait:
	for {
		select {
		case line, ok := <-first.lines:
			if !ok {
				t.Fatalf("apply ended before a test failover started:\n%s%s", first.output(), first.stderr.String())
			}
			if strings.Contains(line, ".test_failover: started") {
				break wait
			}
		case <-deadline:
			t.Fatalf("no test failover started within 60 s:\n%s", first.output())
		}
	}
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	first.wait(t, 10*time.Second)

	resumed := w.startApply(t, 10)
	resumed.wait(t, 30*time.Second)
	out := resumed.output()
	if resumed.exitCode() != 0 || !strings.Contains(out, "test_failover: attached") || !strings.Contains(out, " 0 failed, 0 blocked by a failure, 0 pending") {
		t.Fatalf("resumed apply: exit %d after %s\n%s%s", resumed.exitCode(), time.Since(resumed.started).Round(time.Millisecond), out, resumed.stderr.String())
	}
	t.Logf("resumed and finished in %s", time.Since(resumed.started).Round(time.Millisecond))
}
