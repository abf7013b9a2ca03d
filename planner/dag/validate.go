package dag

import (
	"errors"
	"maps"
	"slices"
	"strings"
)

var (
	_ error = (*CycleError)(nil)
	_ error = (*UnknownVertexError)(nil)
)

// CycleError names one cycle. Validate returns one CycleError per strongly
// connected set of vertices: breaking every cycle it names is not always
// enough, but every set it names must be broken, and the count stays small
// where enumerating every elementary cycle could explode.
type CycleError struct {
	// Path is a shortest closed path through the smallest key of the set: it
	// starts and ends with that key and each key waits for the next one.
	Path []string
	// Members is every vertex of the strongly connected set, sorted. It is
	// longer than the path when several cycles overlap.
	Members []string
}

func (e *CycleError) Error() string {
	var b strings.Builder
	b.WriteString("cycle: ")
	b.WriteString(strings.Join(e.Path, " -> "))
	if rest := e.others(); len(rest) > 0 {
		b.WriteString(" (more cycles also pass through ")
		b.WriteString(strings.Join(rest, ", "))
		b.WriteString(")")
	}
	return b.String()
}

// others lists the members the path does not visit.
func (e *CycleError) others() []string {
	var rest []string
	for _, m := range e.Members {
		if !slices.Contains(e.Path, m) {
			rest = append(rest, m)
		}
	}
	return rest
}

// UnknownVertexError reports an edge with an end that was never added.
type UnknownVertexError struct {
	Dependent, Dependency string
	// Missing lists the undeclared ends, sorted (one or both).
	Missing []string
}

func (e *UnknownVertexError) Error() string {
	noun := "vertex"
	if len(e.Missing) > 1 {
		noun = "vertices"
	}
	return "edge " + e.Dependent + " -> " + e.Dependency + ": unknown " + noun + " " + strings.Join(e.Missing, ", ")
}

// Validate reports every edge with an undeclared end (as
// *UnknownVertexError, sorted by edge) followed by every cycle (as
// *CycleError, sorted by the first key of its path), joined with
// errors.Join. It returns nil for a valid DAG. The order is stable so that the
// message can be compared and shown in reviews.
func (g *Graph) Validate() error {
	var unknown []*UnknownVertexError
	for dependent, set := range g.deps {
		for dependency := range set {
			var missing []string
			if !g.Has(dependent) {
				missing = append(missing, dependent)
			}
			if !g.Has(dependency) && dependency != dependent {
				missing = append(missing, dependency)
			}
			if len(missing) > 0 {
				slices.Sort(missing)
				unknown = append(unknown, &UnknownVertexError{Dependent: dependent, Dependency: dependency, Missing: missing})
			}
		}
	}
	slices.SortFunc(unknown, func(a, b *UnknownVertexError) int {
		if c := strings.Compare(a.Dependent, b.Dependent); c != 0 {
			return c
		}
		return strings.Compare(a.Dependency, b.Dependency)
	})
	var errs []error
	for _, u := range unknown {
		errs = append(errs, u)
	}
	// A plain topological pass is much cheaper than finding strongly
	// connected sets and proves the common case, a valid graph, on its
	// own. Edges to undeclared vertices hide from that pass, so with any of
	// them the full search runs.
	if len(unknown) > 0 || len(g.topo(false)) < len(g.vertices) {
		for _, c := range g.cycles() {
			errs = append(errs, c)
		}
	}
	return errors.Join(errs...)
}

// cycles finds the strongly connected sets (Tarjan) that contain a cycle and
// describes each with a shortest closed path through its smallest key.
func (g *Graph) cycles() []*CycleError {
	t := tarjan{
		g:     g,
		index: map[string]int{},
		low:   map[string]int{},
		on:    map[string]bool{},
	}
	// Visit every key that appears anywhere, so that cycles through
	// undeclared vertices are named as well.
	all := map[string]struct{}{}
	maps.Copy(all, g.vertices)
	for k, set := range g.deps {
		all[k] = struct{}{}
		maps.Copy(all, set)
	}
	for _, k := range slices.Sorted(maps.Keys(all)) {
		if _, seen := t.index[k]; !seen {
			t.visit(k)
		}
	}

	var out []*CycleError
	for _, scc := range t.sccs {
		if len(scc) == 1 {
			if _, self := g.deps[scc[0]][scc[0]]; !self {
				continue
			}
		}
		slices.Sort(scc)
		out = append(out, &CycleError{Path: g.shortestCycle(scc), Members: scc})
	}
	slices.SortFunc(out, func(a, b *CycleError) int { return strings.Compare(a.Path[0], b.Path[0]) })
	return out
}

// shortestCycle walks breadth first from the smallest member along
// dependency edges inside the set, neighbours in key order, until it returns
// to the start. Breadth first keeps the named cycle short and the key order
// keeps it the same on every run.
func (g *Graph) shortestCycle(members []string) []string {
	start := members[0]
	in := map[string]bool{}
	for _, m := range members {
		in[m] = true
	}
	parent := map[string]string{}
	queue := []string{start}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		for _, next := range sortedSet(g.deps[k]) {
			if !in[next] {
				continue
			}
			if next == start {
				path := []string{start}
				for at := k; at != start; at = parent[at] {
					path = append(path, at)
				}
				path = append(path, start)
				slices.Reverse(path)
				return path
			}
			if _, seen := parent[next]; !seen {
				parent[next] = k
				queue = append(queue, next)
			}
		}
	}
	// Unreachable for a strongly connected set with a cycle.
	return []string{start, start}
}

type tarjan struct {
	g     *Graph
	next  int
	index map[string]int
	low   map[string]int
	on    map[string]bool
	stack []string
	sccs  [][]string
}

// visit is the textbook recursive form; Go stacks grow on demand, so the
// depth of a long step chain is not a concern at plan sizes.
func (t *tarjan) visit(k string) {
	t.index[k] = t.next
	t.low[k] = t.next
	t.next++
	t.stack = append(t.stack, k)
	t.on[k] = true
	for next := range t.g.deps[k] {
		if _, seen := t.index[next]; !seen {
			t.visit(next)
			t.low[k] = min(t.low[k], t.low[next])
		} else if t.on[next] {
			t.low[k] = min(t.low[k], t.index[next])
		}
	}
	if t.low[k] != t.index[k] {
		return
	}
	var scc []string
	for {
		top := t.stack[len(t.stack)-1]
		t.stack = t.stack[:len(t.stack)-1]
		t.on[top] = false
		scc = append(scc, top)
		if top == k {
			break
		}
	}
	t.sccs = append(t.sccs, scc)
}
