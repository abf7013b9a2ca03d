package main

import (
	"cutover/executor/journal"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyExample copies an example runbook to a temporary directory, since
// --sim keeps its world next to the runbook. The state directory is left
// behind: the README's first command leaves one in examples/quickstart,
// and the tests start from a fresh world.
func copyExample(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("..", "..", "examples", name)
	dst := filepath.Join(t.TempDir(), name)
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if d.Name() == journal.DefaultDir {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestPlanSimQuickstartAndShow(t *testing.T) {
	dir := copyExample(t, "quickstart")
	planPath := filepath.Join(t.TempDir(), "q.plan")
	code, out, errOut := runCLI(t, "plan", dir, "--sim", "--out", planPath, "--detailed-exitcode")
	if code != exitChanges {
		t.Fatalf("plan --detailed-exitcode: exit %d, want 2\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "Plan: 3 to replicate") || !strings.Contains(out, "vm.db01.") && !strings.Contains(out, "vm.db01") {
		t.Errorf("plan output lacks the summary or a VM:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, ".cutover", "sim", "vcenter.json")); err != nil {
		t.Errorf("the simulated world was not kept: %v", err)
	}

	code, md, errOut := runCLI(t, "show", planPath, "--format", "markdown")
	if code != 0 {
		t.Fatalf("show: exit %d %s", code, errOut)
	}
	for _, want := range []string{"```mermaid", "| to replicate | 3 |", "vm.db01"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}

	code, js, _ := runCLI(t, "show", planPath, "--format", "json")
	var doc map[string]any
	if code != 0 || json.Unmarshal([]byte(js), &doc) != nil {
		t.Fatalf("show --format json: exit %d\n%s", code, js)
	}

	code, digest, _ := runCLI(t, "show", planPath, "--digest")
	if code != 0 || len(strings.TrimSpace(digest)) != 64 {
		t.Errorf("show --digest: exit %d %q", code, digest)
	}

	// A second plan of the same world sees the same state: same steps.
	code, out2, _ := runCLI(t, "plan", dir, "--sim")
	if code != 0 || !strings.Contains(out2, "Plan: 3 to replicate") {
		t.Errorf("second plan: exit %d\n%s", code, out2)
	}
}

func TestPlanTargetAndBadFormat(t *testing.T) {
	dir := copyExample(t, "multi-tier")
	code, out, errOut := runCLI(t, "plan", dir, "--sim", "--target", "vm.db", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d %s", code, errOut)
	}
	if strings.Contains(out, "orders-web") || !strings.Contains(out, `"vm.db"`) {
		t.Errorf("--target vm.db planned other VMs:\n%s", out)
	}
	if code, _, errOut := runCLI(t, "plan", dir, "--format", "yaml"); code != exitUsage || !strings.Contains(errOut, "unknown plan format") {
		t.Errorf("bad format: exit %d %s", code, errOut)
	}
}

func TestGraph(t *testing.T) {
	dir := copyExample(t, "multi-tier")
	code, out, errOut := runCLI(t, "graph", dir, "--sim")
	if code != 0 || !strings.HasPrefix(out, "digraph") || !strings.Contains(out, "vm.db.unplanned_failover") {
		t.Fatalf("graph: exit %d %s\n%s", code, errOut, out)
	}
	code, out, _ = runCLI(t, "graph", dir, "--sim", "--format", "mermaid")
	if code != 0 || !strings.Contains(out, "flowchart") {
		t.Fatalf("graph mermaid: exit %d\n%s", code, out)
	}
}

func TestStatusSim(t *testing.T) {
	dir := copyExample(t, "quickstart")
	code, out, errOut := runCLI(t, "status", dir, "--sim", "--json")
	if code != 0 {
		t.Fatalf("exit %d %s", code, errOut)
	}
	var rows []vmStatus
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 3 {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, r := range rows {
		if r.Live != "discovered" || r.Desired != "migrated" || !strings.HasPrefix(r.NextApply, "enable_replication") || r.PowerState != "poweredOn" {
			t.Errorf("row %+v", r)
		}
	}
}
