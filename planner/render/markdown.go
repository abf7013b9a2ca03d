package render

import (
	"errors"
	"html"
	"io"
	"strings"

	"cutover/planner"
)

// Markdown writes the plan as a GitHub pull-request comment: alerts for
// points of no return and disruptive steps, a summary table, a table per
// maintenance window, the DAG as a Mermaid graph, the rollback preview and,
// folded away, every VM's steps with their inputs and gates. The comment
// stays within MarkdownCommentLimit: a larger plan is summarised as
// MarkdownWith describes.
func Markdown(w io.Writer, p *planner.Plan) error {
	return MarkdownWith(w, p, MarkdownOptions{})
}

// MarkdownCommentLimit is the size in bytes Markdown keeps a comment
// within. GitHub refuses a comment over 65,536 characters; counting bytes
// instead can only overestimate (the arrows are three bytes each), and the
// rest is headroom for what a CI job adds around the plan.
const MarkdownCommentLimit = 60000

// MarkdownOptions tune MarkdownWith.
type MarkdownOptions struct {
	// MaxBytes bounds the rendering's size: 0 means MarkdownCommentLimit,
	// a negative value no bound at all (for a file rather than a comment).
	MaxBytes int
}

// MarkdownWith writes the Markdown rendering within opts.MaxBytes. A plan
// that does not fit is summarised, leaving out, in this order and only as
// far as needed:
//
//  1. each VM's folded steps (the <details> blocks);
//  2. the per-VM rows of the window tables, which become counts of VMs,
//     steps, disruptive steps and points of no return per stage change;
//  3. the Mermaid step graph (which has its own size rule as well);
//  4. all but the first 20 entries of the lists of points of no return and
//     of disruptive windows, and all but the first 20 window sections;
//  5. those lists and window sections entirely.
//
// The header, the alerts, the summary line and table and the rollback
// table are always kept. A summarised comment says, in a note under the
// alerts, what it left out and how to see all of it.
func MarkdownWith(w io.Writer, p *planner.Plan, opts MarkdownOptions) error {
	d := &mdDoc{v: newView(p)}
	limit := opts.MaxBytes
	if limit == 0 {
		limit = MarkdownCommentLimit
	}
	if limit < 0 {
		return d.write(w, mdFull)
	}
	for lv := mdFull; lv < mdMinimal; lv++ {
		b := &boundedBuffer{max: limit}
		err := d.write(b, lv)
		if err == nil {
			_, err = io.WriteString(w, b.String())
			return err
		}
		if !errors.Is(err, errOverBudget) {
			return err
		}
	}
	// The last level is as small as the plan's counts allow; it is written
	// whatever its size, since a comment that says what it left out beats
	// none.
	return d.write(w, mdMinimal)
}

// mdLevel is how much of a plan a Markdown rendering leaves out; each
// level leaves out what the ones before it did, and more.
type mdLevel int

const (
	mdFull         mdLevel = iota
	mdNoDetails            // no per-VM <details>
	mdWindowCounts         // window tables as counts, not one row per VM
	mdNoGraph              // no Mermaid graph
	mdShortLists           // lists cut to mdListCap entries
	mdMinimal              // no lists of steps or windows at all
)

// mdListCap is how many entries a cut list keeps.
const mdListCap = 20

// mdDoc renders one plan at any level.
type mdDoc struct {
	v *view
}

// listCap is how many entries of a list the level keeps; -1 means all.
func (lv mdLevel) listCap() int {
	switch {
	case lv >= mdMinimal:
		return 0
	case lv >= mdShortLists:
		return mdListCap
	}
	return -1
}

func (d *mdDoc) write(w io.Writer, lv mdLevel) error {
	v := d.v
	m := &errWriter{w: w}
	pl := v.plan
	m.printf("### cutover plan: %s\n\n", code(pl.Runbook))
	m.printf("Runbook hash %s, planned %s by cutover %s, applicable until %s.\n\n",
		code(short(pl.RunbookHash)), stamp(pl.CreatedAt), code(pl.ToolVersion), stamp(pl.ExpiresAt))

	if ws := v.warnings(); len(ws) > 0 {
		m.print("> [!WARNING]\n> The runbook asks for what this plan cannot do:\n")
		mdList(m, "> - ", ws, lv.listCap())
		m.print("\n")
	}
	if avs := v.azureVMs(); len(avs) > 0 {
		m.print("Azure VMs (read live):\n\n")
		mdList(m, "- ", avs, lv.listCap())
		m.print("\n")
	}
	if len(v.steps) == 0 {
		n := len(v.vms)
		m.printf("**No changes.** %d %s already at %s desired stage.\n", n, plural(n, "VM is", "VMs are"), plural(n, "its", "their"))
		if n > 0 {
			m.print("\n")
			mdNotice(m, v, lv)
			mdWindowsAt(m, v, lv)
		}
		return m.err
	}

	if nr := v.noReturn(); len(nr) > 0 {
		m.print("> [!CAUTION]\n")
		m.printf("> This plan passes **%d %s**. Once applied, %s cannot be undone:\n",
			len(nr), plural(len(nr), "point of no return", "points of no return"), plural(len(nr), "this step", "these steps"))
		mdList(m, "> - ", stepIDs(nr), lv.listCap())
		m.print("\n")
	}
	if d := v.sum.Disruptive; d > 0 {
		var ws []string
		seen := map[string]bool{}
		for _, s := range v.steps {
			if s.Disruptive && s.Window != "" && !seen[s.Window] {
				seen[s.Window] = true
				ws = append(ws, code(s.Window))
			}
		}
		m.print("> [!WARNING]\n")
		m.printf("> **%d disruptive %s** %s running workloads", d, plural(d, "step", "steps"), plural(d, "stops or moves", "stop or move"))
		if len(ws) > 0 {
			m.printf("; %s only inside %s %s", plural(d, "it runs", "they run"), plural(len(ws), "window", "windows"), inlineList(ws, lv.listCap()))
		}
		m.print(".\n\n")
	}
	mdNotice(m, v, lv)

	m.printf("**Plan:** %s.\n\n", summaryLine(v.sum))
	mdSummary(m, v)
	mdTimeline(m, v, lv)
	mdWindowsAt(m, v, lv)
	if lv >= mdWindowCounts {
		mdDisruptiveVMs(m, v)
	}

	if lv < mdNoGraph {
		mdGraph(m, v)
	}

	mdUndo(m, v, lv.listCap())

	if lv < mdNoDetails {
		m.print("#### Steps per VM\n\n")
		for _, vm := range v.allVMs() {
			if len(vm.steps) > 0 {
				mdVM(m, vm)
			}
		}
	}
	return m.err
}

// Mermaid's defaults, which GitHub keeps: a larger diagram is replaced by
// an error box, which helps nobody, so the comment says so instead.
const (
	mermaidMaxText  = 50000
	mermaidMaxEdges = 500
)

// mdGraph writes the graph section: the readable graph of mdgraph.go, or
// a sentence saying why there is none.
func mdGraph(m *errWriter, v *view) {
	m.print("#### Graph\n\n")
	graph, what := readableMermaid(v)
	if graph == "" {
		m.printf("The plan's %d VMs fall into more groups than one graph can show; render the plan in the dot or mermaid format to see its steps.\n\n", len(v.allVMs()))
		return
	}
	m.print(what + "\n\n")
	m.print("```mermaid\n")
	m.print(graph)
	m.print("```\n\n")
}

func mdSummary(m *errWriter, v *view) {
	s := v.sum
	changed := 0
	for _, vm := range v.allVMs() {
		if len(vm.steps) > 0 {
			changed++
		}
	}
	m.print("| | count |\n| --- | ---: |\n")
	for _, r := range []struct {
		name string
		n    int
	}{
		{"VMs changing", changed},
		{"VMs already at their desired stage", s.Unchanged},
		{"steps", len(v.steps)},
		{"to replicate", s.Replicate},
		{"to update", s.Update},
		{"to test", s.Test},
		{"to fail over", s.Failover},
		{"to commit", s.Commit},
		{"source changes", s.Source},
		{"disruptive", s.Disruptive},
		{"points of no return", s.NoReturn},
	} {
		m.printf("| %s | %d |\n", r.name, r.n)
		if r.name == "steps" && s.Undo > 0 {
			// Only an inverse plan has undo steps; forward plans keep
			// their table as it was.
			m.printf("| to undo | %d |\n", s.Undo)
		}
	}
	m.print("\n")
}

// mdWindowsAt writes one table per maintenance window: a wave is usually
// what shares a window, and reviewers sign off a window at a time. From
// mdWindowCounts on, a window's table counts VMs per stage change instead
// of listing them.
func mdWindowsAt(m *errWriter, v *view, lv mdLevel) {
	if lv >= mdMinimal {
		return
	}
	names := v.windows()
	left := 0
	if c := lv.listCap(); c >= 0 && len(names) > c {
		names, left = names[:c], len(names)-c
	}
	for _, name := range names {
		if name == "" {
			m.print("#### No window\n\n")
			m.print("No maintenance window is declared for these VMs.\n\n")
		} else {
			m.printf("#### Window %s\n\n", code(name))
			if wi, ok := v.windowInfo(name); ok {
				m.printf("Opens %s for %s", code(wi.Schedule), code(wi.Duration))
				if wi.Timezone != "" {
					m.printf(" (%s)", wi.Timezone)
				}
				m.print(".\n\n")
			}
		}
		if lv >= mdWindowCounts {
			mdWindowCountRows(m, v, name)
		} else {
			mdWindowRows(m, v, name)
		}
		m.print("\n")
	}
	if left > 0 {
		m.printf("%d more %s left out of this comment.\n\n", left, plural(left, "window is", "windows are"))
	}
}

func mdWindowRows(m *errWriter, v *view, name string) {
	m.print("| VM | stage now → target | size | subnet | window | steps | disruptive steps |\n")
	m.print("| --- | --- | --- | --- | --- | ---: | --- |\n")
	for _, vm := range v.allVMs() {
		if vm.Window != name {
			continue
		}
		var dis []string
		for _, s := range vm.steps {
			if s.Disruptive || s.NoReturn {
				t := string(s.Kind)
				if s.NoReturn {
					t += " (no return)"
				}
				dis = append(dis, cell(code(t)))
			}
		}
		m.printf("| %s | %s → %s | %s | %s | %s | %d | %s |\n",
			cell(code(vm.Address)), vm.Live, cell(mdText(vm.Desired)), cell(mdValue(vm.Size)), cell(mdValue(vm.Subnet)),
			cell(mdValue(vm.Window)), len(vm.steps), strings.Join(dis, ", "))
	}
}

// mdWindowCountRows is a window's table for a plan too large to list its VMs:
// one row per stage change, in the order the changes first appear, which
// is as many rows as a wave has kinds of VM, not VMs.
func mdWindowCountRows(m *errWriter, v *view, name string) {
	type row struct {
		change                           string
		vms, steps, disruptive, noReturn int
	}
	var rows []*row
	byChange := map[string]*row{}
	for _, vm := range v.allVMs() {
		if vm.Window != name {
			continue
		}
		change := vm.Live.String() + " → " + cell(mdText(vm.Desired))
		r := byChange[change]
		if r == nil {
			r = &row{change: change}
			byChange[change] = r
			rows = append(rows, r)
		}
		r.vms++
		r.steps += len(vm.steps)
		r.disruptive += vm.disruptive
		r.noReturn += vm.noReturn
	}
	m.print("| stage now → target | VMs | steps | disruptive steps | points of no return |\n")
	m.print("| --- | ---: | ---: | ---: | ---: |\n")
	for _, r := range rows {
		m.printf("| %s | %d | %d | %d | %d |\n", r.change, r.vms, r.steps, r.disruptive, r.noReturn)
	}
}

func mdUndo(m *errWriter, v *view, listCap int) {
	undos := v.undos()
	nr := v.noReturn()
	m.print("#### To undo this\n\n")
	if len(undos) == 0 {
		m.print("No step of this plan has an inverse.\n\n")
	} else {
		m.print("A rollback builds an inverse plan from the journal and runs, in reverse order:\n\n")
		m.print("| inverse step | count | undoes |\n| --- | ---: | --- |\n")
		for _, u := range undos {
			m.printf("| %s | %d | %s |\n", code(string(u.Inverse)), u.Count, code(string(u.Of)))
		}
		m.print("\n")
	}
	if len(nr) > 0 {
		m.print("Cannot be undone once applied (points of no return):\n\n")
		mdList(m, "- ", stepIDs(nr), listCap)
		m.print("\n")
	}
}

// mdVM folds one VM's steps into a <details> block: the tables above are
// what most reviews need, the inputs are for the reviewer who checks them.
func mdVM(m *errWriter, vm *vmView) {
	m.printf("<details>\n<summary><code>%s</code>: %s → %s, %d %s",
		html.EscapeString(vm.Address), html.EscapeString(vm.Live.String()), html.EscapeString(vm.Desired),
		len(vm.steps), plural(len(vm.steps), "step", "steps"))
	if vm.disruptive > 0 {
		m.printf(", %d disruptive", vm.disruptive)
	}
	if vm.noReturn > 0 {
		m.printf(", %d no return", vm.noReturn)
	}
	m.print("</summary>\n\n")
	for _, a := range vm.AzureVMs {
		m.printf("Azure VM %s\n\n", mdValue(a.String()))
	}
	for i, s := range vm.steps {
		m.printf("%d. %s %s\n", i+1, code(symbol(*s.Step)), code(stepName(*s.Step)))
		if name := stepName(*s.Step); name != string(s.Kind) {
			m.printf("   - runs %s\n", code(string(s.Kind)))
		}
		if s.NoReturn {
			m.print("   - **point of no return**\n")
		}
		if s.Disruptive {
			if s.Window != "" {
				m.printf("   - **disruptive**: only in window %s\n", mdValue(s.Window))
			} else {
				m.print("   - **disruptive**, no window declared\n")
			}
		}
		if len(s.DependsOn) > 0 {
			var ds []string
			for _, d := range s.DependsOn {
				ds = append(ds, code(d))
			}
			m.printf("   - after %s\n", strings.Join(ds, ", "))
		}
		if s.Gate != "" {
			m.printf("   - gate: %s\n", code(s.Gate))
		}
		if len(s.Inputs) > 0 {
			m.print("   - inputs:\n")
			for _, k := range sortedKeys(s.Inputs) {
				m.printf("     - %s = %s\n", code(k), mdValue(s.Inputs[k]))
			}
		}
		if len(s.Changes) > 0 {
			m.print("   - changes:\n")
			for _, c := range s.Changes {
				if multiline(c.Old, c.New) {
					m.printf("     - %s:\n", code(c.Attribute))
					mdValueDiff(m, "       ", c)
					continue
				}
				m.printf("     - %s: %s → %s\n", code(c.Attribute), mdValue(c.Old), mdValue(c.New))
			}
		}
		if s.Inverse != "" {
			m.printf("   - undone by %s\n", code(string(s.Inverse)))
		}
	}
	m.print("\n</details>\n\n")
}

// code makes an inline code span that survives backticks in the value and
// never spans lines.
func code(s string) string {
	s = oneLine.Replace(s)
	if s == "" {
		return "`\"\"`"
	}
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || fence != "`" {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// mdValue shows a value as code, the placeholder in italics so that it
// reads as "hidden" rather than as a value.
func mdValue(s string) string {
	switch s {
	case Sensitive:
		return "*(sensitive)*"
	case "":
		return ""
	}
	return code(s)
}

// mdText escapes the characters that would turn plain text into markup.
func mdText(s string) string {
	if s == Sensitive {
		return "*(sensitive)*"
	}
	return markup.Replace(s)
}

// Replacers are built once: the large-plan renderings call code and mdText
// for every VM.
var (
	oneLine = strings.NewReplacer("\r", " ", "\n", " ")
	markup  = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`, "\n", " ")
)

// cell makes text safe inside a table cell, where a bare pipe ends the
// cell even inside a code span.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// mdValueDiff shows a multi-line value's change as a fenced diff block,
// which GitHub colours line by line. The fence is longer than any run of
// backticks in the value, so no line of it can close the block early.
func mdValueDiff(m *errWriter, indent string, c planner.Change) {
	ops := valueDiff(c.Old, c.New)
	fence := "```"
	for _, op := range ops {
		for strings.Contains(op.text, fence) {
			fence += "`"
		}
	}
	m.printf("%s%sdiff\n", indent, fence)
	for _, op := range ops {
		switch op.kind {
		case '#':
			m.printf("%s@@ %s @@\n", indent, strings.Trim(op.text, "()"))
		default:
			m.printf("%s%c%s\n", indent, op.kind, op.text)
		}
	}
	m.printf("%s%s\n", indent, fence)
}
