package dag

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a WalkFunc that logs the order of calls and fails the keys
// it is told to.
type recorder struct {
	mu    sync.Mutex
	order []string
	fail  map[string]bool
	// hook runs inside the call, before it returns.
	hook func(key string)
}

func (r *recorder) fn(_ context.Context, key string) error {
	r.mu.Lock()
	r.order = append(r.order, key)
	r.mu.Unlock()
	if r.hook != nil {
		r.hook(key)
	}
	if r.fail[key] {
		return fmt.Errorf("boom in %s", key)
	}
	return nil
}

func (r *recorder) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.order)
}

func TestWalkOutcomes(t *testing.T) {
	t.Parallel()
	// a <- b, c <- d (diamond); e <- f; x, y <- z; y <- w; b <- v
	g := build([]string{"a", "b", "c", "d", "e", "f", "v", "w", "x", "y", "z"},
		edge{"b", "a"}, edge{"c", "a"}, edge{"d", "b"}, edge{"d", "c"},
		edge{"f", "e"},
		edge{"z", "x"}, edge{"z", "y"}, edge{"w", "y"},
		edge{"v", "b"}, edge{"v", "y"},
	)
	tests := []struct {
		name string
		fail []string
		done []string
		want string
	}{
		{
			name: "all succeed",
			want: `succeeded a
succeeded b
succeeded c
succeeded d
succeeded e
succeeded f
succeeded v
succeeded w
succeeded x
succeeded y
succeeded z
`,
		},
		{
			name: "failure skips only descendants, error not repeated",
			fail: []string{"a"},
			want: `succeeded e
succeeded f
succeeded w
succeeded x
succeeded y
succeeded z
failed a: boom in a
skipped b (after a)
skipped c (after a)
skipped d (after a)
skipped v (after a)
`,
		},
		{
			name: "skip names every failed ancestor",
			fail: []string{"a", "y"},
			want: `succeeded e
succeeded f
succeeded x
failed a: boom in a
failed y: boom in y
skipped b (after a)
skipped c (after a)
skipped d (after a)
skipped v (after a, y)
skipped w (after y)
skipped z (after y)
`,
		},
		{
			name: "done vertices release dependents",
			done: []string{"a", "b", "e"},
			fail: []string{"c"},
			want: `done a
done b
done e
succeeded f
succeeded v
succeeded w
succeeded x
succeeded y
succeeded z
failed c: boom in c
skipped d (after c)
`,
		},
	}
	for _, tt := range tests {
		for _, p := range []int{0, 1, 3, 100} {
			t.Run(fmt.Sprintf("%s/parallelism=%d", tt.name, p), func(t *testing.T) {
				t.Parallel()
				r := &recorder{fail: map[string]bool{}}
				for _, k := range tt.fail {
					r.fail[k] = true
				}
				res := g.Walk(context.Background(), p, r.fn, WithDone(tt.done...))
				if got := res.String(); got != tt.want {
					t.Errorf("result =\n%s\nwant\n%s", got, tt.want)
				}
				if res.OK() != (len(tt.fail) == 0) {
					t.Errorf("OK() = %v with failures %q", res.OK(), tt.fail)
				}
				// Each called key ran once, after all of its dependencies.
				calls := r.calls()
				pos := map[string]int{}
				for i, k := range calls {
					if _, dup := pos[k]; dup {
						t.Errorf("%s called twice", k)
					}
					pos[k] = i
				}
				for _, k := range calls {
					if slices.Contains(tt.done, k) {
						t.Errorf("done vertex %s was called", k)
					}
					for _, d := range g.Dependencies(k) {
						if slices.Contains(tt.done, d) {
							continue
						}
						if dp, ok := pos[d]; !ok || dp > pos[k] {
							t.Errorf("%s called before its dependency %s", k, d)
						}
					}
				}
			})
		}
	}
}

func TestWalkSequentialFollowsTopoSort(t *testing.T) {
	t.Parallel()
	g := build([]string{"m", "b", "z", "a", "q"},
		edge{"b", "z"}, edge{"a", "q"}, edge{"m", "a"})
	want, err := g.TopoSort()
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	g.Walk(context.Background(), 1, r.fn)
	if got := r.calls(); !slices.Equal(got, want) {
		t.Errorf("calls = %q, want TopoSort order %q", got, want)
	}
}

func TestWalkParallelismBound(t *testing.T) {
	t.Parallel()
	for _, p := range []int{1, 2, 4} {
		t.Run(fmt.Sprint(p), func(t *testing.T) {
			t.Parallel()
			g := New()
			for i := range 24 {
				g.Add(fmt.Sprintf("v%02d", i))
			}
			var inFlight, peak atomic.Int64
			full := make(chan struct{})
			var once sync.Once
			fn := func(context.Context, string) error {
				n := inFlight.Add(1)
				for {
					old := peak.Load()
					if n <= old || peak.CompareAndSwap(old, n) {
						break
					}
				}
				if n == int64(p) {
					once.Do(func() { close(full) })
				}
				// The first calls hold until the bound is reached, so a walk
				// that starts too many would show it in the peak, and one
				// that starts too few would never release them.
				select {
				case <-full:
				case <-time.After(5 * time.Second):
				}
				time.Sleep(time.Millisecond)
				inFlight.Add(-1)
				return nil
			}
			res := g.Walk(context.Background(), p, fn)
			if got := peak.Load(); got != int64(p) {
				t.Errorf("peak in flight = %d, want %d", got, p)
			}
			if len(res.Succeeded) != 24 || !res.OK() {
				t.Errorf("result:\n%s", res)
			}
		})
	}
}

func TestWalkIndependentBranchGoesOnAfterFailure(t *testing.T) {
	t.Parallel()
	// With parallelism 2, "a" fails at once while "long" is still running;
	// "long"'s dependent must still start.
	g := build([]string{"a", "a2", "long", "long2"}, edge{"a2", "a"}, edge{"long2", "long"})
	release := make(chan struct{})
	r := &recorder{fail: map[string]bool{"a": true}, hook: func(k string) {
		switch k {
		case "long":
			<-release
		case "a":
			close(release)
		}
	}}
	res := g.Walk(context.Background(), 2, r.fn)
	const want = `succeeded long
succeeded long2
failed a: boom in a
skipped a2 (after a)
`
	if got := res.String(); got != want {
		t.Errorf("result =\n%s\nwant\n%s", got, want)
	}
}

func TestWalkCancel(t *testing.T) {
	t.Parallel()
	// a <- b <- c, and d independent.
	g := build([]string{"a", "b", "c", "d"}, edge{"b", "a"}, edge{"c", "b"})
	tests := []struct {
		name string
		fail bool
		want string
	}{
		{
			name: "never-started vertices are pending",
			want: `succeeded a
pending b
pending c
pending d
stopped: context canceled
`,
		},
		{
			name: "descendants of a failure are still skipped",
			fail: true,
			want: `failed a: boom in a
skipped b (after a)
skipped c (after a)
pending d
stopped: context canceled
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := &recorder{fail: map[string]bool{"a": tt.fail}, hook: func(k string) {
				if k == "a" {
					cancel()
				}
			}}
			res := g.Walk(ctx, 1, r.fn)
			if got := res.String(); got != tt.want {
				t.Errorf("result =\n%s\nwant\n%s", got, tt.want)
			}
			if !errors.Is(res.Err, context.Canceled) {
				t.Errorf("Err = %v, want context.Canceled", res.Err)
			}
		})
	}
}

func TestWalkCancelWaitsForCallsInFlight(t *testing.T) {
	t.Parallel()
	g := build([]string{"a", "b", "c"}, edge{"c", "a"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var returned atomic.Int64
	started := make(chan struct{}, 2)
	fn := func(ctx context.Context, key string) error {
		started <- struct{}{}
		<-ctx.Done()
		time.Sleep(time.Millisecond)
		returned.Add(1)
		return ctx.Err()
	}
	go func() {
		<-started
		<-started
		cancel()
	}()
	res := g.Walk(ctx, 2, fn)
	if returned.Load() != 2 {
		t.Errorf("Walk returned with %d of 2 calls finished", returned.Load())
	}
	const want = `failed a: context canceled
failed b: context canceled
skipped c (after a)
`
	if got := res.String(); got != want {
		t.Errorf("result =\n%s\nwant\n%s", got, want)
	}
	if res.Err != nil {
		t.Errorf("Err = %v; nothing was left pending", res.Err)
	}
}

func TestWalkAlreadyCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := &recorder{}
	res := diamond().Walk(ctx, 4, r.fn, WithDone("a"))
	if calls := r.calls(); len(calls) != 0 {
		t.Errorf("calls after cancel: %q", calls)
	}
	if want := []string{"b", "c", "d", "e"}; !slices.Equal(res.Pending, want) {
		t.Errorf("Pending = %q, want %q", res.Pending, want)
	}
	if want := []string{"a"}; !slices.Equal(res.Done, want) {
		t.Errorf("Done = %q, want %q", res.Done, want)
	}
}

func TestWalkRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		g    *Graph
		done []string
		want string
	}{
		{
			name: "cycle",
			g:    build([]string{"a", "b"}, edge{"a", "b"}, edge{"b", "a"}),
			want: "pending a\npending b\nstopped: cycle: a -> b -> a\n",
		},
		{
			name: "unknown done key",
			g:    build([]string{"a"}),
			done: []string{"ghost"},
			want: "pending a\nstopped: done vertex ghost: not in graph\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &recorder{}
			res := tt.g.Walk(context.Background(), 2, r.fn, WithDone(tt.done...))
			if got := res.String(); got != tt.want {
				t.Errorf("result =\n%s\nwant\n%s", got, tt.want)
			}
			if calls := r.calls(); len(calls) != 0 {
				t.Errorf("calls: %q", calls)
			}
		})
	}
}

// TestWalkReleaseFreesTheSlot: at parallelism 2, ten vertices each give
// their slot up to wait for a gate that opens only once all ten are
// waiting: without Release the walk could start two of them only. After
// Acquire no more than two hold a slot at once.
func TestWalkReleaseFreesTheSlot(t *testing.T) {
	t.Parallel()
	g := New()
	const n = 10
	for i := range n {
		g.Add(fmt.Sprintf("v%02d", i))
	}
	var mu sync.Mutex
	waitingNow, holding, maxHolding := 0, 0, 0
	gate := make(chan struct{})
	hold := func(d int) {
		mu.Lock()
		defer mu.Unlock()
		holding += d
		maxHolding = max(maxHolding, holding)
	}
	res := g.Walk(context.Background(), 2, func(ctx context.Context, key string) error {
		hold(1)
		hold(-1)
		Release(ctx)
		mu.Lock()
		waitingNow++
		if waitingNow == n {
			close(gate)
		}
		mu.Unlock()
		select {
		case <-gate:
		case <-time.After(5 * time.Second):
			return fmt.Errorf("%s: the gate never opened: released slots were not reused", key)
		}
		if err := Acquire(ctx); err != nil {
			return err
		}
		hold(1)
		time.Sleep(time.Millisecond)
		hold(-1)
		return nil
	})
	if !res.OK() {
		t.Fatal(res.String())
	}
	if maxHolding > 2 {
		t.Fatalf("%d calls held a slot at once, parallelism 2", maxHolding)
	}
}
