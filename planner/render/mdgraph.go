package render

import (
	"fmt"
	"strings"
)

// The pull-request graph is drawn for a reader, not for the executor: a
// node per step makes a 20-VM wave 104 edges wide, which GitHub shrinks to
// unreadable text, and a 1,000-VM wave is past Mermaid's limits. So the
// comment draws a node per VM while there are few, and a node per group
// of VMs (window and stage change) above that, left to right so that
// independent VMs stack down the page instead of across it. The step graph
// itself is `show --format mermaid` or `dot`.

// mdGraphVMs is the most VMs drawn one node each.
const mdGraphVMs = 24

// mdGraphGroups is the most group nodes drawn; a plan with more groups
// (dozens of windows) gets no graph, and says so.
const mdGraphGroups = 40

type gnode struct {
	id, label, class string
}

// readableMermaid returns the Mermaid flowchart of the plan at the scale
// the comment can show, and a sentence saying what its nodes are; "" when
// no such graph can be drawn.
func readableMermaid(v *view) (string, string) {
	var changing []*vmView
	for _, vm := range v.allVMs() {
		if len(vm.steps) > 0 {
			changing = append(changing, vm)
		}
	}
	if len(changing) == 0 {
		return "", ""
	}
	nodeOf := map[string]string{} // VM address -> node id
	var nodes []*gnode
	byID := map[string]*gnode{}
	perVM := len(changing) <= mdGraphVMs
	for _, vm := range changing {
		var key, label string
		if perVM {
			key = vm.Address
			label = vm.Address + "<br/>" + vm.Live.String() + " → " + vm.Desired + "<br/>" + stepKinds(vm)
		} else {
			win := "no window"
			if vm.Window != "" {
				win = "window " + vm.Window
			}
			key = win + "\x00" + vm.Live.String() + "\x00" + vm.Desired
			label = win + "<br/>" + vm.Live.String() + " → " + vm.Desired
		}
		n := byID[key]
		if n == nil {
			n = &gnode{id: fmt.Sprintf("n%d", len(nodes)), label: label}
			byID[key] = n
			nodes = append(nodes, n)
		}
		nodeOf[vm.Address] = n.id
		switch {
		case vm.noReturn > 0:
			n.class = ClassNoReturn
		case vm.disruptive > 0 && n.class == "":
			n.class = ClassDisruptive
		}
	}
	if len(nodes) > mdGraphGroups {
		return "", ""
	}
	if !perVM {
		count := map[string]int{}
		for _, vm := range changing {
			count[nodeOf[vm.Address]]++
		}
		for _, n := range nodes {
			n.label += fmt.Sprintf("<br/>%d %s", count[n.id], plural(count[n.id], "VM", "VMs"))
		}
	}
	// Edges: a step depending on another VM's step orders the VMs (or
	// their groups); each pair once.
	seen := map[[2]string]bool{}
	var edges [][2]string
	for _, s := range v.steps {
		for _, d := range s.DependsOn {
			dep := v.byID[d]
			if dep == nil || dep.VM == s.VM {
				continue
			}
			e := [2]string{nodeOf[dep.VM], nodeOf[s.VM]}
			if e[0] == "" || e[1] == "" || e[0] == e[1] || seen[e] {
				continue
			}
			seen[e] = true
			edges = append(edges, e)
		}
	}
	if len(edges) > mermaidMaxEdges {
		return "", ""
	}
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for _, n := range nodes {
		fmt.Fprintf(&b, "  %s[\"%s\"]\n", n.id, labelEscape(n.label))
	}
	for _, e := range edges {
		fmt.Fprintf(&b, "  %s --> %s\n", e[0], e[1])
	}
	for _, c := range []string{ClassDisruptive, ClassNoReturn} {
		var ids []string
		for _, n := range nodes {
			if n.class == c {
				ids = append(ids, n.id)
			}
		}
		if len(ids) > 0 {
			fmt.Fprintf(&b, "  classDef %s %s\n  class %s %s\n", c, mermaidClassDefs[c], strings.Join(ids, ","), c)
		}
	}
	out := b.String()
	if len(out) > mermaidMaxText {
		return "", ""
	}
	what := "One node per VM with its stage change and count of steps; an arrow means the runbook's `depends_on` orders two VMs."
	if !perVM {
		what = "One node per window and stage change, with its count of VMs; an arrow means a VM of one waits for a VM of the other (`depends_on`)."
	}
	return out, what + " Amber: disruptive steps; red: points of no return. The graph of every step: `cutover show PLAN --format mermaid`."
}

// stepKinds sums up a VM's steps for its node: the kinds are in the
// window table and the folded details, and a node that lists them grows
// taller than the page.
func stepKinds(vm *vmView) string {
	out := fmt.Sprintf("%d %s", len(vm.steps), plural(len(vm.steps), "step", "steps"))
	if vm.disruptive > 0 {
		out += fmt.Sprintf(", %d disruptive", vm.disruptive)
	}
	if vm.noReturn > 0 {
		out += fmt.Sprintf(", %d no return", vm.noReturn)
	}
	return out
}

// labelEscape makes text safe in a quoted Mermaid label, keeping the <br/>
// line breaks this file writes: quotes would end the label, '#' starts an
// entity, and '<', '>' from a VM name must not be read as HTML.
func labelEscape(s string) string {
	const br = "\x00br\x00"
	s = strings.ReplaceAll(s, "<br/>", br)
	s = strings.NewReplacer("#", "#35;", `"`, "#quot;", "<", "#lt;", ">", "#gt;", "&", "#amp;").Replace(s)
	return strings.ReplaceAll(s, br, "<br/>")
}
