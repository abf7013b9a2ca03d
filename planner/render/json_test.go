package render_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"cutover/planner"
	"cutover/planner/render"
)

// TestJSONShape checks the contract policy checks rely on: every field is
// present even when empty, counts agree with the plan, and steps carry
// their DAG edges and flags.
func TestJSONShape(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"multi-tier-discovered", "quickstart-commit", "quickstart-no-changes"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := scenarioPlan(t, name)
			var buf bytes.Buffer
			if err := render.JSON(&buf, p); err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"format_version", "summary", "vms", "steps", "undo", "windows", "variables", "has_changes"} {
				if _, ok := doc[k]; !ok {
					t.Errorf("no %q", k)
				}
			}
			if doc["format_version"] != float64(render.JSONFormatVersion) {
				t.Errorf("format_version = %v", doc["format_version"])
			}
			if doc["has_changes"] != p.HasChanges() {
				t.Errorf("has_changes = %v", doc["has_changes"])
			}

			var got struct {
				Summary map[string]int `json:"summary"`
				VMs     []struct {
					Address string   `json:"address"`
					Steps   []string `json:"steps"`
				} `json:"vms"`
				Steps []map[string]any `json:"steps"`
				Undo  struct {
					NoReturn []string `json:"no_return"`
				} `json:"undo"`
			}
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			s := p.Summarize()
			for k, want := range map[string]int{"replicate": s.Replicate, "update": s.Update, "test": s.Test, "failover": s.Failover,
				"commit": s.Commit, "disruptive": s.Disruptive, "no_return": s.NoReturn, "unchanged": s.Unchanged, "steps": len(p.Steps), "vms": len(p.VMs)} {
				if got.Summary[k] != want {
					t.Errorf("summary.%s = %d, want %d", k, got.Summary[k], want)
				}
			}
			if len(got.Steps) != len(p.Steps) || len(got.VMs) != len(p.VMs) {
				t.Fatalf("%d steps, %d vms", len(got.Steps), len(got.VMs))
			}
			for i, js := range got.Steps {
				st := p.Steps[i]
				if js["id"] != st.ID || js["kind"] != string(st.Kind) || js["vm"] != st.VM ||
					js["disruptive"] != st.Disruptive || js["no_return"] != st.NoReturn {
					t.Errorf("step %d = %v, plan has %+v", i, js, st)
				}
				for _, k := range []string{"depends_on", "inputs", "changes", "gate", "window", "inverse"} {
					if v, ok := js[k]; !ok || v == nil {
						t.Errorf("step %s: %s is missing or null", st.ID, k)
					}
				}
				if deps, _ := js["depends_on"].([]any); len(deps) != len(st.DependsOn) {
					t.Errorf("step %s depends on %v, plan says %v", st.ID, deps, st.DependsOn)
				}
			}
			var nr []string
			for _, st := range p.Steps {
				if st.NoReturn {
					nr = append(nr, st.ID)
				}
			}
			if len(got.Undo.NoReturn) != len(nr) {
				t.Errorf("undo.no_return = %v, want %v", got.Undo.NoReturn, nr)
			}
		})
	}
}

// TestJSONDoesNotAliasThePlan guards the view: redaction must copy, never
// write into the caller's plan.
func TestJSONDoesNotAliasThePlan(t *testing.T) {
	t.Parallel()
	p := &planner.Plan{
		VMs: []planner.VMPlan{{Address: "vm.a", Size: "Standard_D2s_v5", Sensitive: []string{"target.size"}}},
		Steps: []planner.Step{{ID: "vm.a.enable_replication", VM: "vm.a", Kind: planner.StepEnableReplication,
			Inputs: map[string]string{"target.size": "Standard_D2s_v5"}}},
	}
	var buf bytes.Buffer
	if err := render.JSON(&buf, p); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("Standard_D2s_v5")) {
		t.Errorf("sensitive size rendered:\n%s", buf.String())
	}
	if p.VMs[0].Size != "Standard_D2s_v5" || p.Steps[0].Inputs["target.size"] != "Standard_D2s_v5" {
		t.Error("rendering changed the plan")
	}
}
