package schema

import (
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// evalLocals evaluates local values in the order their references demand,
// reporting cycles by name. It returns the `local` object.
//
// Its cost is linear in the number of locals and references: a runbook
// can hold a hundred thousand of them (hostile or generated), so nothing
// here may walk all locals per local. Locals are numbered in name order,
// references become one flat list, and each local is evaluated against an
// object of only the locals it names.
func (d *decoder) evalLocals() cty.Value {
	names := sortedKeys(d.locals)
	if len(names) == 0 {
		return cty.EmptyObjectVal
	}
	attrs := make([]*hcl.Attribute, len(names))
	index := make(map[string]int, len(names))
	for i, name := range names {
		attrs[i] = d.locals[name]
		index[name] = i
	}

	g := depGraph{start: make([]int, 1, len(names)+1)}
	// whole marks locals that use the local object other than as
	// local.NAME (keys(local), local["a"], for over local). That object
	// holds the local itself, and handing each such local every other one
	// would cost time quadratic in their number (8,000 took 80 s), so it
	// is an error, as in Terraform ("The "local" object cannot be
	// accessed directly").
	whole := make([]bool, len(names))
	for i, at := range attrs {
		for _, tr := range at.Expr.Variables() {
			if tr.RootName() != "local" {
				continue
			}
			var step hcl.TraverseAttr
			ok := false
			if len(tr) > 1 {
				step, ok = tr[1].(hcl.TraverseAttr)
			}
			if !ok {
				if !whole[i] {
					r := tr.SourceRange()
					d.errorf(&r, "Invalid use of local",
						"A local value cannot use the local object as a whole or by index; refer to each value it needs as local.NAME.")
				}
				whole[i] = true
				continue
			}
			j, ok := index[step.Name]
			if !ok {
				r := tr.SourceRange()
				d.errorf(&r, "Reference to undeclared local value",
					"No local value named %q is declared.", step.Name)
				continue
			}
			g.deps = append(g.deps, j)
		}
		g.start = append(g.start, len(g.deps))
	}

	order, cycles, inCycle := g.topoSort(len(names))
	for _, c := range cycles {
		r := attrs[c[0]].NameRange
		named := make([]string, len(c))
		for k, i := range c {
			named[k] = names[i]
		}
		d.errorf(&r, "Cycle in local values",
			"Local values refer to each other in a cycle: %s.", formatCycle("local.", named))
	}

	vals := make([]cty.Value, len(names))
	have := make([]bool, len(names))
	// One child context serves every local: only its `local` changes, and
	// no value an expression returns keeps the context.
	ctx := d.ctx.NewChild()
	ctx.Variables = map[string]cty.Value{}
	var seen map[string]cty.Value
	for _, i := range order {
		if inCycle[i] {
			continue
		}
		if whole[i] {
			// Reported above; unknown keeps later uses quiet.
			vals[i], have[i] = cty.DynamicVal, true
			continue
		}
		// A scratch map, reused unless a local with many references made
		// it large (clearing costs its capacity).
		if seen == nil || len(seen) > 64 {
			seen = make(map[string]cty.Value, g.end(i)-g.start[i])
		} else {
			clear(seen)
		}
		for _, j := range g.out(i) {
			if have[j] {
				seen[names[j]] = vals[j]
			}
		}
		ctx.Variables["local"] = objectOrEmpty(seen)
		v, diags := attrs[i].Expr.Value(ctx)
		d.add(diags)
		if diags.HasErrors() {
			v = cty.DynamicVal
		}
		vals[i], have[i] = v, true
	}

	all := make(map[string]cty.Value, len(names))
	for i, name := range names {
		if inCycle[i] {
			all[name] = cty.DynamicVal
			continue
		}
		all[name] = vals[i]
	}
	return cty.ObjectVal(all)
}

// depGraph is a dependency graph over nodes 0..n-1, kept flat: node i
// depends on deps[start[i]:start[i+1]], in the order they were found.
type depGraph struct {
	start []int
	deps  []int
}

func (g *depGraph) end(i int) int   { return g.start[i+1] }
func (g *depGraph) out(i int) []int { return g.deps[g.start[i]:g.start[i+1]] }

// topoSort orders the nodes so that each comes after what it depends on,
// walking depth-first from nodes 0..roots-1 in turn, and returns one cycle
// for each group of nodes that depend on each other (a strongly connected
// component, found as Tarjan's algorithm does): the path from the node
// where the walk entered the group back to it, in the order its members
// refer to each other. One cycle per group keeps this linear: listing
// every cycle the walk meets can be quadratic (a chain whose every link
// also points back to its start). The walk keeps its own stack: a chain
// of a hundred thousand references must not recurse that deep.
func (g *depGraph) topoSort(roots int) (order []int, cycles [][]int, inCycle []bool) {
	n := len(g.start) - 1
	const unvisited = -1
	index := make([]int, n) // order of discovery, or unvisited
	low := make([]int, n)   // lowest index reachable within the walk
	for i := range index {
		index[i] = unvisited
	}
	onStack := make([]bool, n)
	selfLoop := make([]bool, n)
	var held []int // nodes whose group is not complete yet
	type frame struct{ node, next int }
	var stack []frame
	order = make([]int, 0, n)
	var groups [][]int
	count := 0
	push := func(node int) {
		index[node], low[node] = count, count
		count++
		onStack[node] = true
		held = append(held, node)
		stack = append(stack, frame{node: node, next: g.start[node]})
	}
	for root := 0; root < roots; root++ {
		if index[root] != unvisited {
			continue
		}
		push(root)
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			v := top.node
			if top.next < g.end(v) {
				w := g.deps[top.next]
				top.next++
				switch {
				case index[w] == unvisited:
					push(w)
				case onStack[w]:
					low[v] = min(low[v], index[w])
					selfLoop[v] = selfLoop[v] || w == v
				}
				continue
			}
			order = append(order, v)
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				p := stack[len(stack)-1].node
				low[p] = min(low[p], low[v])
			}
			if low[v] != index[v] {
				continue
			}
			k := len(held) - 1
			for held[k] != v {
				k--
			}
			group := held[k:]
			held = held[:k]
			for _, m := range group {
				onStack[m] = false
			}
			if len(group) > 1 || selfLoop[v] {
				groups = append(groups, append([]int(nil), group...))
			}
		}
	}
	// Groups complete in reverse order of entry; report them as entered.
	slices.SortFunc(groups, func(a, b []int) int { return index[a[0]] - index[b[0]] })
	member := make([]int, n) // group number + 1
	inCycle = make([]bool, n)
	for gi, grp := range groups {
		for _, m := range grp {
			member[m] = gi + 1
			inCycle[m] = true
		}
	}
	for gi, grp := range groups {
		cycles = append(cycles, g.cycleThrough(grp[0], gi+1, member))
	}
	return order, cycles, inCycle
}

// cycleThrough returns the shortest path from start back to itself that
// stays within start's group, breadth-first in dependency order.
func (g *depGraph) cycleThrough(start, group int, member []int) []int {
	from := map[int]int{start: -1}
	queue := []int{start}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range g.out(v) {
			if w == start {
				var path []int
				for u := v; u != -1; u = from[u] {
					path = append(path, u)
				}
				slices.Reverse(path)
				return path
			}
			if _, seen := from[w]; !seen && member[w] == group {
				from[w] = v
				queue = append(queue, w)
			}
		}
	}
	return []int{start} // not reached: every group holds a cycle through each member
}

// topoOrder is topoSort over named nodes: it sorts nodes so that each
// comes after what it depends on, and returns the cycles it found. Input
// order breaks ties, so results are stable. A dependency that is not
// among nodes is still ordered, when something reaches it.
func topoOrder(nodes []string, deps map[string][]string) (order []string, cycles [][]string) {
	index := make(map[string]int, len(nodes))
	names := make([]string, 0, len(nodes))
	id := func(n string) int {
		i, ok := index[n]
		if !ok {
			i = len(names)
			index[n] = i
			names = append(names, n)
		}
		return i
	}
	for _, n := range nodes {
		id(n)
	}
	roots := len(names)
	g := depGraph{start: make([]int, 1, len(names)+1)}
	for i := 0; i < len(names); i++ {
		for _, dep := range deps[names[i]] {
			g.deps = append(g.deps, id(dep))
		}
		g.start = append(g.start, len(g.deps))
	}
	ord, cyc, _ := g.topoSort(roots)
	order = make([]string, len(ord))
	for k, i := range ord {
		order[k] = names[i]
	}
	for _, c := range cyc {
		named := make([]string, len(c))
		for k, i := range c {
			named[k] = names[i]
		}
		cycles = append(cycles, named)
	}
	return order, cycles
}

func formatCycle(prefix string, cycle []string) string {
	parts := make([]string, 0, len(cycle)+1)
	for _, n := range cycle {
		parts = append(parts, prefix+n)
	}
	parts = append(parts, prefix+cycle[0])
	return strings.Join(parts, " -> ")
}
