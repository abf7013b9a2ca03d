package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// lineOp is one line of a line diff: kept (' '), removed ('-') or added
// ('+').
type lineOp struct {
	kind byte
	text string
}

// diffLines compares two lists of lines. diffmatchpatch works on runes, so
// every distinct line is first mapped to one rune and the runes are
// diffed: a line either matches or it does not, which is what a reviewer
// reads, instead of a character diff that splices words across lines.
func diffLines(old, new []string) []lineOp {
	dmp := diffmatchpatch.New()
	// No time limit: with one, a slow machine could give a different
	// (valid but longer) diff than a fast one, and renderings must be the
	// same for the same plans. The inputs stay small: Diff passes one VM's
	// block at a time, values are a template's worth of lines, and the
	// common prefix and suffix are cut off before the search.
	dmp.DiffTimeout = 0
	a, b, table := dmp.DiffLinesToRunes(joinLines(old), joinLines(new))
	diffs := dmp.DiffCharsToLines(dmp.DiffMainRunes(a, b, false), table)
	var ops []lineOp
	for _, d := range diffs {
		kind := byte(' ')
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			kind = '-'
		case diffmatchpatch.DiffInsert:
			kind = '+'
		}
		// Every line was given a terminating newline, so each diff's text
		// is whole lines.
		for _, l := range strings.SplitAfter(d.Text, "\n") {
			if l != "" {
				ops = append(ops, lineOp{kind: kind, text: strings.TrimSuffix(l, "\n")})
			}
		}
	}
	return ops
}

// joinLines ends every line with a newline, the last one too, so that a
// last line without one still compares equal to the same line followed by
// more.
func joinLines(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// valueLines splits a multi-line attribute value into lines. A final
// newline on both sides is the usual end of a rendered template, not an
// empty last line, so it is dropped; on one side only it is a difference
// and shows as an added or removed empty line.
func valueLines(old, new string) (o, n []string) {
	if strings.HasSuffix(old, "\n") && strings.HasSuffix(new, "\n") {
		old, new = old[:len(old)-1], new[:len(new)-1]
	}
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, "\n")
	}
	return split(old), split(new)
}

// multiline reports whether a change is better shown as a line diff than
// as two quoted values.
func multiline(old, new string) bool {
	return strings.Contains(old, "\n") || strings.Contains(new, "\n")
}

// span is a run of ops to show: the changes plus their context.
type span struct{ start, end int }

// hunks groups the changed ops with up to context kept lines on either
// side; changes separated by at most 2*context kept lines share a hunk, as
// in diff -u.
func hunks(ops []lineOp, context int) []span {
	var out []span
	for i := 0; i < len(ops); i++ {
		if ops[i].kind == ' ' {
			continue
		}
		start := max(0, i-context)
		last := i // last changed op in this hunk
		for j := i + 1; j < len(ops) && j-last <= 2*context+1; j++ {
			if ops[j].kind != ' ' {
				last = j
			}
		}
		out = append(out, span{start, min(len(ops), last+1+context)})
		i = last
	}
	return out
}

// unified writes a line diff as a unified diff, headed by the two texts'
// names, with context lines around each change. It writes nothing when no
// line changed.
func unified(e *errWriter, oldName, newName string, ops []lineOp, context int) {
	hs := hunks(ops, context)
	if len(hs) == 0 {
		return
	}
	e.printf("--- %s\n+++ %s\n", oldName, newName)
	// oldAt and newAt are the 1-based line numbers of ops[i] on each side.
	i, oldAt, newAt := 0, 1, 1
	for _, h := range hs {
		for ; i < h.start; i++ {
			oldAt, newAt = advance(ops[i].kind, oldAt, newAt)
		}
		var oldN, newN int
		for _, op := range ops[h.start:h.end] {
			if op.kind != '+' {
				oldN++
			}
			if op.kind != '-' {
				newN++
			}
		}
		e.printf("@@ -%s +%s @@\n", hunkRange(oldAt, oldN), hunkRange(newAt, newN))
		for ; i < h.end; i++ {
			e.printf("%c%s\n", ops[i].kind, ops[i].text)
			oldAt, newAt = advance(ops[i].kind, oldAt, newAt)
		}
	}
}

func advance(kind byte, oldAt, newAt int) (int, int) {
	if kind != '+' {
		oldAt++
	}
	if kind != '-' {
		newAt++
	}
	return oldAt, newAt
}

// hunkRange writes a hunk side as diff -u does: "start,count", the count
// left out when it is 1, and an empty side numbered by the line before it.
func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start-1)
	case 1:
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

// valueContext is how many unchanged lines a multi-line value keeps around
// each change; the rest collapse into a count.
const valueContext = 3

// valueDiff is what the human and Markdown forms show for a multi-line
// change: the changed lines with a little context, and for each longer run
// of unchanged lines one op of kind '#' saying how many are hidden.
func valueDiff(old, new string) []lineOp {
	o, n := valueLines(old, new)
	ops := diffLines(o, n)
	var out []lineOp
	hidden := func(k int) {
		if k > 0 {
			out = append(out, lineOp{kind: '#', text: fmt.Sprintf("(%d unchanged %s hidden)", k, plural(k, "line", "lines"))})
		}
	}
	at := 0
	for _, h := range hunks(ops, valueContext) {
		hidden(h.start - at)
		out = append(out, ops[h.start:h.end]...)
		at = h.end
	}
	hidden(len(ops) - at)
	return out
}

// UnifiedDiff writes a unified line diff of two texts, with three lines of
// context, headed by their names; nothing when they are equal. The CLI's
// fmt --diff uses it, so every diff cutover prints has one shape.
func UnifiedDiff(w io.Writer, oldName, newName, old, new string) error {
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	}
	e := &errWriter{w: w}
	unified(e, oldName, newName, diffLines(split(old), split(new)), 3)
	return e.err
}
