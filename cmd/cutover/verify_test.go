package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cutover/executor/journal"
	"cutover/planner"
	"cutover/planner/planfile"
)

// TestApplyRefusesEditedPlan saves a plan of the quickstart, edits it the
// way a careless or hostile hand would, and checks that apply refuses each
// edit with exit 1, naming the first differing step or the broken part,
// before anything is journaled; the unedited plan then applies.
func TestApplyRefusesEditedPlan(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.001")
	dir := copyExample(t, "quickstart")
	planPath := filepath.Join(t.TempDir(), "q.plan")
	if code, out, errOut := runCLI(t, "plan", dir, "--sim", "--out", planPath); code != 0 {
		t.Fatalf("plan: exit %d %s %s", code, out, errOut)
	}
	orig, err := os.ReadFile(planPath)
	if err != nil {
		t.Fatal(err)
	}
	step := func(p map[string]any, id string) map[string]any {
		for _, s := range p["steps"].([]any) {
			if m := s.(map[string]any); m["id"] == id {
				return m
			}
		}
		t.Fatalf("no step %s", id)
		return nil
	}
	for _, tc := range []struct {
		name string
		edit func(p map[string]any)
		want string
	}{
		{"windows cleared", func(p map[string]any) {
			delete(p, "windows")
			for _, v := range p["vms"].([]any) {
				delete(v.(map[string]any), "window")
			}
			for _, s := range p["steps"].([]any) {
				delete(s.(map[string]any), "window")
			}
		}, "at windows: the plan holds windows none, the runbook declares sat-night"},
		{"window widened", func(p map[string]any) {
			p["windows"].([]any)[0].(map[string]any)["schedule"] = "* * * * *"
		}, "at windows"},
		{"snapshot made disruptive", func(p map[string]any) {
			s := step(p, "vm.db01.snapshot")
			s["disruptive"], s["window"] = true, "sat-night"
		}, "at vm.db01.snapshot: disruptive is true in the plan, false when planned now"},
		{"other target name", func(p map[string]any) {
			step(p, "vm.app01.enable_replication")["inputs"].(map[string]any)["target.name"] = "evil"
		}, `at vm.app01.enable_replication: its inputs differ: target.name is "evil" in the plan, "app01" when planned now`},
		{"hard shutdown", func(p map[string]any) {
			step(p, "vm.db01.shutdown")["inputs"].(map[string]any)["mode"] = "hard"
		}, "at vm.db01.shutdown"},
		{"snapshot left out", func(p map[string]any) {
			var steps []any
			for _, s := range p["steps"].([]any) {
				if s.(map[string]any)["id"] != "vm.db01.snapshot" {
					steps = append(steps, s)
				}
			}
			p["steps"] = steps
			step(p, "vm.db01.shutdown")["depends_on"] = []any{"vm.db01.test_failover_cleanup"}
		}, "at vm.db01.shutdown: depends_on"},
		{"desired stage", func(p map[string]any) {
			p["vms"].([]any)[0].(map[string]any)["desired"] = "completed"
		}, "at vm.app01: desired stage"},
		{"step moved to another VM", func(p map[string]any) {
			step(p, "vm.db01.shutdown")["vm"] = "vm.app02"
		}, "(vm.db01.shutdown): the ID of the shutdown step of vm.app02 must be vm.app02.shutdown"},
		{"dependency on no step", func(p map[string]any) {
			step(p, "vm.db01.shutdown")["depends_on"] = []any{"vm.nowhere.shutdown"}
		}, `depends on "vm.nowhere.shutdown", which is not an earlier step`},
		{"empty step id", func(p map[string]any) {
			step(p, "vm.app01.wait_protected")["id"] = ""
		}, "steps[1]: id is empty"},
		{"no expiry", func(p map[string]any) { delete(p, "expires_at") }, "expires_at: missing"},
		{"unknown kind", func(p map[string]any) {
			s := step(p, "vm.app01.wait_protected")
			s["kind"], s["id"] = "format_disks", "vm.app01.format_disks"
		}, `unknown step kind "format_disks"`},
		{"disruptive flag cleared", func(p map[string]any) {
			s := step(p, "vm.app02.unplanned_failover")
			delete(s, "disruptive")
			delete(s, "window")
		}, "unplanned_failover steps are always disruptive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p map[string]any
			if err := json.Unmarshal(orig, &p); err != nil {
				t.Fatal(err)
			}
			tc.edit(p)
			b, _ := json.MarshalIndent(p, "", "  ")
			// Written as cutover writes plan files, so that each check
			// is met, not apply's refusal of any file that is not
			// byte for byte as cutover wrote it.
			var typed planner.Plan
			if err := json.Unmarshal(b, &typed); err != nil {
				t.Fatal(err)
			}
			if b, err = planfile.Encode(&typed); err != nil {
				t.Fatal(err)
			}
			edited := filepath.Join(filepath.Dir(planPath), "edited.plan")
			if err := os.WriteFile(edited, b, 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := runCLI(t, "apply", edited)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, want 1 and %q:\n%s%s", code, tc.want, out, errOut)
			}
			if strings.Contains(out, "started") {
				t.Fatalf("an edited plan started steps:\n%s", out)
			}
			noJournal(t, dir)
		})
	}
	if code, out, errOut := runCLI(t, "apply", planPath); code != 0 {
		t.Fatalf("unedited plan: exit %d\n%s%s", code, out, errOut)
	}
}

// TestApplyRefusesEditedRollbackPlan: a rollback plan edited to undo a
// step on a VM the apply never touched is refused before anything runs
// (here the VM's live fingerprint already gives it away), and
// verifyRollback refuses undo steps the journal shows no applied step for.
func TestApplyRefusesEditedRollbackPlan(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	dir := copyExample(t, "quickstart")
	editRunbook(t, dir, func(src string) string { return strings.ReplaceAll(src, `"migrated"`, `"replicating"`) })
	if code, out, errOut := runCLI(t, "apply", dir, "--sim", "--auto-approve", "--target", "vm.app01"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	rplan := filepath.Join(t.TempDir(), "r.plan")
	if code, out, errOut := runCLI(t, "rollback", dir, "--sim", "--out", rplan); code != 0 {
		t.Fatalf("rollback: exit %d\n%s%s", code, out, errOut)
	}
	b, err := os.ReadFile(rplan)
	if err != nil {
		t.Fatal(err)
	}
	p, err := planfile.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := journalOf(t, dir).Replay(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyRollback(p, rep.Records); err != nil {
		t.Fatalf("the unedited rollback plan: %v", err)
	}
	edited := strings.ReplaceAll(string(b), "vm.app01", "vm.app02")
	p2, err := planfile.Decode([]byte(edited))
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyRollback(p2, rep.Records); err == nil || !strings.Contains(err.Error(), "at vm.app02.undo.enable_replication: the journal shows no applied vm.app02.enable_replication") {
		t.Fatalf("verifyRollback of the edited plan = %v", err)
	}
	if err := os.WriteFile(rplan, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "apply", rplan)
	if code != 1 || !strings.Contains(errOut, "vm.app02") {
		t.Fatalf("edited rollback plan: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out, "started") {
		t.Fatalf("an edited rollback plan started steps:\n%s", out)
	}
}

func journalOf(t *testing.T, dir string) *journal.FileStore {
	t.Helper()
	s, err := journal.OpenFile(filepath.Join(dir, journal.DefaultDir), "state")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
