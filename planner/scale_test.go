package planner_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
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
	ctx := context.Background()
	rb := waveRunbook(tb, n)
	w, err := simworld.Open(ctx, rb, tb.TempDir(), simworld.Options{TimeScale: 0.001})
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
// 3) and Azure requests (a fixed number plus one per page).
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
