package planner

import (
	"fmt"
	"sort"
	"time"

	"cutover/window"
)

// The timeline is the plan's answer to "when will this happen, and does it
// fit the window?". It is a list schedule of the DAG: steps start in plan
// order as soon as their dependencies are done and one of Parallelism
// slots is free, which is what the executor's walk does. Time is counted
// in seconds from the start of the run, and the run is taken to start as
// each window opens (apply --wait-for-window started by the schedule), so a
// window closes at its duration. Replication a team starts in an earlier
// run (to stage replicating) is not on this timeline: its steps are not in
// the plan.

// Estimate is when a step is expected to start and how long it takes.
type Estimate struct {
	StartS    int64 `json:"start_s"`
	DurationS int64 `json:"duration_s"`
	// Basis says where the duration came from: "default", "window"
	// (the window's estimates), "median of N earlier runs" or
	// "disk size at M Mbit/s".
	Basis string `json:"basis"`
}

// End is when the step is expected to finish.
func (e Estimate) End() int64 { return e.StartS + e.DurationS }

// Timeline summarises the schedule.
type Timeline struct {
	Parallelism    int     `json:"parallelism"`
	ThroughputMbps float64 `json:"throughput_mbps"`
	// EndS is when the last step is expected to finish.
	EndS    int64            `json:"end_s"`
	Windows []WindowTimeline `json:"windows,omitempty"`
}

// WindowTimeline is one window's disruptive part against its close.
type WindowTimeline struct {
	Name string `json:"name"`
	// CloseS is the window's duration: when it closes, from the run's start.
	CloseS int64 `json:"close_s"`
	// DisruptiveStartS and DisruptiveEndS bound the window's disruptive
	// steps (points of no return included).
	DisruptiveStartS int64 `json:"disruptive_start_s"`
	DisruptiveEndS   int64 `json:"disruptive_end_s"`
	DisruptiveSteps  int   `json:"disruptive_steps"`
	VMs              int   `json:"vms"`
	// Spill lists, in plan order, the VMs with a disruptive step expected
	// to end after the close: apply leaves those steps for the window's
	// next opening (exit 3).
	Spill []string `json:"spill"`
	// FitParallelism is the smallest parallelism at which every disruptive
	// step ends by the close, when some parallelism up to maxFitParallelism
	// does; 0 otherwise (the longest chain alone is too long).
	FitParallelism int `json:"fit_parallelism,omitempty"`
	// FitVMs is how many of the window's VMs end in time at the run's
	// parallelism: the size of a wave that fits.
	FitVMs int `json:"fit_vms"`
}

// Fits reports whether every disruptive step ends by the close.
func (w WindowTimeline) Fits() bool { return len(w.Spill) == 0 }

// ScheduleOptions tune the timeline.
type ScheduleOptions struct {
	// Parallelism is apply's --parallelism; 0 means 10, apply's default.
	Parallelism int
	// ThroughputMbps is the replication throughput one VM's initial
	// replication gets, in Mbit/s; 0 means DefaultThroughputMbps.
	ThroughputMbps float64
	// Measured are durations of earlier applies' steps by kind, from the
	// journals; their median replaces the default.
	Measured map[StepKind][]time.Duration
}

// DefaultThroughputMbps is the initial replication throughput assumed per
// VM. A GUESS: Microsoft's capacity planning for agent-based replication
// starts from the link and the process server's churn; 100 Mbit/s is a
// modest share of a 1 Gbit/s uplink for one VM.
const DefaultThroughputMbps = 100

// DefaultDurations are how long each step kind is expected to take when
// nothing better is known. GUESSes, on the long side: a plan that says a
// wave fits should not be proven wrong by an ordinary night. The five
// disruptive kinds of DefaultWindowEstimates are taken from here.
var DefaultDurations = map[StepKind]time.Duration{
	StepRelocate:           30 * time.Minute,
	StepMakeFTPrimary:      5 * time.Minute,
	StepCloneRehearsal:     20 * time.Minute,
	StepCustomizeRehearsal: 10 * time.Minute,
	StepSnapshot:           2 * time.Minute,
	StepShutdown:           10 * time.Minute,
	StepPowerOn:            5 * time.Minute,
	StepRemoveSnapshot:     5 * time.Minute,
	StepDestroyClone:       5 * time.Minute,
	StepEnableReplication:  10 * time.Minute,
	StepUpdateReplication:  5 * time.Minute,
	StepWaitProtected:      2 * time.Hour, // only when the disk size is unknown
	StepTestFailover:       20 * time.Minute,
	StepTestCleanup:        10 * time.Minute,
	StepUnplannedFailover:  30 * time.Minute,
	StepFailoverCancel:     15 * time.Minute,
	StepFailoverCommit:     10 * time.Minute,
	StepCompleteMigration:  10 * time.Minute,
	StepDisableReplication: 5 * time.Minute,
	StepDeallocateAzureVM:  10 * time.Minute,
}

// maxFitParallelism bounds the search for a parallelism that fits.
const maxFitParallelism = 1024

// Schedule sets every step's Estimate and the plan's Timeline.
func (p *Plan) Schedule(opts ScheduleOptions) {
	if opts.Parallelism <= 0 {
		opts.Parallelism = 10
	}
	if opts.ThroughputMbps <= 0 {
		opts.ThroughputMbps = DefaultThroughputMbps
	}
	durs := p.durations(opts)
	g := newSchedGraph(p.Steps)
	starts := g.listSchedule(durs, opts.Parallelism)
	tl := &Timeline{Parallelism: opts.Parallelism, ThroughputMbps: opts.ThroughputMbps}
	for i := range p.Steps {
		e := &Estimate{StartS: secs(starts[i]), DurationS: secs(durs[i].d), Basis: durs[i].basis}
		p.Steps[i].Estimate = e
		tl.EndS = max(tl.EndS, e.End())
	}
	// Schedules at other parallelisms, shared by the windows' searches.
	memo := map[int][]time.Duration{opts.Parallelism: starts}
	scheduleAt := func(n int) []time.Duration {
		if s, ok := memo[n]; ok {
			return s
		}
		memo[n] = g.listSchedule(durs, n)
		return memo[n]
	}
	for _, w := range p.Windows {
		wt, ok := p.windowTimeline(w, starts, durs)
		if !ok {
			continue
		}
		if !wt.Fits() {
			wt.FitParallelism = p.fitParallelism(w, durs, opts.Parallelism, scheduleAt)
		}
		tl.Windows = append(tl.Windows, wt)
	}
	p.Timeline = tl
}

func secs(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }

type duration struct {
	d     time.Duration
	basis string
}

// durations estimates each step: the window's declared estimate, else the
// median of earlier runs, else the disk size (initial replication), else
// the default for its kind.
func (p *Plan) durations(opts ScheduleOptions) []duration {
	declared := map[string]map[string]string{}
	for _, w := range p.Windows {
		declared[w.Name] = w.Estimates
	}
	disk := map[string]int64{}
	for _, vm := range p.VMs {
		disk[vm.Address] = vm.DiskBytes
	}
	medians := map[StepKind]duration{}
	for k, ds := range opts.Measured {
		if len(ds) > 0 {
			medians[k] = duration{median(ds), fmt.Sprintf("median of %d earlier %s", len(ds), plural(len(ds), "run", "runs"))}
		}
	}
	out := make([]duration, len(p.Steps))
	for i, s := range p.Steps {
		if v, ok := declared[s.Window][string(s.Kind)]; ok {
			if d, err := time.ParseDuration(v); err == nil {
				out[i] = duration{d, "window"}
				continue
			}
		}
		if s.Kind == StepWaitProtected && disk[s.VM] > 0 {
			bits := float64(disk[s.VM]) * 8
			d := time.Duration(bits / (opts.ThroughputMbps * 1e6) * float64(time.Second))
			out[i] = duration{d, fmt.Sprintf("disk size at %g Mbit/s", opts.ThroughputMbps)}
			continue
		}
		if m, ok := medians[s.Kind]; ok {
			out[i] = m
			continue
		}
		out[i] = duration{DefaultDurations[s.Kind], "default"}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// median of ds; the mean of the middle two for an even count.
func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// schedGraph is the plan's DAG by step index, built once per Schedule and
// shared by the schedules at every parallelism the windows' searches try
// (ten or more at 10,000 VMs: rebuilding the index of step IDs for each
// was most of planning's own CPU).
type schedGraph struct {
	deps       []int32   // how many dependencies each step waits for
	dependents [][]int32 // the steps waiting for each step
}

func newSchedGraph(steps []Step) *schedGraph {
	index := make(map[string]int32, len(steps))
	for i, s := range steps {
		index[s.ID] = int32(i)
	}
	g := &schedGraph{deps: make([]int32, len(steps)), dependents: make([][]int32, len(steps))}
	for i, s := range steps {
		for _, d := range s.DependsOn {
			if j, ok := index[d]; ok {
				g.deps[i]++
				g.dependents[j] = append(g.dependents[j], int32(i))
			}
		}
	}
	return g
}

// listSchedule returns each step's start: a step starts when its
// dependencies have ended and a slot is free, earlier steps in plan order
// first.
func (g *schedGraph) listSchedule(durs []duration, parallelism int) []time.Duration {
	n := len(g.deps)
	waiting := append([]int32(nil), g.deps...)
	ready := &minHeap[int32]{a: make([]int32, 0, n), less: func(a, b int32) bool { return a < b }}
	for i := range n {
		if waiting[i] == 0 {
			ready.push(int32(i))
		}
	}
	starts := make([]time.Duration, n)
	running := &minHeap[ending]{a: make([]ending, 0, min(parallelism, n)), less: endsFirst}
	var now time.Duration
	for ready.len() > 0 || running.len() > 0 {
		for ready.len() > 0 && running.len() < parallelism {
			i := ready.pop()
			starts[i] = now
			running.push(ending{now + durs[i].d, i})
		}
		if running.len() == 0 {
			break
		}
		e := running.pop()
		now = e.at
		for _, j := range g.dependents[e.step] {
			if waiting[j]--; waiting[j] == 0 {
				ready.push(j)
			}
		}
	}
	return starts
}

// windowTimeline measures one window's disruptive steps against its close.
func (p *Plan) windowTimeline(w WindowInfo, starts []time.Duration, durs []duration) (WindowTimeline, bool) {
	pw, err := window.Parse(w.Schedule, w.Duration, w.Timezone)
	if err != nil {
		return WindowTimeline{}, false
	}
	close := pw.Duration()
	wt := WindowTimeline{Name: w.Name, CloseS: secs(close), Spill: []string{}}
	vms := map[string]bool{}
	late := map[string]bool{}
	var order []string
	first := true
	for i, s := range p.Steps {
		if s.Window != w.Name || !(s.Disruptive || s.NoReturn) {
			continue
		}
		if !vms[s.VM] {
			vms[s.VM] = true
			order = append(order, s.VM)
		}
		start, end := starts[i], starts[i]+durs[i].d
		if first || secs(start) < wt.DisruptiveStartS {
			wt.DisruptiveStartS = secs(start)
		}
		first = false
		wt.DisruptiveEndS = max(wt.DisruptiveEndS, secs(end))
		wt.DisruptiveSteps++
		if end > close {
			late[s.VM] = true
		}
	}
	if wt.DisruptiveSteps == 0 {
		return wt, false
	}
	wt.VMs = len(order)
	for _, vm := range order {
		if late[vm] {
			wt.Spill = append(wt.Spill, vm)
		}
	}
	wt.FitVMs = wt.VMs - len(wt.Spill)
	return wt, true
}

// fitParallelism finds the smallest parallelism above from at which the
// window's disruptive steps all end by its close, or 0 when none up to
// maxFitParallelism does.
func (p *Plan) fitParallelism(w WindowInfo, durs []duration, from int, scheduleAt func(int) []time.Duration) int {
	fits := func(n int) bool {
		wt, ok := p.windowTimeline(w, scheduleAt(n), durs)
		return ok && wt.Fits()
	}
	hi := from
	for !fits(hi) {
		if hi >= maxFitParallelism {
			return 0
		}
		hi = min(hi*2, maxFitParallelism)
	}
	lo := from // does not fit
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if fits(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

type ending struct {
	at   time.Duration
	step int32
}

// endsFirst orders running steps by their end, then by plan order.
func endsFirst(a, b ending) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.step < b.step
}

// minHeap is a binary min-heap without container/heap's boxing of every
// pushed value (an allocation per step per schedule tried).
type minHeap[T any] struct {
	a    []T
	less func(a, b T) bool
}

func (h *minHeap[T]) len() int { return len(h.a) }

func (h *minHeap[T]) push(x T) {
	h.a = append(h.a, x)
	a := h.a
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(a[i], a[p]) {
			break
		}
		a[i], a[p] = a[p], a[i]
		i = p
	}
}

func (h *minHeap[T]) pop() T {
	a := h.a
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	a = a[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(a) && h.less(a[l], a[m]) {
			m = l
		}
		if r < len(a) && h.less(a[r], a[m]) {
			m = r
		}
		if m == i {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	h.a = a
	return top
}
