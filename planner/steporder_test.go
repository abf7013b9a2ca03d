package planner

import (
	"fmt"
	"slices"
	"testing"

	"cutover/planner/dag"
)

// TestStepOrderIsTheGraphsOrder checks that Build's index-based sort
// places steps exactly as dag.Graph.TopoSort does, and hands graphs that
// are not DAGs back to it.
func TestStepOrderIsTheGraphsOrder(t *testing.T) {
	// Five VMs' chains, the later VMs' failovers waiting for the earlier
	// ones' (depends_on), one dependency listed twice, in an order unlike
	// the IDs' so that the tie-break shows.
	var wave []Step
	for v := 4; v >= 0; v-- {
		vm := fmt.Sprintf("vm.w%d", v)
		chain := []StepKind{StepEnableReplication, StepWaitProtected, StepTestFailover, StepShutdown, StepUnplannedFailover}
		for k, kind := range chain {
			s := Step{ID: vm + "." + string(kind), VM: vm, Kind: kind}
			if k > 0 {
				s.DependsOn = []string{vm + "." + string(chain[k-1])}
			}
			if kind == StepUnplannedFailover && v > 0 {
				prev := fmt.Sprintf("vm.w%d.%s", v-1, kind)
				s.DependsOn = append(s.DependsOn, prev, prev)
			}
			wave = append(wave, s)
		}
	}
	cycle := []Step{
		{ID: "vm.a.shutdown", DependsOn: []string{"vm.b.shutdown"}},
		{ID: "vm.b.shutdown", DependsOn: []string{"vm.a.shutdown"}},
		{ID: "vm.c.shutdown"},
	}
	unknown := []Step{{ID: "vm.a.shutdown", DependsOn: []string{"vm.gone.shutdown"}}}
	self := []Step{{ID: "vm.a.shutdown", DependsOn: []string{"vm.a.shutdown"}}}
	for _, tc := range []struct {
		name  string
		steps []Step
		dag   bool
	}{
		{"wave", wave, true},
		{"cycle", cycle, false},
		{"unknown step", unknown, false},
		{"waits for itself", self, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			index := map[string]int32{}
			g := dag.New()
			for i, s := range tc.steps {
				index[s.ID] = int32(i)
				g.Add(s.ID)
			}
			for _, s := range tc.steps {
				for _, d := range s.DependsOn {
					g.Connect(s.ID, d)
				}
			}
			order, ok := stepOrder(tc.steps, index)
			if ok != tc.dag {
				t.Fatalf("stepOrder ok = %v, want %v", ok, tc.dag)
			}
			want, err := g.TopoSort()
			if (err == nil) != tc.dag {
				t.Fatalf("the graph's own verdict differs: %v", err)
			}
			if !tc.dag {
				return
			}
			var got []string
			for _, i := range order {
				got = append(got, tc.steps[i].ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("order:\n got %v\nwant %v", got, want)
			}
		})
	}
}
