package render

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"cutover/planner"
)

// The timeline's words are shared by the human and Markdown forms, so
// that a reviewer reads the same verdict in the terminal and in the pull
// request.

// offset writes seconds from the start of the run as +1h05m.
func offset(s int64) string { return "+" + hms(s) }

// hms writes a number of seconds as 2h05m, 45m or 30s.
func hms(s int64) string {
	if s < 0 {
		s = 0
	}
	h, m := s/3600, (s%3600+59)/60
	if m == 60 {
		h, m = h+1, 0
	}
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case s < 60:
		return fmt.Sprintf("%ds", s)
	}
	return fmt.Sprintf("%dm", m)
}

// timelineIntro says what the timeline assumes, in one line.
func timelineIntro(tl *planner.Timeline) string {
	return fmt.Sprintf("at parallelism %d, initial replication at %s Mbit/s per VM, from the start of the run (taken as the window's opening); all steps end at %s",
		tl.Parallelism, strconv.FormatFloat(tl.ThroughputMbps, 'f', -1, 64), offset(tl.EndS))
}

// windowVerdict is one window's disruptive part against its close.
func windowVerdict(w planner.WindowTimeline) string {
	part := fmt.Sprintf("disruptive steps %s → %s (%d %s, %d %s), window closes %s",
		offset(w.DisruptiveStartS), offset(w.DisruptiveEndS), w.DisruptiveSteps, plural(w.DisruptiveSteps, "step", "steps"),
		w.VMs, plural(w.VMs, "VM", "VMs"), offset(w.CloseS))
	if w.Fits() {
		return part + fmt.Sprintf(": fits, %s to spare", hms(w.CloseS-w.DisruptiveEndS))
	}
	return part + fmt.Sprintf(": DOES NOT FIT, ends %s after the close", hms(w.DisruptiveEndS-w.CloseS))
}

// windowRemedy says what would fit a window that does not.
func windowRemedy(w planner.WindowTimeline, parallelism int) string {
	if w.Fits() {
		return ""
	}
	var out []string
	if w.FitParallelism > 0 {
		out = append(out, fmt.Sprintf("apply --parallelism %d (plan --parallelism %d to check)", w.FitParallelism, w.FitParallelism))
	} else {
		out = append(out, "no parallelism fits: one VM's steps alone outlast the window (replicate in an earlier run, to stage replicating, or declare a longer window)")
	}
	if w.FitVMs > 0 {
		out = append(out, fmt.Sprintf("split the wave: the first %d %s fit at parallelism %d, the other %d need another window",
			w.FitVMs, plural(w.FitVMs, "VM", "VMs"), parallelism, len(w.Spill)))
	}
	return "To fit: " + strings.Join(out, "; or ") + "."
}

// basisCounts counts the steps by where their estimate came from,
// "12 default, 3 median of 4 earlier runs".
func basisCounts(v *view) string {
	count := map[string]int{}
	for _, s := range v.steps {
		if s.Estimate != nil {
			count[s.Estimate.Basis]++
		}
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", count[k], k)
	}
	return strings.Join(parts, ", ")
}

// timeline writes the human form's timeline section.
func (h *human) timeline(v *view) {
	tl := v.plan.Timeline
	if tl == nil || len(v.steps) == 0 {
		return
	}
	h.part("timeline")
	h.printf("\n%s %s.\n", h.paint(ansiBold, "Timeline:"), timelineIntro(tl))
	h.printf("  estimates: %s\n", basisCounts(v))
	for _, w := range tl.Windows {
		verdict := windowVerdict(w)
		if !w.Fits() {
			verdict = h.paint(ansiBold+ansiRed, verdict)
		}
		h.printf("  window %q: %s\n", w.Name, verdict)
		if !w.Fits() {
			h.printf("    %d of %d VMs spill over: %s\n", len(w.Spill), w.VMs, strings.Join(compactNames(w.Spill), ", "))
			h.printf("    %s\n", windowRemedy(w, tl.Parallelism))
		}
	}
}
