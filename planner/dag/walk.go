package dag

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// WalkFunc does the work of one vertex. A nil return marks the vertex
// succeeded and may release its dependents; an error marks it failed and
// holds back every descendant. It receives the walk's context and should
// return promptly when that context is cancelled.
type WalkFunc func(ctx context.Context, key string) error

// WalkOption adjusts one Walk.
type WalkOption func(*walkConfig)

type walkConfig struct {
	done []string
}

// WithDone marks keys as already succeeded, typically the steps a journal
// records from an earlier apply. They are not run, they release their
// dependents as if they had just succeeded, and they are reported in
// WalkResult.Done. A key marked done is trusted even if its own dependencies
// are not: the journal, not the graph, is the authority on what happened.
func WithDone(keys ...string) WalkOption {
	return func(c *walkConfig) { c.done = append(c.done, keys...) }
}

// Failure is a vertex whose WalkFunc returned an error.
type Failure struct {
	Key string
	Err error
}

// Skip is a vertex that never ran because something it waits for failed.
type Skip struct {
	Key string
	// FailedAncestors are the failed vertices that held this one back,
	// sorted. Their errors are in WalkResult.Failed and are not repeated, so
	// one broken step produces one error message however much it blocks.
	FailedAncestors []string
}

// WalkResult accounts for every vertex of a walk exactly once. All lists are
// sorted by key so results compare equal across runs regardless of the
// order in which concurrent vertices finished.
type WalkResult struct {
	// Succeeded vertices ran and returned nil.
	Succeeded []string
	// Done vertices were marked with WithDone and not run.
	Done []string
	// Failed vertices ran and returned an error.
	Failed []Failure
	// Skipped vertices did not run because an ancestor failed.
	Skipped []Skip
	// Pending vertices did not run because the walk stopped first (its
	// context was cancelled, or the graph was invalid).
	Pending []string
	// Err is why the walk stopped before starting every runnable vertex:
	// the validation error, an unknown key given to WithDone, or the
	// context's error. It is nil when the walk ran to completion, even if
	// vertices failed; see Failed.
	Err error
}

// OK reports whether every vertex succeeded or was already done.
func (r WalkResult) OK() bool {
	return r.Err == nil && len(r.Failed) == 0 && len(r.Skipped) == 0 && len(r.Pending) == 0
}

// String summarises the result in a stable form (for tests and logs kept by
// callers): one line per vertex, grouped by outcome.
func (r WalkResult) String() string {
	var b strings.Builder
	for _, k := range r.Done {
		fmt.Fprintf(&b, "done %s\n", k)
	}
	for _, k := range r.Succeeded {
		fmt.Fprintf(&b, "succeeded %s\n", k)
	}
	for _, f := range r.Failed {
		fmt.Fprintf(&b, "failed %s: %v\n", f.Key, f.Err)
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(&b, "skipped %s (after %s)\n", s.Key, strings.Join(s.FailedAncestors, ", "))
	}
	for _, k := range r.Pending {
		fmt.Fprintf(&b, "pending %s\n", k)
	}
	if r.Err != nil {
		fmt.Fprintf(&b, "stopped: %v\n", r.Err)
	}
	return b.String()
}

// outcome of one vertex as the coordinator tracks it.
type outcome uint8

const (
	notStarted outcome = iota
	running
	succeeded
	failed
	done
)

// slotKey finds a call's slot in its context.
type slotKey struct{}

// slot is a running call's seat among the walk's parallelism.
type slot struct {
	key string
	ctl chan<- slotMsg
}

// slotMsg gives a slot up (grant nil) or asks for it back (grant is
// closed once it is granted).
type slotMsg struct {
	key   string
	grant chan struct{}
}

// Release gives up the slot of the call whose context ctx is, so that
// another vertex may start while this call waits for something that needs
// none of the walk's parallelism (a timer, a service working on its own).
// The call keeps running; it counts toward parallelism again after
// Acquire. Outside a Walk, or when the slot is already given up, it does
// nothing.
func Release(ctx context.Context) {
	if s, ok := ctx.Value(slotKey{}).(*slot); ok {
		s.ctl <- slotMsg{key: s.key}
	}
}

// Acquire takes the call's slot back after Release, waiting until fewer
// than parallelism calls hold one; such calls go before vertices not yet
// started. It returns ctx's error if ctx ends first. Outside a Walk it
// returns at once.
func Acquire(ctx context.Context) error {
	s, ok := ctx.Value(slotKey{}).(*slot)
	if !ok {
		return nil
	}
	grant := make(chan struct{})
	select {
	case s.ctl <- slotMsg{key: s.key, grant: grant}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-grant:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type completion struct {
	key string
	err error
}

// Walk runs fn for every vertex once all of its dependencies have succeeded
// (or were marked done), with at most parallelism calls in flight; a
// parallelism below 1 means 1. A call that waits for something needing no
// parallelism can give its slot up with Release and take it back with
// Acquire; only calls holding a slot count. When several vertices are ready, the smallest
// key starts first, so a walk with parallelism 1 follows TopoSort.
//
// A vertex whose fn fails holds back its descendants, which are reported as
// skipped; vertices that do not depend on it carry on. Once ctx is
// cancelled no further vertex starts: calls in flight are awaited, and
// vertices never started are reported as pending (or skipped, if an
// ancestor failed). An invalid graph runs nothing.
//
// The calling goroutine schedules; fn runs on its own goroutines and may be
// called concurrently for independent vertices. Walk returns only after
// every call it started has returned. A panic in fn is not recovered: a
// half-run step is the caller's to journal, not the graph's to hide.
func (g *Graph) Walk(ctx context.Context, parallelism int, fn WalkFunc, opts ...WalkOption) WalkResult {
	var cfg walkConfig
	for _, o := range opts {
		o(&cfg)
	}
	if err := g.Validate(); err != nil {
		return WalkResult{Pending: g.Keys(), Err: err}
	}
	state := make(map[string]outcome, len(g.vertices))
	var unknown []error
	for _, k := range cfg.done {
		if !g.Has(k) {
			unknown = append(unknown, fmt.Errorf("done vertex %s: not in graph", k))
			continue
		}
		state[k] = done
	}
	if len(unknown) > 0 {
		return WalkResult{Pending: g.Keys(), Err: errors.Join(unknown...)}
	}
	parallelism = max(parallelism, 1)

	// waiting counts the dependencies each vertex still waits for.
	waiting := make(map[string]int, len(g.vertices))
	ready := &keyHeap{}
	for k := range g.vertices {
		if state[k] == done {
			continue
		}
		n := 0
		for d := range g.deps[k] {
			if state[d] != done {
				n++
			}
		}
		waiting[k] = n
		if n == 0 {
			ready.keys = append(ready.keys, k)
		}
	}
	heap.Init(ready)

	// Buffered so that a finishing call never blocks on the coordinator.
	finished := make(chan completion, parallelism)
	ctl := make(chan slotMsg)
	errs := map[string]error{}
	inFlight := 0 // calls running, holding a slot or not
	busy := 0     // calls holding a slot
	holds := map[string]bool{}
	var waiting4slot []slotMsg // Acquire calls not yet granted, in order
	stopped := false
	for {
		// Calls that gave their slot up and want it back go first: they
		// are further along than anything not started.
		for busy < parallelism && len(waiting4slot) > 0 {
			m := waiting4slot[0]
			waiting4slot = waiting4slot[1:]
			if state[m.key] != running || holds[m.key] {
				close(m.grant)
				continue
			}
			holds[m.key] = true
			busy++
			close(m.grant)
		}
		for !stopped && busy < parallelism && len(waiting4slot) == 0 && ready.Len() > 0 {
			if ctx.Err() != nil {
				stopped = true
				break
			}
			k := heap.Pop(ready).(string)
			state[k] = running
			inFlight++
			busy++
			holds[k] = true
			sctx := context.WithValue(ctx, slotKey{}, &slot{key: k, ctl: ctl})
			go func() {
				finished <- completion{key: k, err: fn(sctx, k)}
			}()
		}
		if inFlight == 0 {
			break
		}
		var cancelled <-chan struct{}
		if !stopped {
			cancelled = ctx.Done()
		}
		var c completion
		select {
		case c = <-finished:
		case m := <-ctl:
			switch {
			case m.grant == nil && holds[m.key]:
				holds[m.key] = false
				busy--
			case m.grant != nil:
				waiting4slot = append(waiting4slot, m)
			}
			continue
		case <-cancelled:
			// Stop starting, then keep collecting the calls in flight.
			stopped = true
			continue
		}
		inFlight--
		if holds[c.key] {
			busy--
		}
		delete(holds, c.key)
		if c.err != nil {
			state[c.key] = failed
			errs[c.key] = c.err
			continue
		}
		state[c.key] = succeeded
		for d := range g.dependents[c.key] {
			waiting[d]--
			if waiting[d] == 0 {
				heap.Push(ready, d)
			}
		}
	}

	res := g.summarise(state, errs)
	if len(res.Pending) > 0 {
		res.Err = context.Cause(ctx)
	}
	return res
}

// summarise sorts the outcomes into a WalkResult. Failed ancestors are
// propagated in topological order, so each skipped vertex names every
// failure that held it back however the concurrent calls interleaved.
func (g *Graph) summarise(state map[string]outcome, errs map[string]error) WalkResult {
	var res WalkResult
	order := g.topo(false) // any order will do: results are sorted below
	causes := map[string][]string{}
	for _, k := range order {
		switch state[k] {
		case done:
			res.Done = append(res.Done, k)
		case succeeded:
			res.Succeeded = append(res.Succeeded, k)
		case failed:
			res.Failed = append(res.Failed, Failure{Key: k, Err: errs[k]})
		case notStarted:
			var cs []string
			for d := range g.deps[k] {
				if state[d] == failed {
					cs = append(cs, d)
				}
				cs = append(cs, causes[d]...)
			}
			if len(cs) == 0 {
				res.Pending = append(res.Pending, k)
				continue
			}
			slices.Sort(cs)
			cs = slices.Compact(cs)
			causes[k] = cs
			res.Skipped = append(res.Skipped, Skip{Key: k, FailedAncestors: cs})
		}
	}
	slices.Sort(res.Done)
	slices.Sort(res.Succeeded)
	slices.Sort(res.Pending)
	slices.SortFunc(res.Failed, func(a, b Failure) int { return strings.Compare(a.Key, b.Key) })
	slices.SortFunc(res.Skipped, func(a, b Skip) int { return strings.Compare(a.Key, b.Key) })
	return res
}
