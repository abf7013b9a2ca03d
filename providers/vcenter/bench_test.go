package vcenter_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"cutover/providers/vcenter/vcentersim"
)

// benchSims holds one simulated world per size for the whole process:
// building 5,000 VMs takes seconds, and benchmarks run their function
// several times.
var benchSims = struct {
	sync.Mutex
	m map[int]*vcentersim.Sim
}{m: map[int]*vcentersim.Sim{}}

func benchSim(b *testing.B, n int) *vcentersim.Sim {
	benchSims.Lock()
	defer benchSims.Unlock()
	if s, ok := benchSims.m[n]; ok {
		return s
	}
	start := time.Now()
	s, err := vcentersim.Start(context.Background(), vcentersim.ScaledWorld(n))
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d VMs in %s", n, time.Since(start).Round(time.Millisecond))
	benchSims.m[n] = s
	return s
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, s := range benchSims.m {
		s.Close()
	}
	os.Exit(code)
}

func BenchmarkDiscover(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(itoa(n), func(b *testing.B) {
			s := benchSim(b, n)
			counter := &callCounter{n: map[string]int{}}
			c := connect(b, s, interposed(counter, &counter.next))
			counter.reset()
			b.ResetTimer()
			for b.Loop() {
				inv, err := c.Discover(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if len(inv.VMs) != n {
					b.Fatalf("discovered %d VMs, want %d", len(inv.VMs), n)
				}
			}
			pc := counter.count("RetrievePropertiesEx") + counter.count("ContinueRetrievePropertiesEx")
			b.ReportMetric(float64(pc)/float64(b.N), "pc-calls/op")
			b.ReportMetric(float64(n), "VMs")
		})
	}
}

func itoa(n int) string {
	switch n {
	case 1000:
		return "1000VMs"
	case 16:
		return "16VMs"
	case 100:
		return "100VMs"
	case 5000:
		return "5000VMs"
	}
	return "n"
}
