package dag

import (
	"maps"
	"slices"
)

// Graph is a set of string-keyed vertices and dependency edges between them.
// The zero value is not usable; call New.
type Graph struct {
	// vertices is the set of declared keys. Edges may name keys that are not
	// declared: Connect records them as given so that Validate can report the
	// mistake instead of silently inventing vertices.
	vertices map[string]struct{}
	// deps maps a dependent to the keys it waits for.
	deps map[string]map[string]struct{}
	// dependents is the inverse of deps, kept so walks and descendant
	// queries need not scan every edge.
	dependents map[string]map[string]struct{}
}

// New returns an empty graph.
func New() *Graph {
	return &Graph{
		vertices:   map[string]struct{}{},
		deps:       map[string]map[string]struct{}{},
		dependents: map[string]map[string]struct{}{},
	}
}

// Add declares the vertex key. Adding an existing key is a no-op, so callers
// may add a step every time they meet it.
func (g *Graph) Add(key string) {
	g.vertices[key] = struct{}{}
}

// Connect records that dependent waits for dependency. Repeated edges are
// kept once. Either end may be undeclared at the time of the call (the order
// in which a planner meets steps is its own business); Validate reports edges
// whose ends are still undeclared.
func (g *Graph) Connect(dependent, dependency string) {
	addEdge(g.deps, dependent, dependency)
	addEdge(g.dependents, dependency, dependent)
}

func addEdge(m map[string]map[string]struct{}, from, to string) {
	set, ok := m[from]
	if !ok {
		set = map[string]struct{}{}
		m[from] = set
	}
	set[to] = struct{}{}
}

// Has reports whether key was declared with Add.
func (g *Graph) Has(key string) bool {
	_, ok := g.vertices[key]
	return ok
}

// Len returns the number of declared vertices.
func (g *Graph) Len() int {
	return len(g.vertices)
}

// Keys returns every declared vertex, sorted.
func (g *Graph) Keys() []string {
	return slices.Sorted(maps.Keys(g.vertices))
}

// Dependencies returns the keys key waits for directly, sorted.
func (g *Graph) Dependencies(key string) []string {
	return sortedSet(g.deps[key])
}

// Dependents returns the keys that wait for key directly, sorted.
func (g *Graph) Dependents(key string) []string {
	return sortedSet(g.dependents[key])
}

// Ancestors returns every key that key waits for, directly or transitively,
// sorted. key itself is included only if it lies on a cycle.
func (g *Graph) Ancestors(key string) []string {
	return reach(g.deps, key)
}

// Descendants returns every key that waits for key, directly or
// transitively, sorted: what a failure of key would hold back. key itself is
// included only if it lies on a cycle.
func (g *Graph) Descendants(key string) []string {
	return reach(g.dependents, key)
}

// Reverse returns a new graph with the same vertices and every edge flipped.
// Rollback undoes steps in the reverse of the order they were applied, which
// is exactly a walk of the reversed graph. Undeclared edge ends are carried
// over so the reversed graph fails Validate the same way.
func (g *Graph) Reverse() *Graph {
	r := New()
	for k := range g.vertices {
		r.Add(k)
	}
	for dependent, set := range g.deps {
		for dependency := range set {
			r.Connect(dependency, dependent)
		}
	}
	return r
}

// reach collects every key reachable from start through edges, iteratively
// so that long chains cannot exhaust the stack.
func reach(edges map[string]map[string]struct{}, start string) []string {
	seen := map[string]struct{}{}
	stack := []string{start}
	for len(stack) > 0 {
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for next := range edges[k] {
			if _, ok := seen[next]; ok {
				continue
			}
			seen[next] = struct{}{}
			stack = append(stack, next)
		}
	}
	return sortedSet(seen)
}

func sortedSet(set map[string]struct{}) []string {
	if len(set) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(set))
}
