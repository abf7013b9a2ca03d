package main

import (
	"fmt"
	"io"
	"sort"

	"cutover/planner"
	"cutover/planner/render"
)

// bigPlanSteps is the size above which apply DIR shows a plan's summary
// instead of every step: a 1,000-VM wave is some 50,000 lines that nobody
// reads in a terminal before answering "yes". The full plan is one flag
// (--show-plan) or one command (plan --out FILE; cutover show FILE) away.
const bigPlanSteps = 200

// showPlan prints the plan apply DIR asks about: all of it when it is
// small or when asked, else its summary and per-window counts.
func showPlan(w io.Writer, p *planner.Plan, all, noColor bool) error {
	if all || len(p.Steps) <= bigPlanSteps {
		return render.Human(w, p, render.HumanOptions{Color: colorFor(w, noColor)})
	}
	return briefPlan(w, p)
}

// windowCount is what one window (or none) holds in a plan.
type windowCount struct {
	name                   string
	vms, steps, disruptive int
	noReturn               int
	schedule, zone, length string
}

// briefPlan writes a plan's header, counts and per-window counts.
func briefPlan(w io.Writer, p *planner.Plan) error {
	s := p.Summarize()
	vms := map[string]bool{}
	byWindow := map[string]*windowCount{}
	vmWindow := map[string]map[string]bool{}
	for _, wi := range p.Windows {
		byWindow[wi.Name] = &windowCount{name: wi.Name, schedule: wi.Schedule, zone: wi.Timezone, length: wi.Duration}
	}
	for _, st := range p.Steps {
		vms[st.VM] = true
		wc := byWindow[st.Window]
		if wc == nil {
			wc = &windowCount{name: st.Window}
			byWindow[st.Window] = wc
		}
		wc.steps++
		if st.Disruptive {
			wc.disruptive++
		}
		if st.NoReturn {
			wc.noReturn++
		}
		if vmWindow[st.Window] == nil {
			vmWindow[st.Window] = map[string]bool{}
		}
		if !vmWindow[st.Window][st.VM] {
			vmWindow[st.Window][st.VM] = true
			wc.vms++
		}
	}
	fmt.Fprintf(w, "Runbook %q: %s on %s.\n", p.Runbook, count(len(p.Steps), "step", "steps"), count(len(vms), "VM", "VMs"))
	fmt.Fprintf(w, "\nPlan: %d to replicate, %d to update, %d to test, %d to fail over, %d to commit, %d on the source side, %d disruptive, %s; %s unchanged.\n",
		s.Replicate, s.Update, s.Test, s.Failover, s.Commit, s.Source, s.Disruptive,
		count(s.NoReturn, "point of no return", "points of no return"), count(s.Unchanged, "VM", "VMs"))
	names := make([]string, 0, len(byWindow))
	for n := range byWindow {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "\nBy window:")
	for _, n := range names {
		wc := byWindow[n]
		if wc.steps == 0 {
			continue
		}
		label := "no window (runs whenever apply runs)"
		if n != "" {
			label = fmt.Sprintf("window %q", n)
			if wc.schedule != "" {
				label += fmt.Sprintf(" (%s for %s, %s)", wc.schedule, wc.length, zoneName(wc.zone))
			}
		}
		fmt.Fprintf(w, "  %s: %s, %s, %d disruptive, %s\n", label, count(wc.vms, "VM", "VMs"), count(wc.steps, "step", "steps"),
			wc.disruptive, count(wc.noReturn, "point of no return", "points of no return"))
	}
	fmt.Fprintf(w, "\nThe plan has more than %d steps, so they are not listed. Print them with\n"+
		"--show-plan, or save the plan with 'cutover plan DIR --out FILE', read it\n"+
		"with 'cutover show FILE' and apply exactly that file.\n", bigPlanSteps)
	return nil
}

// count writes n with the right form of its noun: "1 error", "2 errors".
func count(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func zoneName(z string) string {
	if z == "" {
		return "UTC"
	}
	return z
}
