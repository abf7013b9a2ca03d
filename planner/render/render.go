package render

import (
	"fmt"
	"io"
	"strings"

	"cutover/planner"
)

// Func renders a plan to w. It is what ByName returns, so the CLI can pick a
// renderer from --format and call it without knowing which one it got.
type Func func(w io.Writer, p *planner.Plan) error

// Formats lists the names ByName accepts, in the order the CLI's help
// should show them.
var Formats = []string{"human", "markdown", "json", "dot", "mermaid"}

// ByName returns the renderer for a --format value. opts only affects the
// human form: colour in Markdown, JSON or a graph would corrupt them, so the
// others ignore it.
func ByName(name string, opts HumanOptions) (Func, error) {
	switch name {
	case "human":
		return func(w io.Writer, p *planner.Plan) error { return Human(w, p, opts) }, nil
	case "markdown":
		return Markdown, nil
	case "json":
		return JSON, nil
	case "dot":
		return DOT, nil
	case "mermaid":
		return Mermaid, nil
	}
	return nil, fmt.Errorf("unknown plan format %q; use one of %s", name, strings.Join(Formats, ", "))
}

// errWriter keeps the first write error so renderers can write many small
// pieces and check once at the end instead of after every line.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func (e *errWriter) print(s string) {
	if e.err == nil {
		_, e.err = io.WriteString(e.w, s)
	}
}

// plural picks the singular or plural noun for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
