package dag

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// wide builds n step-like vertices, each waiting for up to three of the
// fifty before it: plan-shaped (many short chains across VMs) and the same
// on every run thanks to the fixed seed.
func wide(n int) *Graph {
	rng := rand.New(rand.NewPCG(1, 2))
	g := New()
	keys := make([]string, n)
	for i := range n {
		keys[i] = fmt.Sprintf(`vm.app["vm%05d"].step`, i)
		g.Add(keys[i])
		for range rng.IntN(4) {
			if i == 0 {
				break
			}
			g.Connect(keys[i], keys[max(0, i-1-rng.IntN(50))])
		}
	}
	return g
}

func BenchmarkTopoSort10k(b *testing.B) {
	g := wide(10_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.TopoSort(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWalk10k(b *testing.B) {
	g := wide(10_000)
	noop := func(context.Context, string) error { return nil }
	for _, p := range []int{1, 10} {
		b.Run(fmt.Sprintf("parallelism=%d", p), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res := g.Walk(context.Background(), p, noop); !res.OK() {
					b.Fatal(res.Err)
				}
			}
		})
	}
}

func TestBenchmarkGraphIsValid(t *testing.T) {
	t.Parallel()
	g := wide(10_000)
	order, err := g.TopoSort()
	if err != nil {
		t.Fatal(err)
	}
	if len(order) != 10_000 {
		t.Fatalf("order has %d vertices", len(order))
	}
	res := g.Walk(context.Background(), 8, func(context.Context, string) error { return nil })
	if len(res.Succeeded) != 10_000 {
		t.Fatalf("walk:\n%s", res)
	}
}
