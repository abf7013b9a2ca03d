package planner

import (
	"fmt"
	"sort"
	"testing"
	"time"
)

// chainPlan is n VMs, each shut down, failed over and committed inside
// window w (declared for dur), after a wait for initial replication of
// diskGB. Steps are in a topological order, VM by VM.
func chainPlan(n int, dur string, diskGB int64) *Plan {
	p := &Plan{Windows: []WindowInfo{{Name: "w", Schedule: "0 22 * * SAT", Duration: dur, Timezone: "UTC"}}}
	for i := 0; i < n; i++ {
		vm := fmt.Sprintf("vm.app[\"%03d\"]", i)
		p.VMs = append(p.VMs, VMPlan{Address: vm, Window: "w", DiskBytes: diskGB << 30})
		prev := ""
		for _, k := range []StepKind{StepWaitProtected, StepShutdown, StepUnplannedFailover, StepFailoverCommit} {
			s := Step{ID: vm + "." + string(k), VM: vm, Kind: k, Window: "w", Disruptive: kinds[k].disruptive, NoReturn: kinds[k].noReturn}
			if prev != "" {
				s.DependsOn = []string{prev}
			}
			prev = s.ID
			p.Steps = append(p.Steps, s)
		}
	}
	return p
}

// checkSchedule asserts what any schedule must hold: every step has an
// estimate, starts after its dependencies end, and no more than
// parallelism steps overlap.
func checkSchedule(t *testing.T, p *Plan, parallelism int) {
	t.Helper()
	end := map[string]int64{}
	type ev struct {
		at    int64
		delta int
	}
	var evs []ev
	for _, s := range p.Steps {
		if s.Estimate == nil {
			t.Fatalf("%s has no estimate", s.ID)
		}
		for _, d := range s.DependsOn {
			if s.Estimate.StartS < end[d] {
				t.Errorf("%s starts at %d before %s ends at %d", s.ID, s.Estimate.StartS, d, end[d])
			}
		}
		end[s.ID] = s.Estimate.End()
		evs = append(evs, ev{s.Estimate.StartS, 1}, ev{s.Estimate.End(), -1})
	}
	sort.Slice(evs, func(i, j int) bool {
		if evs[i].at != evs[j].at {
			return evs[i].at < evs[j].at
		}
		return evs[i].delta < evs[j].delta
	})
	running := 0
	for _, e := range evs {
		if running += e.delta; running > parallelism {
			t.Fatalf("%d steps run at once at %ds, parallelism %d", running, e.at, parallelism)
		}
	}
}

func TestScheduleFitsAndSpills(t *testing.T) {
	for _, tc := range []struct {
		name        string
		vms         int
		window      string
		parallelism int
		wantSpill   int
	}{
		// Each VM: replication 100 GiB at 100 Mbit/s (8,590 s), then 50 min
		// of disruptive steps. Four VMs at parallelism 4 run side by side.
		{"fits", 4, "6h", 4, 0},
		// At parallelism 1 the VMs queue: only the first ends in 6 h.
		{"spills", 4, "6h", 1, 3},
		{"one window too short for anyone", 2, "2h", 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := chainPlan(tc.vms, tc.window, 100)
			p.Schedule(ScheduleOptions{Parallelism: tc.parallelism})
			checkSchedule(t, p, tc.parallelism)
			if got := p.Steps[0].Estimate; got.DurationS != 8590 || got.Basis != "disk size at 100 Mbit/s" {
				t.Errorf("replication estimate = %+v, want 8590 s from the disk size", got)
			}
			if p.Timeline == nil || len(p.Timeline.Windows) != 1 {
				t.Fatalf("timeline = %+v", p.Timeline)
			}
			w := p.Timeline.Windows[0]
			if len(w.Spill) != tc.wantSpill || w.FitVMs != tc.vms-tc.wantSpill || w.VMs != tc.vms {
				t.Errorf("spill %v, fit %d of %d; want %d spilling", w.Spill, w.FitVMs, w.VMs, tc.wantSpill)
			}
			for _, vm := range w.Spill {
				last := p.Steps[0].Estimate
				for _, s := range p.Steps {
					if s.VM == vm && s.Disruptive {
						last = s.Estimate
					}
				}
				if last.End() <= w.CloseS {
					t.Errorf("%s spills but its last disruptive step ends at %d, close %d", vm, last.End(), w.CloseS)
				}
			}
			if tc.wantSpill == 0 {
				return
			}
			// The suggested parallelism fits, one less does not.
			if w.FitParallelism == 0 {
				if tc.window != "2h" {
					t.Fatalf("no parallelism fits")
				}
				return
			}
			for _, n := range []int{w.FitParallelism, w.FitParallelism - 1} {
				q := chainPlan(tc.vms, tc.window, 100)
				q.Schedule(ScheduleOptions{Parallelism: n})
				if fits := q.Timeline.Windows[0].Fits(); fits != (n == w.FitParallelism) {
					t.Errorf("parallelism %d fits = %v (suggested %d)", n, fits, w.FitParallelism)
				}
			}
		})
	}
}

func TestScheduleEstimateSources(t *testing.T) {
	p := chainPlan(1, "6h", 0)
	p.Windows[0].Estimates = map[string]string{"shutdown": "3m"}
	p.Schedule(ScheduleOptions{Measured: map[StepKind][]time.Duration{
		StepUnplannedFailover: {4 * time.Minute, 9 * time.Minute, 5 * time.Minute},
		StepShutdown:          {time.Hour},
	}})
	want := map[StepKind]Estimate{
		StepWaitProtected:     {DurationS: 7200, Basis: "default"}, // no disk size known
		StepShutdown:          {DurationS: 180, Basis: "window"},   // declared wins over measured
		StepUnplannedFailover: {DurationS: 300, Basis: "median of 3 earlier runs"},
		StepFailoverCommit:    {DurationS: 600, Basis: "default"},
	}
	for _, s := range p.Steps {
		w := want[s.Kind]
		if s.Estimate.DurationS != w.DurationS || s.Estimate.Basis != w.Basis {
			t.Errorf("%s: estimate %+v, want %+v", s.Kind, *s.Estimate, w)
		}
	}
	if got := p.Timeline.EndS; got != 7200+180+300+600 {
		t.Errorf("end = %d", got)
	}
}

func BenchmarkScheduleThousand(b *testing.B) {
	p := chainPlan(1000, "6h", 100)
	for b.Loop() {
		p.Schedule(ScheduleOptions{Parallelism: 10})
	}
}

// Every step kind has a default duration: a kind added without one would
// be scheduled as taking no time.
func TestDefaultDurationsCoverEveryKind(t *testing.T) {
	for k := range kinds {
		if DefaultDurations[k] <= 0 {
			t.Errorf("step kind %s has no default duration", k)
		}
	}
}
