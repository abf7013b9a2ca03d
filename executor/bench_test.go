package executor_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vmware/govmomi/vim25/soap"

	"cutover/executor"
	"cutover/executor/action"
	"cutover/executor/journal"
	"cutover/planner"
	"cutover/providers/azure"
	"cutover/providers/azure/azuresim"
	"cutover/providers/simworld"
	"cutover/providers/vcenter"
	"cutover/schema"
)

// The simulated enable-replication job lasts the simulator's base duration
// for EnableDr (4 s at TimeScale 1, see baseDurations in
// providers/azure/azuresim/lifecycle.go) times benchTimeScale: 240 ms at
// 0.06, the job length the scale goals are stated for, with the service
// asking for a poll every 60 ms (simworld sets PollAfter from the scale).
// A step also costs what does not shrink with the job: the item read
// before it, the PUT, the reads that see its job end and three synced
// journal writes. Real enable jobs run for minutes; at 240 ms that fixed
// cost shows in mean-step-s and in the ratio, and 1,000 steps at
// parallelism 10 take about 25 s.
const (
	benchVMs        = 1000
	benchTimeScale  = 0.06
	benchEnableBase = 4 * time.Second
)

// soapCounter counts vCenter SOAP round trips.
type soapCounter struct {
	next soap.RoundTripper
	n    atomic.Int64
}

func (c *soapCounter) RoundTrip(ctx context.Context, req, res soap.HasFault) error {
	c.n.Add(1)
	return c.next.RoundTrip(ctx, req, res)
}

// timings records when the first step was started, to tell the fixed
// cost of an apply's start (discovery, lock, replay) from the walk, and
// how long steps took from their start to their success, to tell the
// per-step overhead (requests, polling, journal) from the job itself.
type timings struct {
	first     atomic.Int64
	stepTotal atomic.Int64
	steps     atomic.Int64
}

func (f *timings) Report(e executor.Event) {
	switch e.Kind {
	case executor.EventStepStarted:
		f.first.CompareAndSwap(0, time.Now().UnixNano())
	case executor.EventStepSucceeded:
		f.stepTotal.Add(int64(e.Duration))
		f.steps.Add(1)
	}
}

// replicatingRunbook writes the csv-wave example with n VMs, every one at
// stage "replicating", and decodes it.
func replicatingRunbook(tb testing.TB, n int) *schema.Runbook {
	tb.Helper()
	dir := tb.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "examples", "csv-wave", "main.hcl"))
	if err != nil {
		tb.Fatal(err)
	}
	// The NIC's static IP takes an update after the enable; without the
	// nic block each VM is one enable_replication step, the schedule the
	// bound describes.
	const nic = "    nic {\n      mac       = each.value.mac\n      primary   = true\n      static_ip = each.value.ip\n    }\n"
	if !strings.Contains(string(src), nic) {
		tb.Fatal("examples/csv-wave/main.hcl no longer has the nic block this benchmark leaves out")
	}
	src = []byte(strings.Replace(string(src), nic, "", 1))
	var csv strings.Builder
	csv.WriteString("name,size,subnet,ip,disk_type,stage,mac\n")
	for i := range n {
		fmt.Fprintf(&csv, "vm%05d,Standard_D2s_v5,app,10.%d.%d.%d,Premium_LRS,replicating,00:50:56:%02x:%02x:%02x\n",
			i, i>>16&255, i>>8&255, i&255, i>>16&255, i>>8&255, i&255)
	}
	for name, content := range map[string]string{"main.hcl": string(src), "wave1.csv": csv.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	rb, diags := schema.LoadDir(dir, schema.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		tb.Fatal(diags.Error())
	}
	return rb
}

// benchApply is one apply, ready to run: a fresh simulated world, real
// clients, the plan built from it and an empty journal.
type benchApply struct {
	world   *simworld.World
	soap    *soapCounter
	ex      *executor.Executor
	times   *timings
	plan    *planner.Plan
	store   journal.Store
	actions executor.Actions
	close   []func()
}

func (a *benchApply) Close() {
	for i := len(a.close) - 1; i >= 0; i-- {
		a.close[i]()
	}
}

func newBenchApply(b *testing.B, rb *schema.Runbook, parallelism int) *benchApply {
	b.Helper()
	ctx := context.Background()
	a := &benchApply{soap: &soapCounter{}, times: &timings{}}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	w, err := simworld.Open(ctx, rb, b.TempDir(), simworld.Options{TimeScale: benchTimeScale, InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	a.world = w
	a.close = append(a.close, w.Close)
	vc, err := vcenter.Connect(ctx, w.VCenterConfigs["dc1"], vcenter.WithTransport(func(rt soap.RoundTripper) soap.RoundTripper {
		a.soap.next = rt
		return a.soap
	}))
	if err != nil {
		b.Fatal(err)
	}
	a.close = append(a.close, func() { _ = vc.Close(context.Background()) })
	az, err := azure.New(w.AzureConfigs["migrate"], w.AzureOptions())
	if err != nil {
		b.Fatal(err)
	}

	snap, problems, err := planner.Refresh(ctx, rb, planner.Sources{
		VCenters: map[string]planner.VCenterReader{"dc1": vc},
		Azures:   map[string]planner.AzureReader{"migrate": az},
	})
	if err != nil || len(problems) > 0 {
		b.Fatalf("refresh: %v %v", err, problems)
	}
	p, problems := planner.Build(rb, snap.Live, planner.Options{Now: time.Now()})
	if len(problems) > 0 {
		b.Fatal(problems)
	}
	if len(p.Steps) != benchVMs {
		b.Fatalf("plan has %d steps, want one per VM", len(p.Steps))
	}
	for _, s := range p.Steps {
		if s.Kind != planner.StepEnableReplication {
			b.Fatalf("plan step %s is %s, want only enable_replication", s.ID, s.Kind)
		}
	}

	runner, err := action.NewRunner(action.Env{
		Runbook:  rb,
		VCenters: map[string]*vcenter.Client{"dc1": vc},
		Azures:   map[string]*azure.Client{"migrate": az},
		Refresh:  snap,
	})
	if err != nil {
		b.Fatal(err)
	}
	a.close = append(a.close, runner.Close)
	store, err := journal.OpenFile(b.TempDir(), "state")
	if err != nil {
		b.Fatal(err)
	}
	a.close = append(a.close, func() { _ = store.Close() })
	a.plan, a.store, a.actions = p, store, runner.Actions()
	a.ex, err = executor.New(executor.Config{
		Plan: p, PlanID: "bench", Store: store, Actions: runner.Actions(), Reporter: a.times,
		Parallelism: parallelism, GatePoll: 200 * time.Millisecond,
	})
	if err != nil {
		b.Fatal(err)
	}
	ok = true
	return a
}

// BenchmarkApplyThousandVMs applies 1,000 VMs to "replicating" (one
// enable_replication step each) against the simulators with every real
// component: planner, action runner, file journal, executor. It reports the
// wall time of an apply (ns/op), the requests it sent, and its ratio to
// the schedule's lower bound, max(critical path, total step time /
// parallelism), with the enable job's simulated duration as the step time
// and nothing else: a step's requests, polling and journal writes count
// against the apply, and so does its start. Each VM is one step with no
// dependencies, so the critical path is one job. The targets are 1.1 at
// parallelism 10 and 1.2 at 100. With ARM's write throttle on, the bound
// is the throttle's floor, (N − burst) / rate = 80 s, and the target 1.15;
// azure-429s/op counts the writes ARM refused. first-start-s is how long
// the apply took to start its first step. mean-step-s is a step's mean
// time from its request to its success, against the job's duration
// (0.24 s): the difference is the cost of the step's requests and of
// seeing its job end, under load. job-list-pages/vm and job-reads/vm are
// the polling's share of azure-reqs/vm.
//
// Each apply needs a world where nothing is enabled yet, so every
// iteration builds one (outside the timer); run it with -benchtime=1x.
func BenchmarkApplyThousandVMs(b *testing.B) {
	if testing.Short() {
		b.Skip("applies 1,000 VMs")
	}
	rb := replicatingRunbook(b, benchVMs)
	enable := time.Duration(float64(benchEnableBase) * benchTimeScale)
	arm := azuresim.ARMWriteThrottle
	cases := []struct {
		par      int
		throttle azuresim.Throttle
	}{
		{10, azuresim.Throttle{}},
		{100, azuresim.Throttle{}},
		// ARM's write budget switched on in the simulated vault, and the
		// client's at its default (the same): the floor is the time the
		// bucket takes to admit every enable, (N − burst) / rate.
		{100, arm},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("parallelism=%d", tc.par)
		if tc.throttle.WritesPerSecond > 0 {
			name += ",arm-write-throttle"
		}
		b.Run(name, func(b *testing.B) {
			lower := max(enable, time.Duration(benchVMs)*enable/time.Duration(tc.par))
			if r := tc.throttle.WritesPerSecond; r > 0 {
				lower = max(lower, time.Duration(float64(benchVMs-tc.throttle.Burst)/r*float64(time.Second)))
			}
			var azReqs, vcReqs, refused, jobPages, jobReads int64
			var wall, startup, stepTime time.Duration
			for b.Loop() {
				b.StopTimer()
				a := newBenchApply(b, rb, tc.par)
				vault := a.world.Vaults["migrate"]
				vault.SetThrottle(tc.throttle)
				azBefore, vcBefore := len(vault.Requests()), a.soap.n.Load()
				b.StartTimer()

				began := time.Now()
				res, err := a.ex.Run(context.Background())
				took := time.Since(began)

				b.StopTimer()
				for _, r := range vault.Requests()[azBefore:] {
					if r.Status == http.StatusTooManyRequests {
						refused++
					}
				}
				pages, reads := polling(vault.Requests()[azBefore:])
				jobPages += pages
				jobReads += reads
				azReqs += int64(len(vault.Requests()) - azBefore)
				vcReqs += a.soap.n.Load() - vcBefore
				wall += took
				startup += time.Duration(a.times.first.Load() - began.UnixNano())
				stepTime += time.Duration(a.times.stepTotal.Load() / max(1, a.times.steps.Load()))
				a.Close()
				if err != nil {
					b.Fatal(err)
				}
				if !res.OK() || len(res.Succeeded) != benchVMs {
					first := ""
					if len(res.Failed) > 0 {
						first = fmt.Sprintf(" (first: %v)", res.Failed[0].Err)
					}
					b.Fatalf("apply: %d succeeded, %d failed%s, %d blocked, %d pending",
						len(res.Succeeded), len(res.Failed), first, len(res.Blocked), len(res.Pending))
				}
				if took < lower {
					b.Fatalf("apply took %v, under the lower bound %v: the simulated job duration is not %v", took, lower, enable)
				}
				b.StartTimer()
			}
			n := float64(b.N)
			b.ReportMetric(float64(azReqs)/n, "azure-reqs/op")
			b.ReportMetric(float64(azReqs)/n/benchVMs, "azure-reqs/vm")
			b.ReportMetric(float64(refused)/n, "azure-429s/op")
			b.ReportMetric(float64(jobPages)/n/benchVMs, "job-list-pages/vm")
			b.ReportMetric(float64(jobReads)/n/benchVMs, "job-reads/vm")
			b.ReportMetric(float64(vcReqs)/n, "vcenter-calls/op")
			b.ReportMetric(lower.Seconds(), "lower-bound-s")
			b.ReportMetric(startup.Seconds()/n, "first-start-s")
			b.ReportMetric(stepTime.Seconds()/n, "mean-step-s")
			b.ReportMetric(wall.Seconds()/n/lower.Seconds(), "wall/lower-bound")
		})
	}
}

// polling counts the requests that followed running operations: pages of
// the vault's job list, and jobs read one by one.
func polling(reqs []azuresim.Request) (pages, reads int64) {
	for _, r := range reqs {
		switch {
		case strings.HasSuffix(r.Path, "/replicationJobs"):
			pages++
		case strings.Contains(r.Path, "/replicationJobs/"):
			reads++
		}
	}
	return pages, reads
}
