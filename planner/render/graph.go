package render

import (
	"io"
	"strings"

	"cutover/planner"
	"cutover/planner/dag"
)

// Classes the graph renderers give steps. A point of no return is always
// disruptive or worse, so it takes its own class rather than both.
const (
	ClassDisruptive = "disruptive"
	ClassNoReturn   = "no_return"
)

// graphStyle marks disruptive steps and points of no return. The label says
// so in words as well, because colour alone does not survive a monochrome
// printout or a reader who cannot tell red from orange.
func graphStyle(v *view) dag.StyleFunc {
	return func(key string) dag.Style {
		s, ok := v.byID[key]
		if !ok {
			return dag.Style{}
		}
		switch {
		case s.NoReturn:
			return dag.Style{Label: key + " (no return)", Class: ClassNoReturn}
		case s.Disruptive:
			return dag.Style{Label: key + " (disruptive)", Class: ClassDisruptive}
		}
		return dag.Style{}
	}
}

// used reports which classes the plan's steps carry, so that the graphs
// define only the classes they use.
func (v *view) usedClasses() (disruptive, noReturn bool) {
	for _, s := range v.steps {
		switch {
		case s.NoReturn:
			noReturn = true
		case s.Disruptive:
			disruptive = true
		}
	}
	return disruptive, noReturn
}

// DOT node attributes per class: Graphviz has no stylesheet outside SVG, so
// the class attribute dag writes is paired with explicit colours.
var dotClassAttrs = map[string]string{
	ClassDisruptive: `style="filled", fillcolor="#fff3cd", color="#b58105"`,
	ClassNoReturn:   `style="filled,bold", fillcolor="#f8d7da", color="#b00020", penwidth=2`,
}

// Mermaid classDef lines for the same classes.
var mermaidClassDefs = map[string]string{
	ClassDisruptive: "fill:#fff3cd,stroke:#b58105,color:#000",
	ClassNoReturn:   "fill:#f8d7da,stroke:#b00020,stroke-width:3px,color:#000",
}

// DOT writes the step DAG in Graphviz syntax, edges in apply order, with
// disruptive steps and points of no return filled in colour.
func DOT(w io.Writer, p *planner.Plan) error {
	_, err := io.WriteString(w, dotOf(newView(p)))
	return err
}

func dotOf(v *view) string {
	out := v.plan.Graph().DOT(graphStyle(v))
	// dag ends each styled node with class="..."]; the quotes inside a
	// label are escaped, so this exact text can only be the attribute.
	for _, c := range []string{ClassDisruptive, ClassNoReturn} {
		out = strings.ReplaceAll(out, `class="`+c+`"]`, `class="`+c+`", `+dotClassAttrs[c]+`]`)
	}
	// Boxes read better than ellipses for long step addresses.
	return strings.Replace(out, "digraph {\n", "digraph {\n  node [shape=box, fontname=\"Helvetica\"];\n", 1)
}

// Mermaid writes the step DAG as a Mermaid flowchart (no Markdown fence),
// with classDef lines for the classes it uses.
func Mermaid(w io.Writer, p *planner.Plan) error {
	_, err := io.WriteString(w, mermaidOf(newView(p)))
	return err
}

func mermaidOf(v *view) string {
	var b strings.Builder
	b.WriteString(v.plan.Graph().Mermaid(graphStyle(v)))
	d, n := v.usedClasses()
	if d {
		b.WriteString("  classDef " + ClassDisruptive + " " + mermaidClassDefs[ClassDisruptive] + "\n")
	}
	if n {
		b.WriteString("  classDef " + ClassNoReturn + " " + mermaidClassDefs[ClassNoReturn] + "\n")
	}
	return b.String()
}
