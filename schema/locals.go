package schema

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// evalLocals evaluates local values in the order their references demand,
// reporting cycles by name. It returns the `local` object.
func (d *decoder) evalLocals() cty.Value {
	deps := map[string][]string{}
	// whole marks locals that use the local object itself (keys(local)):
	// they see every local evaluated before them.
	whole := map[string]bool{}
	for name, at := range d.locals {
		for _, tr := range at.Expr.Variables() {
			if tr.RootName() != "local" {
				continue
			}
			if len(tr) < 2 {
				whole[name] = true
				continue
			}
			step, ok := tr[1].(hcl.TraverseAttr)
			if !ok {
				continue
			}
			if _, ok := d.locals[step.Name]; !ok {
				r := tr.SourceRange()
				d.errorf(&r, "Reference to undeclared local value",
					"No local value named %q is declared.", step.Name)
				continue
			}
			deps[name] = append(deps[name], step.Name)
		}
	}
	order, cycles := topoOrder(sortedKeys(d.locals), deps)
	for _, c := range cycles {
		r := d.locals[c[0]].NameRange
		d.errorf(&r, "Cycle in local values",
			"Local values refer to each other in a cycle: %s.", formatCycle("local.", c))
	}

	vals := map[string]cty.Value{}
	inCycle := map[string]bool{}
	for _, c := range cycles {
		for _, name := range c {
			inCycle[name] = true
		}
	}
	for _, name := range order {
		if inCycle[name] {
			continue
		}
		at := d.locals[name]
		ctx := d.ctx.NewChild()
		// Each local sees only the locals it refers to: handing every
		// one the object of all earlier locals would cost time and memory
		// quadratic in their number.
		seen := vals
		if !whole[name] {
			seen = make(map[string]cty.Value, len(deps[name]))
			for _, dep := range deps[name] {
				if v, ok := vals[dep]; ok {
					seen[dep] = v
				}
			}
		}
		ctx.Variables = map[string]cty.Value{"local": objectOrEmpty(seen)}
		v, diags := at.Expr.Value(ctx)
		d.add(diags)
		if diags.HasErrors() {
			v = cty.DynamicVal
		}
		vals[name] = v
	}
	for _, c := range cycles {
		for _, name := range c {
			vals[name] = cty.DynamicVal
		}
	}
	return objectOrEmpty(vals)
}

// topoOrder sorts nodes so that each comes after what it depends on, and
// returns the cycles it found (each as the list of its members, in the
// order they refer to each other). Input order breaks ties, so results are
// stable.
func topoOrder(nodes []string, deps map[string][]string) (order []string, cycles [][]string) {
	const (
		unvisited = iota
		active
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(n string)
	visit = func(n string) {
		switch state[n] {
		case done:
			return
		case active:
			for i := len(stack) - 1; i >= 0; i-- {
				if stack[i] == n {
					cycles = append(cycles, append([]string(nil), stack[i:]...))
					break
				}
			}
			return
		}
		state[n] = active
		stack = append(stack, n)
		for _, dep := range deps[n] {
			visit(dep)
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		order = append(order, n)
	}
	for _, n := range nodes {
		visit(n)
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
