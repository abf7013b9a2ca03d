package render

import (
	"errors"
	"strings"
)

// errOverBudget stops a Markdown rendering as soon as it outgrows its
// budget, so that trying the next, smaller level costs at most the budget
// again rather than a full rendering of a plan of thousands of VMs.
var errOverBudget = errors.New("rendering exceeds its size budget")

// boundedBuffer keeps what is written to it up to max bytes and refuses
// the write that would pass it.
type boundedBuffer struct {
	strings.Builder
	max int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, errOverBudget
	}
	return b.Builder.Write(p)
}

// mdList writes items one a line after prefix, the first limit of them
// when limit is not negative, and then says how many it left out.
func mdList(m *errWriter, prefix string, items []string, limit int) {
	shown := items
	if limit >= 0 && len(items) > limit {
		shown = items[:limit]
	}
	for _, it := range shown {
		m.printf("%s%s\n", prefix, it)
	}
	switch left := len(items) - len(shown); {
	case left == 0:
	case len(shown) == 0:
		m.printf("%s(all %d left out of this comment)\n", prefix, left)
	default:
		m.printf("%sand %d more, left out of this comment\n", prefix, left)
	}
}

// inlineList joins items with commas, cut like mdList.
func inlineList(items []string, limit int) string {
	if limit < 0 || len(items) <= limit {
		return strings.Join(items, ", ")
	}
	left := len(items) - limit
	if limit == 0 {
		return "left out of this comment"
	}
	return strings.Join(items[:limit], ", ") + ", and " + plural(left, "one more", "more") + " left out of this comment"
}

// stepIDs lists steps' IDs as code spans.
func stepIDs(steps []*stepView) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = code(s.ID)
	}
	return out
}

// mdNotice says, in a summarised comment, what it left out and where to
// find all of it. It names only what the plan had to leave out: a plan
// without steps has no graph to miss.
func mdNotice(m *errWriter, v *view, lv mdLevel) {
	if lv == mdFull {
		return
	}
	steps, vms := len(v.steps), len(v.allVMs())
	long := len(v.noReturn()) > mdListCap || len(v.windows()) > mdListCap
	var out []string
	if lv >= mdNoDetails && steps > 0 {
		out = append(out, "each VM's steps with their inputs and gates;")
	}
	if lv >= mdWindowCounts && lv < mdMinimal && vms > 0 {
		out = append(out, "the window tables' row per VM: each window counts its VMs by stage change instead;")
	}
	if lv >= mdNoGraph && steps > 0 {
		out = append(out, "the graph and the timeline charts;")
	}
	if lv == mdShortLists && long {
		out = append(out, "all but the first 20 entries of the lists of points of no return and of windows;")
	}
	if lv >= mdMinimal && vms > 0 {
		out = append(out, "the lists of points of no return and of windows, and the window tables;")
	}
	if len(out) == 0 {
		return
	}
	m.print("> [!NOTE]\n")
	m.printf("> This plan, %d %s and %d %s, is too large for one pull-request comment. To stay within GitHub's size limit, this comment leaves out:\n",
		vms, plural(vms, "VM", "VMs"), steps, plural(steps, "step", "steps"))
	for _, l := range out {
		m.printf("> - %s\n", l)
	}
	m.print(">\n")
	m.print("> To see all of it, write the whole plan to a file with `cutover show PLAN --format markdown > plan.md`, " +
		"or read it as JSON with `cutover show PLAN --format json` (fields described in docs/plan-json.md).\n\n")
}
