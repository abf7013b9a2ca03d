package render_test

import (
	"bytes"
	"strings"
	"testing"

	"cutover/planner"
	"cutover/planner/render"
)

// TestRollbackPlanHasNoUndoPreview: a forward plan previews how it would be
// undone; a rollback plan does not preview undoing its undo steps.
func TestRollbackPlanHasNoUndoPreview(t *testing.T) {
	forward := &planner.Plan{Runbook: "r", Steps: []planner.Step{
		{ID: "vm.a.shutdown", VM: "vm.a", Kind: planner.StepShutdown, Inverse: planner.StepPowerOn},
	}}
	rollback := &planner.Plan{Runbook: "r", Steps: []planner.Step{
		{ID: "vm.a" + planner.UndoInfix + "shutdown", VM: "vm.a", Kind: planner.StepPowerOn, Inverse: planner.StepShutdown},
	}}
	for _, tc := range []struct {
		name string
		p    *planner.Plan
		want bool
	}{{"forward", forward, true}, {"rollback", rollback, false}} {
		var buf bytes.Buffer
		if err := render.Human(&buf, tc.p, render.HumanOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(buf.String(), "rollback preview"); got != tc.want {
			t.Errorf("%s plan: preview shown %v, want %v:\n%s", tc.name, got, tc.want, buf.String())
		}
	}
}
