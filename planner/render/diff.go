package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"cutover/planner"
)

// Diff writes what changed between a reviewed plan (old) and a fresh one
// (new): VMs added or dropped, VMs whose live stage, fingerprint or target
// moved, and steps added, removed or changed field by field. That summary
// compares structure, so that a change reads as "this step now also waits
// for that one" instead of as shifted lines. It ends with a unified diff
// (three lines of context, no colour) of the two plans' human renderings,
// for the reviewer who wants to see the change where they read the plan.
// Creation and expiry times are left out of both: they differ between any
// two plans and say nothing about what apply would do.
func Diff(w io.Writer, old, new *planner.Plan) error {
	a, b := newView(old), newView(new)
	d := &errWriter{w: w}

	var head []string
	if old.Runbook != new.Runbook {
		head = append(head, fmt.Sprintf("runbook: %q -> %q", old.Runbook, new.Runbook))
	}
	if old.RunbookHash != new.RunbookHash {
		head = append(head, fmt.Sprintf("runbook hash: %s -> %s (the runbook was edited)", short(old.RunbookHash), short(new.RunbookHash)))
	}
	if sa, sb := summaryLine(a.sum), summaryLine(b.sum); sa != sb {
		head = append(head, "summary: "+sa, "      -> "+sb)
	}
	vms := diffVMs(a, b)
	steps := diffSteps(a, b)
	ops := diffParts(untimedParts(a), untimedParts(b))
	textChanged := len(hunks(ops, diffContext)) > 0

	if len(head) == 0 && len(vms) == 0 && len(steps) == 0 && !textChanged {
		d.print("No differences: the new plan does what the reviewed plan does, from the same live state.\n")
		return d.err
	}
	d.print("Changes since the reviewed plan:\n")
	if len(head) > 0 {
		d.print("\n")
		for _, l := range head {
			d.printf("  %s\n", l)
		}
	}
	if len(vms) > 0 {
		d.print("\nVMs:\n")
		for _, l := range vms {
			d.printf("  %s\n", l)
		}
	}
	if len(steps) > 0 {
		d.print("\nSteps:\n")
		for _, l := range steps {
			d.printf("  %s\n", l)
		}
	}
	if textChanged {
		d.print("\nThe human renderings, line by line (planning times left out):\n\n")
		unified(d, "reviewed plan", "new plan", ops, diffContext)
	}
	return d.err
}

// diffContext is how many unchanged lines the line diff keeps around a
// change, as diff -u does.
const diffContext = 3

// part is a piece of a human rendering: the header, one VM's block, one
// unchanged VM's line, ... with the key that names it in both plans.
type part struct {
	key   string
	lines []string
}

// untimedParts is the human rendering Diff compares line by line, cut into
// parts: no colour, and without the line of planning and expiry times,
// which differ between any two plans.
func untimedParts(v *view) []part {
	var (
		parts []part
		buf   strings.Builder
		key   = "header"
	)
	flush := func() {
		if buf.Len() > 0 {
			parts = append(parts, part{key: key, lines: strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")})
			buf.Reset()
		}
	}
	h := &human{errWriter: errWriter{w: &buf}, untimed: true, mark: func(k string) { flush(); key = k }}
	// A strings.Builder does not fail, so neither can the rendering.
	_ = writeHuman(h, v)
	flush()
	return parts
}

// diffParts diffs two renderings in two passes: first the lists of part
// keys, so that VM blocks are matched by address, then the lines of each
// matched pair. One diff over all lines gives the same result for a small
// plan, but its cost grows with lines times changes: two renderings of
// 5,000 VMs that all moved on took minutes. Part by part it is a sum of
// small diffs. Parts only in one plan are removed or added whole.
func diffParts(old, new []part) []lineOp {
	keys := func(ps []part) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = p.key
		}
		return out
	}
	var ops []lineOp
	all := func(kind byte, p part) {
		for _, l := range p.lines {
			ops = append(ops, lineOp{kind: kind, text: l})
		}
	}
	i, j := 0, 0
	for _, k := range diffLines(keys(old), keys(new)) {
		switch k.kind {
		case '-':
			all('-', old[i])
			i++
		case '+':
			all('+', new[j])
			j++
		default:
			ops = append(ops, diffLines(old[i].lines, new[j].lines)...)
			i++
			j++
		}
	}
	return ops
}

func diffVMs(a, b *view) []string {
	olds := map[string]*vmView{}
	for _, vm := range a.allVMs() {
		olds[vm.Address] = vm
	}
	news := map[string]bool{}
	var out []string
	for _, nv := range b.allVMs() {
		news[nv.Address] = true
		ov, ok := olds[nv.Address]
		if !ok {
			out = append(out, fmt.Sprintf("+ %s: new in this plan (%s, desired %s)", nv.Address, nv.Live, nv.Desired))
			continue
		}
		var lines []string
		if ov.Live != nv.Live {
			lines = append(lines, fmt.Sprintf("live stage: %s -> %s", ov.Live, nv.Live))
		}
		for _, f := range ov.Fingerprint.Diff(nv.Fingerprint) {
			// Live placement reads back what a relocation wrote, so it is
			// as secret as the runbook placement that fed it.
			if strings.HasPrefix(f, "placement ") && placementSensitive(ov, nv) {
				f = "placement " + Sensitive + " -> " + Sensitive
			}
			lines = append(lines, "live state: "+f)
		}
		for _, f := range []struct{ name, o, n string }{
			{"desired stage", ov.Desired, nv.Desired},
			{"target_name", ov.TargetName, nv.TargetName},
			{"size", ov.Size, nv.Size},
			{"subnet", ov.Subnet, nv.Subnet},
			{"window", ov.Window, nv.Window},
		} {
			if f.o != f.n {
				lines = append(lines, fmt.Sprintf("%s: %s -> %s", f.name, quote(f.o), quote(f.n)))
			}
		}
		if len(lines) > 0 {
			out = append(out, "~ "+nv.Address)
			for _, l := range lines {
				out = append(out, "    "+l)
			}
		}
	}
	for _, ov := range a.allVMs() {
		if !news[ov.Address] {
			out = append(out, fmt.Sprintf("- %s: no longer in the plan", ov.Address))
		}
	}
	return out
}

func diffSteps(a, b *view) []string {
	var out []string
	for _, ns := range b.steps {
		os, ok := a.byID[ns.ID]
		if !ok {
			out = append(out, "+ "+ns.ID+stepFlags(ns))
			continue
		}
		if lines := stepChanges(os, ns); len(lines) > 0 {
			out = append(out, "~ "+ns.ID)
			for _, l := range lines {
				out = append(out, "    "+l)
			}
		}
	}
	for _, os := range a.steps {
		if _, ok := b.byID[os.ID]; !ok {
			out = append(out, "- "+os.ID+stepFlags(os))
		}
	}
	return out
}

// stepFlags marks an added or removed step that a reviewer must notice.
func stepFlags(s *stepView) string {
	switch {
	case s.NoReturn:
		return " (point of no return)"
	case s.Disruptive:
		return " (disruptive)"
	}
	return ""
}

// stepChanges lists the fields that differ between two versions of a step.
func stepChanges(o, n *stepView) []string {
	var out []string
	field := func(name, ov, nv string) {
		if ov != nv {
			out = append(out, fmt.Sprintf("%s: %s -> %s", name, quote(ov), quote(nv)))
		}
	}
	field("kind", string(o.Kind), string(n.Kind))
	if od, nd := "["+strings.Join(o.DependsOn, ", ")+"]", "["+strings.Join(n.DependsOn, ", ")+"]"; od != nd {
		out = append(out, "depends_on: "+od+" -> "+nd)
	}
	field("disruptive", strconv.FormatBool(o.Disruptive), strconv.FormatBool(n.Disruptive))
	field("no_return", strconv.FormatBool(o.NoReturn), strconv.FormatBool(n.NoReturn))
	field("window", o.Window, n.Window)
	field("gate", o.Gate, n.Gate)
	field("inverse", string(o.Inverse), string(n.Inverse))
	keys := map[string]string{}
	for k := range o.Inputs {
		keys[k] = ""
	}
	for k := range n.Inputs {
		keys[k] = ""
	}
	for _, k := range sortedKeys(keys) {
		ov, inOld := o.Inputs[k]
		nv, inNew := n.Inputs[k]
		switch {
		case !inOld:
			out = append(out, fmt.Sprintf("inputs.%s: added %s", k, quote(nv)))
		case !inNew:
			out = append(out, fmt.Sprintf("inputs.%s: removed (was %s)", k, quote(ov)))
		default:
			field("inputs."+k, ov, nv)
		}
	}
	if oc, nc := changesText(o.Changes), changesText(n.Changes); oc != nc {
		out = append(out, "changes: "+oc+"  =>  "+nc)
	}
	return out
}

func changesText(cs []planner.Change) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, c.Attribute+" "+quote(c.Old)+" -> "+quote(c.New))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

func placementSensitive(vms ...*vmView) bool {
	for _, vm := range vms {
		for _, k := range []string{"source.host", "source.resource_pool", "source.datastore", "source.folder"} {
			if secrets(vm.Sensitive).covers(k) {
				return true
			}
		}
	}
	return false
}
