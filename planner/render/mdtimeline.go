package render

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"cutover/planner"
)

// mdTimeline writes the timeline: one line of assumptions, a table with a
// row per window, what spills over and what would fit, and, unless the
// level drops charts, a Mermaid gantt per window.
func mdTimeline(m *errWriter, v *view, lv mdLevel) {
	tl := v.plan.Timeline
	if tl == nil || len(v.steps) == 0 {
		return
	}
	m.print("#### Timeline\n\n")
	m.printf("Expected %s. Estimates: %s.\n\n", timelineIntro(tl), basisCounts(v))
	if len(tl.Windows) == 0 {
		return
	}
	windows := tl.Windows
	left := 0
	if c := lv.listCap(); c >= 0 && len(windows) > c {
		windows, left = windows[:c], len(windows)-c
	}
	m.print("| window | closes | disruptive part | steps | VMs | fits? |\n| --- | ---: | --- | ---: | ---: | --- |\n")
	for _, w := range windows {
		fits := fmt.Sprintf("yes, %s to spare", hms(w.CloseS-w.DisruptiveEndS))
		if !w.Fits() {
			fits = fmt.Sprintf("**no**: %s late, %d %s spill over", hms(w.DisruptiveEndS-w.CloseS), len(w.Spill), plural(len(w.Spill), "VM", "VMs"))
		}
		m.printf("| %s | %s | %s → %s | %d | %d | %s |\n", cell(code(w.Name)), offset(w.CloseS),
			offset(w.DisruptiveStartS), offset(w.DisruptiveEndS), w.DisruptiveSteps, w.VMs, fits)
	}
	m.print("\n")
	if left > 0 {
		m.printf("%d more %s left out of this comment.\n\n", left, plural(left, "window is", "windows are"))
	}
	for _, w := range windows {
		if w.Fits() {
			continue
		}
		m.print("> [!CAUTION]\n")
		m.printf("> Window %s closes before its disruptive steps end. %d of %d VMs spill over to its next opening: %s\n>\n",
			code(w.Name), len(w.Spill), w.VMs, namesList(w.Spill, mdNameBudget/4))
		m.printf("> %s\n\n", windowRemedy(w, tl.Parallelism))
	}
	if lv >= mdNoGraph {
		return
	}
	for _, w := range windows {
		mdGantt(m, v, w)
	}
}

// namesList writes compacted names as code spans, within budget bytes.
func namesList(addrs []string, budget int) string {
	names := compactNames(addrs)
	var b strings.Builder
	for i, n := range names {
		s := code(n)
		if budget > 0 && b.Len()+len(s) > budget {
			fmt.Fprintf(&b, " and %d more %s (see `cutover show PLAN --format json`)", len(names)-i, plural(len(names)-i, "entry", "entries"))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s)
	}
	return b.String()
}

// mdNameBudget bounds, in bytes, the list of VMs with disruptive steps, so
// that a wave of thousands of unnumbered names still leaves the comment
// within GitHub's limit.
const mdNameBudget = 36000

// ganttBars is how many bars a window's gantt shows at most: beyond it the
// VMs are drawn in batches, by when their disruptive part starts.
const ganttBars = 16

// ganttEpoch anchors the gantt's clock: the chart needs dates, the
// timeline has offsets, and a date in the viewer's own zone (no zone
// written) keeps the axis at 00:00 wherever the reviewer is.
var ganttEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func ganttTime(s int64) string {
	return ganttEpoch.Add(time.Duration(s) * time.Second).Format("2006-01-02 15:04:05")
}

// mdGantt charts one window: the steps before its disruptive part as one
// bar, each VM's disruptive part (or batches of VMs), and the close as a
// milestone. Bars that end after the close are marked crit (red).
func mdGantt(m *errWriter, v *view, w planner.WindowTimeline) {
	type bar struct {
		vm         string
		start, end int64
	}
	var bars []bar
	idx := map[string]int{}
	var preStart, preEnd int64 = -1, -1
	for _, s := range v.steps {
		if s.Window != w.Name && !(s.Window == "" && v.vmWindow(s.VM) == w.Name) {
			continue
		}
		e := s.Estimate
		if e == nil {
			continue
		}
		if !(s.Disruptive || s.NoReturn) || s.Window != w.Name {
			if preStart < 0 || e.StartS < preStart {
				preStart = e.StartS
			}
			preEnd = max(preEnd, e.End())
			continue
		}
		i, ok := idx[s.VM]
		if !ok {
			i = len(bars)
			idx[s.VM] = i
			bars = append(bars, bar{vm: s.VM, start: e.StartS, end: e.End()})
		}
		bars[i].start, bars[i].end = min(bars[i].start, e.StartS), max(bars[i].end, e.End())
	}
	if len(bars) == 0 {
		return
	}
	sort.SliceStable(bars, func(i, j int) bool { return bars[i].start < bars[j].start })
	m.printf("Window %s, hours from its opening:\n\n", code(w.Name))
	m.print("```mermaid\ngantt\n")
	m.print("  dateFormat YYYY-MM-DD HH:mm:ss\n  axisFormat %H:%M\n")
	if preStart >= 0 && preEnd > preStart {
		m.print("  section other steps\n")
		m.printf("  replication, tests and the rest : %s, %s\n", ganttTime(preStart), ganttTime(preEnd))
	}
	m.print("  section disruptive\n")
	tag := func(end int64) string {
		if end > w.CloseS {
			return "crit, "
		}
		return ""
	}
	if len(bars) <= ganttBars {
		for _, b := range bars {
			m.printf("  %s : %s%s, %s\n", ganttLabel(b.vm), tag(b.end), ganttTime(b.start), ganttTime(b.end))
		}
	} else {
		per := (len(bars) + ganttBars - 1) / ganttBars
		for i := 0; i < len(bars); i += per {
			chunk := bars[i:min(i+per, len(bars))]
			start, end := chunk[0].start, chunk[0].end
			for _, b := range chunk {
				start, end = min(start, b.start), max(end, b.end)
			}
			m.printf("  VMs %d to %d : %s%s, %s\n", i+1, i+len(chunk), tag(end), ganttTime(start), ganttTime(end))
		}
	}
	m.printf("  window closes : milestone, %s, 0m\n", ganttTime(w.CloseS))
	m.print("```\n\n")
}

// ganttLabel makes a VM address safe as a gantt task name, which ends at a
// colon and may not hold '#' or ';'.
func ganttLabel(s string) string {
	return strings.NewReplacer(":", " ", "#", " ", ";", " ", "\n", " ").Replace(s)
}

// vmWindow is the window a VM declares.
func (v *view) vmWindow(addr string) string {
	if v.windowOf == nil {
		v.windowOf = map[string]string{}
		for _, vm := range v.allVMs() {
			v.windowOf[vm.Address] = vm.Window
		}
	}
	return v.windowOf[addr]
}

// mdDisruptiveVMs names every VM with a disruptive step or a point of no
// return, grouped by window, stage change and the disruptive steps it
// runs, with runs of numbered for_each keys compacted. It is what a
// summarised comment keeps when the window tables no longer list VMs.
func mdDisruptiveVMs(m *errWriter, v *view) {
	type group struct {
		window, change, kinds string
		vms                   []string
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, vm := range v.allVMs() {
		var kinds []string
		for _, s := range vm.steps {
			switch {
			case s.NoReturn:
				kinds = append(kinds, code(string(s.Kind))+" (no return)")
			case s.Disruptive:
				kinds = append(kinds, code(string(s.Kind)))
			}
		}
		if len(kinds) == 0 {
			continue
		}
		g := &group{window: vm.Window, change: vm.Live.String() + " → " + mdText(vm.Desired), kinds: strings.Join(kinds, ", ")}
		key := g.window + "\x00" + g.change + "\x00" + g.kinds
		if old, ok := byKey[key]; ok {
			g = old
		} else {
			byKey[key] = g
			groups = append(groups, g)
		}
		g.vms = append(g.vms, vm.Address)
	}
	if len(groups) == 0 {
		return
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].window < groups[j].window })
	m.print("#### VMs with disruptive steps\n\n")
	budget := mdNameBudget
	window := "\x00"
	for i, g := range groups {
		if budget <= 0 {
			m.printf("\nAnd %d more %s of VMs, left out of this comment (see `cutover show PLAN --format json`).\n", len(groups)-i, plural(len(groups)-i, "group", "groups"))
			break
		}
		if g.window != window {
			if window != "\x00" {
				m.print("\n")
			}
			window = g.window
			head := "No window:\n\n"
			if window != "" {
				head = fmt.Sprintf("Window %s:\n\n", code(window))
			}
			budget -= len(head)
			m.print(head)
		}
		names := namesList(g.vms, max(budget, 1))
		line := fmt.Sprintf("- %s, %d %s, each %s: %s\n", g.change, len(g.vms), plural(len(g.vms), "VM", "VMs"), g.kinds, names)
		budget -= len(line)
		m.print(line)
	}
	m.print("\n")
}
