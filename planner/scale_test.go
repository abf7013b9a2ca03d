package planner_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vmware/govmomi/vim25/soap"

	"cutover/planner"
	"cutover/providers/azure"
	"cutover/providers/simworld"
	"cutover/providers/vcenter"
	"cutover/schema"
)

// soapCalls counts SOAP requests by method name.
type soapCalls struct {
	next soap.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func (c *soapCalls) RoundTrip(ctx context.Context, req, res soap.HasFault) error {
	name := strings.TrimSuffix(reflect.TypeOf(req).Elem().Name(), "Body")
	c.mu.Lock()
	c.n[name]++
	c.mu.Unlock()
	return c.next.RoundTrip(ctx, req, res)
}

func (c *soapCalls) propertyCollector() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n["RetrievePropertiesEx"] + c.n["ContinueRetrievePropertiesEx"] + c.n["RetrieveProperties"] + c.n["WaitForUpdatesEx"]
}

// waveRunbook writes the csv-wave example with n rows and decodes it.
func waveRunbook(tb testing.TB, n int) *schema.Runbook {
	tb.Helper()
	dir := tb.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "examples", "csv-wave", "main.hcl"))
	if err != nil {
		tb.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("name,size,subnet,ip,disk_type,stage,mac\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&csv, "vm%05d,Standard_D2s_v5,app,10.%d.%d.%d,Premium_LRS,migrated,00:50:56:%02x:%02x:%02x\n",
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

type scaleWorld struct {
	rb    *schema.Runbook
	world *simworld.World
	src   planner.Sources
	calls *soapCalls
}

func openScaleWorld(tb testing.TB, n int) *scaleWorld {
	tb.Helper()
	return openScaleWorldIn(tb, n, func(*schema.Runbook) string { return tb.TempDir() })
}

func openScaleWorldIn(tb testing.TB, n int, dir func(*schema.Runbook) string) *scaleWorld {
	tb.Helper()
	ctx := context.Background()
	rb := waveRunbook(tb, n)
	w, err := simworld.Open(ctx, rb, dir(rb), simworld.Options{TimeScale: 0.001, InMemory: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(w.Close)
	calls := &soapCalls{n: map[string]int{}}
	vc, err := vcenter.Connect(ctx, w.VCenterConfigs["dc1"], vcenter.WithTransport(func(rt soap.RoundTripper) soap.RoundTripper {
		calls.next = rt
		return calls
	}))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = vc.Close(context.Background()) })
	az, err := azure.New(w.AzureConfigs["migrate"], w.AzureOptions())
	if err != nil {
		tb.Fatal(err)
	}
	return &scaleWorld{rb: rb, world: w, calls: calls, src: planner.Sources{
		VCenters: map[string]planner.VCenterReader{"dc1": vc},
		Azures:   map[string]planner.AzureReader{"migrate": az},
	}}
}

func (s *scaleWorld) plan(tb testing.TB) *planner.Plan {
	snap, problems, err := planner.Refresh(context.Background(), s.rb, s.src)
	if err != nil || len(problems) > 0 {
		tb.Fatalf("refresh: %v %v", err, problems)
	}
	p, problems := planner.Build(s.rb, snap.Live, planner.Options{Now: time.Now()})
	if len(problems) > 0 {
		tb.Fatal(problems)
	}
	return p
}

// TestPlanThousandVMsBoundedRequests plans 1,000 VMs against the simulators
// and counts what it cost: vCenter property-collector round trips (at most
// 3: the container view's member list, then two batches of a thousand
// named objects) and Azure requests (a fixed number plus one per page).
func TestPlanThousandVMsBoundedRequests(t *testing.T) {
	s := openScaleWorld(t, 1000)
	before := len(s.world.Vaults["migrate"].Requests())
	s.calls.mu.Lock()
	s.calls.n = map[string]int{}
	s.calls.mu.Unlock()

	p := s.plan(t)
	if len(p.VMs) != 1000 {
		t.Fatalf("%d VMs planned", len(p.VMs))
	}
	if pc := s.calls.propertyCollector(); pc > 3 {
		t.Errorf("vCenter property-collector round trips = %d, want <= 3 (%v)", pc, s.calls.n)
	}
	reqs := s.world.Vaults["migrate"].Requests()[before:]
	pages := map[string]int{}
	for _, r := range reqs {
		switch {
		case strings.HasSuffix(r.Path, "/machines"):
			pages["machines"]++
		case strings.HasSuffix(r.Path, "/replicationProtectedItems"):
			pages["items"]++
		default:
			pages["other"]++
		}
	}
	// 1,000 machines at the simulator's 100 per page; no items yet.
	if pages["machines"] != 10 || pages["items"] != 1 || pages["other"] > 6 {
		t.Errorf("Azure requests by kind = %v (total %d), want 10 machine pages, 1 item page and a fixed few others", pages, len(reqs))
	}
	t.Logf("planning 1,000 VMs: %d vCenter calls %v, %d Azure requests %v", len(s.calls.n), s.calls.n, len(reqs), pages)
}

// BenchmarkPlan measures refresh + build against the simulators.
func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("vms=%d", n), func(b *testing.B) {
			s := openScaleWorld(b, n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.plan(b)
			}
		})
	}
}

// cutoverBinary builds the CLI once per test process, for benchmarks that
// measure a plan as users run it: its own process, its own peak RSS.
var cutoverBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "cutover-bench-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "cutover")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/cutover").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// BenchmarkPlanScale plans n VMs against the simulators twice per
// iteration: once in this process, counting vCenter round trips and Azure
// requests, and once as `cutover plan DIR --sim --out FILE` in its own
// process against the same simulators (served from here), whose wall time
// and peak RSS (VmHWM of the child, see runPeakRSS) are what a user's plan
// costs. The
// human plan goes to a file. 50,000 VMs take minutes to build in vcsim;
// they run only with CUTOVER_BENCH_50K=1; CUTOVER_BENCH_VMS picks other
// sizes. With govc on PATH, a bare
// `govc object.collect` of the same VM properties is timed beside it.
//
//	go test ./planner -run XXX -bench PlanScale -benchtime 1x
func BenchmarkPlanScale(b *testing.B) {
	sizes := []int{1000, 10000}
	if os.Getenv("CUTOVER_BENCH_50K") != "" {
		sizes = append(sizes, 50000)
	}
	// CUTOVER_BENCH_VMS=2000,3000 plans those sizes instead, to look at
	// one without building the big worlds.
	if v := os.Getenv("CUTOVER_BENCH_VMS"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				b.Fatalf("CUTOVER_BENCH_VMS=%q: want VM counts separated by commas", v)
			}
			sizes = append(sizes, n)
		}
	}
	bin, err := cutoverBinary()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("vms=%d", n), func(b *testing.B) {
			began := time.Now()
			s := openServedScaleWorld(b, n)
			b.Logf("simulated world of %d VMs built in %v", n, time.Since(began).Round(time.Second))
			vault := s.world.Vaults["migrate"]
			var rt, azReqs, cliWall, cliCPU, simCPU, simGC, rss, collect float64
			for b.Loop() {
				s.calls.mu.Lock()
				s.calls.n = map[string]int{}
				s.calls.mu.Unlock()
				before := len(vault.Requests())
				s.plan(b)
				rt += float64(s.calls.total())
				azReqs += float64(len(vault.Requests()) - before)

				b.StopTimer()
				out, err := os.Create(filepath.Join(b.TempDir(), "plan.txt"))
				if err != nil {
					b.Fatal(err)
				}
				cmd := exec.Command(bin, "plan", s.rb.Dir, "--sim", "--no-color", "--out", filepath.Join(s.rb.Dir, "wave.plan"))
				cmd.Stdout, cmd.Stderr = out, out
				t0, self0, gc0 := time.Now(), selfCPU(), gcCPU()
				peak, err := runPeakRSS(cmd)
				cliWall += time.Since(t0).Seconds()
				simCPU += (selfCPU() - self0).Seconds()
				simGC += gcCPU() - gc0
				if ps := cmd.ProcessState; ps != nil {
					cliCPU += (ps.UserTime() + ps.SystemTime()).Seconds()
				}
				out.Close()
				if err != nil && cmd.ProcessState.ExitCode() != 2 {
					msg, _ := os.ReadFile(out.Name())
					b.Fatalf("cutover plan: %v\n%s", err, tailString(string(msg), 2000))
				}
				rss += float64(peak) / 1024 // KiB
				if d, ok := govcCollect(b, s); ok {
					collect += d.Seconds()
				}
				b.StartTimer()
			}
			k := float64(b.N)
			b.ReportMetric(rt/k, "vcenter-round-trips/op")
			b.ReportMetric(azReqs/k, "azure-reqs/op")
			b.ReportMetric(cliWall/k, "cli-wall-s")
			b.ReportMetric(cliCPU/k, "cli-cpu-s")
			b.ReportMetric(simCPU/k, "sim-cpu-s")
			b.ReportMetric(simGC/k, "sim-gc-cpu-s")
			b.ReportMetric(rss/k, "cli-peak-rss-MiB")
			if collect > 0 {
				b.ReportMetric(collect/k, "govc-collect-s")
				b.ReportMetric(cliWall/collect, "cli/govc-collect")
			}
		})
	}
}

// selfCPU is the CPU time (user + system) this process has used so far:
// while the CLI plans, that is the simulators answering it (and this
// process's garbage collector), beside the CLI's own CPU from its
// ProcessState (utime and stime are the child's own, unlike its maxrss).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// gcCPU is the CPU seconds this process's garbage collector has used so
// far (runtime/metrics, an estimate the runtime keeps): the part of
// sim-cpu-s spent marking the simulated world, which is all in this
// process's heap, rather than answering the CLI.
func gcCPU() float64 {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return s[0].Value.Float64()
}

// runPeakRSS runs cmd and returns its peak resident set in KiB, read from
// VmHWM in /proc/PID/status while it runs (0 where there is no /proc).
// The child's getrusage ru_maxrss is no measure of it: Go starts children
// with clone(CLONE_VM|CLONE_VFORK), and Linux's execve folds the old mm's
// high-water mark, this test process's with the whole simulated world in
// it, into the child's maxrss (exec_mmap → setmax_mm_hiwater_rss), so
// that figure is the benchmark's own peak, not the CLI's. VmHWM belongs to
// the mm the CLI got at exec and only grows; it is sampled every 10 ms,
// so at most the last 10 ms of the run escape it.
func runPeakRSS(cmd *exec.Cmd) (int64, error) {
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	var peak int64
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if kb := vmHWM(status); kb > peak {
			peak = kb
		}
		select {
		case err := <-done:
			return peak, err
		case <-tick.C:
		}
	}
}

// vmHWM reads the VmHWM line (KiB) of a /proc/PID/status file; 0 when it
// cannot.
func vmHWM(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
				return kb
			}
		}
	}
	return 0
}

func (c *soapCalls) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.n {
		n += v
	}
	return n
}

func tailString(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// openServedScaleWorld is openScaleWorld with the world kept where
// `--sim` looks for it and announced, so a cutover process attaches to it.
func openServedScaleWorld(tb testing.TB, n int) *scaleWorld {
	tb.Helper()
	s := openScaleWorldIn(tb, n, func(rb *schema.Runbook) string { return filepath.Join(rb.Dir, ".cutover", "sim") })
	withdraw, err := s.world.Announce()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(withdraw)
	return s
}

// govcCollect times govc object.collect of the VM properties discovery
// reads, over every VM, when govc is installed.
func govcCollect(tb testing.TB, s *scaleWorld) (time.Duration, bool) {
	govc, err := exec.LookPath("govc")
	if err != nil {
		return 0, false
	}
	c := s.world.VCenterConfigs["dc1"]
	args := []string{"object.collect", "-s", "-type", "m", "/"}
	args = append(args, vcenter.DiscoveryProperties()...)
	cmd := exec.Command(govc, args...)
	cmd.Env = append(os.Environ(), "GOVC_URL="+c.URL, "GOVC_USERNAME="+c.Username, "GOVC_PASSWORD="+c.Password, "GOVC_INSECURE=1")
	cmd.Stdout = io.Discard
	var stderr strings.Builder
	cmd.Stderr = &stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		tb.Logf("govc object.collect: %v: %s", err, tailString(stderr.String(), 500))
		return 0, false
	}
	return time.Since(t0), true
}
