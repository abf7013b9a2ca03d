package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"cutover/planner"
)

// HumanOptions tune the human rendering.
type HumanOptions struct {
	// Color adds ANSI colour to symbols and headings. The caller decides,
	// typically from whether stdout is a terminal and NO_COLOR: this
	// package never looks at the terminal or the environment.
	Color bool
}

// ANSI sequences; kept few so that a coloured rendering, stripped of them,
// is byte for byte the plain one.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

// symbol is how a step is marked, Terraform-style, in human and Markdown
// output. Disruption and no-return outrank what the kind does because they
// are what a reviewer must not miss.
func symbol(s planner.Step) string {
	switch {
	case s.NoReturn:
		return "!!"
	case s.Disruptive:
		return "!"
	}
	switch s.Kind {
	case planner.StepEnableReplication, planner.StepCloneRehearsal, planner.StepSnapshot:
		return "+"
	case planner.StepUpdateReplication, planner.StepRelocate, planner.StepMakeFTPrimary, planner.StepCustomizeRehearsal:
		return "~"
	case planner.StepTestCleanup, planner.StepFailoverCancel, planner.StepDisableReplication:
		return "-"
	}
	return ">"
}

// legend explains the symbols; printed once at the top like Terraform's.
var legend = []struct{ sym, text string }{
	{"+", "create"},
	{"~", "update in place"},
	{"-", "remove or cancel"},
	{">", "run"},
	{"!", "disruptive: stops or moves a running workload, only inside its window"},
	{"!!", "point of no return: cannot be undone once applied"},
}

type human struct {
	errWriter
	color bool
	// untimed leaves out the line with the planning and expiry times,
	// for Diff: two plans made at different times should not differ by it.
	untimed bool
	// mark, when set, is told where each part of the rendering starts (a
	// VM's block, an unchanged VM's line, ...) and under what key, so that
	// Diff can line up the parts of two renderings before it diffs lines.
	mark func(key string)
}

func (h *human) part(key string) {
	if h.mark != nil {
		h.mark(key)
	}
}

func (h *human) paint(code, s string) string {
	if !h.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (h *human) sym(s string) string {
	code := ansiCyan
	switch s {
	case "+":
		code = ansiGreen
	case "~":
		code = ansiYellow
	case "-":
		code = ansiRed
	case "!":
		code = ansiBold + ansiYellow
	case "!!":
		code = ansiBold + ansiRed
	}
	return h.paint(code, fmt.Sprintf("%2s", s))
}

// Human writes the plan as terminal text: a legend, one block per VM that
// changes with its attributes and steps, a summary line and the rollback
// preview.
func Human(w io.Writer, p *planner.Plan, opts HumanOptions) error {
	return writeHuman(&human{errWriter: errWriter{w: w}, color: opts.Color}, newView(p))
}

func writeHuman(h *human, v *view) error {
	h.header(v)
	if ws := v.warnings(); len(ws) > 0 {
		h.part("warnings")
		h.printf("\n%s\n", h.paint(ansiBold+ansiYellow, "Warnings:"))
		for _, w := range ws {
			h.printf("  %s\n", w)
		}
	}
	if avs := v.azureVMs(); len(avs) > 0 {
		h.printf("\n%s\n", h.paint(ansiBold, "Azure VMs (read live):"))
		for _, a := range avs {
			h.printf("  %s\n", a)
		}
	}
	if len(v.steps) == 0 {
		n := len(v.vms)
		h.printf("\n%s %d %s already at %s desired stage.\n",
			h.paint(ansiBold+ansiGreen, "No changes."), n, plural(n, "VM is", "VMs are"), plural(n, "its", "their"))
		return h.err
	}
	h.print("\nSteps are marked with these symbols:\n")
	for _, l := range legend {
		h.printf("  %s %s\n", h.sym(l.sym), l.text)
	}
	h.print("\ncutover will perform the following actions:\n")
	for _, vm := range v.allVMs() {
		if len(vm.steps) > 0 {
			h.part("vm " + vm.Address)
			h.vm(vm)
		}
	}
	unchanged := 0
	for _, vm := range v.vms {
		if len(vm.steps) == 0 {
			if unchanged == 0 {
				h.part("unchanged")
				h.print("\n")
			}
			unchanged++
			h.part("unchanged " + vm.Address)
			h.printf("  # %s is %s, already at its desired stage %s\n", vm.Address, vm.Live, vm.Desired)
		}
	}
	h.part("summary")
	h.printf("\n%s %s.\n", h.paint(ansiBold, "Plan:"), summaryLine(v.sum))
	h.timeline(v)
	h.undo(v)
	return h.err
}

func (h *human) header(v *view) {
	p := v.plan
	h.printf("Runbook %q (hash %s)\n", p.Runbook, short(p.RunbookHash))
	if h.untimed {
		return
	}
	h.printf("Planned %s by cutover %s; applicable until %s.\n", stamp(p.CreatedAt), p.ToolVersion, stamp(p.ExpiresAt))
}

func (h *human) vm(vm *vmView) {
	// A VM that starts replicating is new to Azure: "+" like a created
	// resource, even when source preparation comes first.
	headSym := "~"
	for _, s := range vm.steps {
		if s.Kind == planner.StepEnableReplication {
			headSym = "+"
		}
	}
	what := fmt.Sprintf("# %s goes from %s to %s", vm.Address, vm.Live, vm.Desired)
	if vm.disruptive > 0 {
		what += fmt.Sprintf(" (%d disruptive %s", vm.disruptive, plural(vm.disruptive, "step", "steps"))
		if vm.Window != "" {
			what += " in window " + strconv.Quote(vm.Window)
		}
		what += ")"
	}
	if vm.noReturn > 0 {
		what += fmt.Sprintf(", %d %s", vm.noReturn, plural(vm.noReturn, "point of no return", "points of no return"))
	}
	h.printf("\n  %s\n", h.paint(ansiBold, what))
	h.printf(" %s %s {\n", h.sym(headSym), vm.Address)

	attrs := [][2]string{}
	for _, a := range [][2]string{{"target_name", vm.TargetName}, {"size", vm.Size}, {"subnet", vm.Subnet}, {"window", vm.Window}} {
		if a[1] != "" {
			attrs = append(attrs, a)
		}
	}
	width := len("stage")
	if len(vm.AzureVMs) > 0 {
		width = len("azure_vm")
	}
	for _, a := range attrs {
		width = max(width, len(a[0]))
	}
	for _, a := range attrs {
		h.printf("        %-*s = %s\n", width, a[0], quote(a[1]))
	}
	h.printf("     %s %-*s = %s -> %s\n", h.sym("~"), width, "stage", quote(vm.Live.String()), quote(vm.Desired))
	for _, a := range vm.AzureVMs {
		h.printf("        %-*s = %s\n", width, "azure_vm", quote(a.String()))
	}

	for _, s := range vm.steps {
		h.step(vm, s)
	}
	h.print("    }\n")
}

func (h *human) step(vm *vmView, s *stepView) {
	var notes []string
	if s.Disruptive {
		n := "disruptive, no window declared"
		if s.Window != "" {
			n = "disruptive, only in window " + strconv.Quote(s.Window)
		}
		notes = append(notes, n)
	}
	if s.NoReturn {
		notes = append(notes, "point of no return")
	}
	if s.Gate != "" {
		notes = append(notes, "gate: "+s.Gate)
	}
	// Dependencies on the VM's own previous step are implied by the order;
	// only those on other VMs' steps say something a reader needs.
	var after []string
	for _, d := range s.DependsOn {
		if !strings.HasPrefix(d, vm.Address+".") {
			after = append(after, d)
		}
	}
	if len(after) > 0 {
		notes = append(notes, "after "+strings.Join(after, ", "))
	}

	name := stepName(*s.Step)
	if name != string(s.Kind) {
		// An undo step is named after the step it undoes, as the apply
		// log, journal and summary name it; the note says what it runs.
		notes = append([]string{"runs " + string(s.Kind)}, notes...)
	}
	if len(notes) == 0 && len(s.Inputs) == 0 && len(s.Changes) == 0 {
		h.printf("\n     %s %s\n", h.sym(symbol(*s.Step)), name)
		return
	}
	h.printf("\n     %s %s {\n", h.sym(symbol(*s.Step)), name)
	for _, n := range notes {
		h.printf("            # %s\n", n)
	}
	width := 0
	for k := range s.Inputs {
		width = max(width, len(k))
	}
	for _, c := range s.Changes {
		width = max(width, len(c.Attribute))
	}
	for _, k := range sortedKeys(s.Inputs) {
		h.printf("            %-*s = %s\n", width, k, quote(s.Inputs[k]))
	}
	for _, c := range s.Changes {
		if multiline(c.Old, c.New) {
			h.printf("         %s %-*s = <<-EOT\n", h.sym("~"), width, c.Attribute)
			h.valueDiff(c)
			h.print("            EOT\n")
			continue
		}
		h.printf("         %s %-*s = %s -> %s\n", h.sym("~"), width, c.Attribute, quote(c.Old), quote(c.New))
	}
	h.print("        }\n")
}

// valueDiff shows a multi-line value's change line by line, the way
// Terraform shows a heredoc: a template-rendered tag that gained one line
// reads as that line, not as two long quoted blobs to compare by eye.
// Redaction already turned sensitive values into the one-line placeholder,
// so they never come here.
func (h *human) valueDiff(c planner.Change) {
	const indent = "                "
	for _, op := range valueDiff(c.Old, c.New) {
		var line string
		switch op.kind {
		case '-':
			line = indent[2:] + h.paint(ansiRed, "-") + " " + op.text
		case '+':
			line = indent[2:] + h.paint(ansiGreen, "+") + " " + op.text
		case '#':
			line = indent + "# " + op.text
		default:
			line = indent + op.text
		}
		if op.text == "" {
			line = strings.TrimRight(line, " ")
		}
		h.print(line + "\n")
	}
}

func (h *human) undo(v *view) {
	undos := v.undos()
	nr := v.noReturn()
	if len(undos) == 0 && len(nr) == 0 {
		return
	}
	h.printf("\n%s\n", h.paint(ansiBold, "To undo this (rollback preview):"))
	if len(undos) == 0 {
		h.print("  No step of this plan has an inverse.\n")
	}
	width := 0
	for _, u := range undos {
		width = max(width, len(u.Inverse))
	}
	for _, u := range undos {
		h.printf("  %-*s  %3d %s, undoing %s\n", width, u.Inverse, u.Count, plural(u.Count, "step", "steps"), u.Of)
	}
	if len(nr) > 0 {
		h.printf("\n  %s\n", h.paint(ansiBold+ansiRed, "Cannot be undone once applied (points of no return):"))
		for _, s := range nr {
			h.part("no return " + s.ID)
			h.printf("    %s %s\n", h.sym("!!"), s.ID)
		}
	}
}

// summaryLine is the one-line count the issue asks for, in a fixed order so
// that CI logs can be grepped.
func summaryLine(s planner.Summary) string {
	if s.Undo > 0 {
		return fmt.Sprintf("%d to undo, %d disruptive, %d %s", s.Undo, s.Disruptive, s.NoReturn, plural(s.NoReturn, "point of no return", "points of no return"))
	}
	return fmt.Sprintf("%d to replicate, %d to update, %d to test, %d to fail over, %d disruptive, %d %s",
		s.Replicate, s.Update, s.Test, s.Failover, s.Disruptive, s.NoReturn, plural(s.NoReturn, "point of no return", "points of no return"))
}

// stepName is a step's name within its VM, as its ID spells it: the kind
// for a forward step, "undo.KIND" (the kind it undoes) for an inverse
// plan's step. Plan, apply log, journal and summary all use the ID.
func stepName(s planner.Step) string {
	if s.VM != "" && strings.HasPrefix(s.ID, s.VM+".") {
		return strings.TrimPrefix(s.ID, s.VM+".")
	}
	return string(s.Kind)
}

// quote shows a value as a Go-quoted string, or the placeholder bare so it
// cannot be mistaken for a value that happens to read "(sensitive)".
func quote(s string) string {
	if s == Sensitive {
		return s
	}
	return strconv.Quote(s)
}

// short abbreviates a hash the way reviewers compare them.
func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	if hash == "" {
		return "none"
	}
	return hash
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
