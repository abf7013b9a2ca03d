package dag

import (
	"strconv"
	"strings"
)

// Style decorates one vertex in DOT and Mermaid output. The planner uses it
// to show a step's description and to mark disruptive steps and points of
// no return; the graph itself stays free of step semantics.
type Style struct {
	// Label replaces the key as the text shown in the node when non-empty.
	Label string
	// Class names a presentation class: a DOT class attribute (used by
	// SVG output) and a Mermaid class assignment, where it is reduced to
	// letters, digits and underscores ("no-return" becomes "no_return").
	// Callers add the matching classDef lines or stylesheet; empty means
	// none.
	Class string
}

// StyleFunc returns the Style of a vertex. A nil StyleFunc styles nothing.
type StyleFunc func(key string) Style

func (f StyleFunc) of(key string) Style {
	if f == nil {
		return Style{}
	}
	return f(key)
}

// String renders the graph as text that tests can compare to a constant:
// each declared vertex on its own line in key order, followed by the keys it
// waits for, indented by two spaces, in key order.
func (g *Graph) String() string {
	var b strings.Builder
	for _, k := range g.Keys() {
		b.WriteString(k)
		b.WriteByte('\n')
		for _, d := range g.Dependencies(k) {
			b.WriteString("  ")
			b.WriteString(d)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// DOT renders the graph in Graphviz syntax. Edges point from a dependency
// to its dependent, the order in which steps run, so the drawing reads top
// to bottom like the apply. Node IDs are the keys as quoted DOT strings;
// vertices and edges are in key order.
func (g *Graph) DOT(style StyleFunc) string {
	var b strings.Builder
	b.WriteString("digraph {\n")
	keys := g.Keys()
	for _, k := range keys {
		b.WriteString("  ")
		b.WriteString(dotQuote(k))
		s := style.of(k)
		var attrs []string
		if s.Label != "" {
			attrs = append(attrs, "label="+dotQuote(s.Label))
		}
		if s.Class != "" {
			attrs = append(attrs, "class="+dotQuote(s.Class))
		}
		if len(attrs) > 0 {
			b.WriteString(" [")
			b.WriteString(strings.Join(attrs, ", "))
			b.WriteString("]")
		}
		b.WriteString(";\n")
	}
	for _, k := range keys {
		for _, d := range g.Dependents(k) {
			b.WriteString("  ")
			b.WriteString(dotQuote(k))
			b.WriteString(" -> ")
			b.WriteString(dotQuote(d))
			b.WriteString(";\n")
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// dotQuote makes a DOT double-quoted string. Backslashes are doubled as well
// as quotes escaped, because Graphviz reads backslash sequences (\n, \l,
// \N) in labels and a trailing backslash would swallow the closing quote.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`)
	return `"` + r.Replace(s) + `"`
}

// Mermaid renders the graph as a Mermaid flowchart (without Markdown
// fences), edges from dependency to dependent like DOT. Node IDs are derived
// from the keys (see mermaidIDs) because Mermaid IDs cannot hold quotes or
// brackets; the full key, or the Style label, is shown as a quoted label.
func (g *Graph) Mermaid(style StyleFunc) string {
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	keys := g.Keys()
	ids := mermaidIDs(keys)
	classes := map[string][]string{}
	var classOrder []string
	for _, k := range keys {
		s := style.of(k)
		label := k
		if s.Label != "" {
			label = s.Label
		}
		b.WriteString("  ")
		b.WriteString(ids[k])
		b.WriteString(`["`)
		b.WriteString(mermaidEscape(label))
		b.WriteString("\"]\n")
		if c := mermaidClassName(s.Class); c != "" {
			if _, ok := classes[c]; !ok {
				classOrder = append(classOrder, c)
			}
			classes[c] = append(classes[c], ids[k])
		}
	}
	for _, k := range keys {
		for _, d := range g.Dependents(k) {
			b.WriteString("  ")
			b.WriteString(ids[k])
			b.WriteString(" --> ")
			b.WriteString(ids[d])
			b.WriteByte('\n')
		}
	}
	for _, c := range classOrder {
		b.WriteString("  class ")
		b.WriteString(strings.Join(classes[c], ","))
		b.WriteByte(' ')
		b.WriteString(c)
		b.WriteByte('\n')
	}
	return b.String()
}

// mermaidIDs gives each key an ID of letters, digits and underscores: runs
// of other characters become one underscore. IDs are derived from the key
// rather than numbered so that adding a step does not renumber the rest of
// a graph reviewers diff. Keys that collide after sanitising get _2, _3, …
// in key order; IDs that would start with a digit, be empty, or be a
// Mermaid keyword get an n_ prefix.
func mermaidIDs(sortedKeys []string) map[string]string {
	ids := make(map[string]string, len(sortedKeys))
	used := map[string]bool{}
	for _, k := range sortedKeys {
		base := mermaidSanitize(k)
		id := base
		for n := 2; used[id]; n++ {
			id = base + "_" + strconv.Itoa(n)
		}
		used[id] = true
		ids[k] = id
	}
	return ids
}

func mermaidSanitize(s string) string {
	var b strings.Builder
	gap := false
	for _, r := range s {
		if r < 128 && (r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			if gap && b.Len() > 0 {
				b.WriteByte('_')
			}
			gap = false
			b.WriteRune(r)
			continue
		}
		gap = true
	}
	id := b.String()
	if id == "" || id[0] >= '0' && id[0] <= '9' || mermaidKeywords[strings.ToLower(id)] {
		id = "n_" + id
	}
	return id
}

// mermaidKeywords break a flowchart when used as bare node IDs.
var mermaidKeywords = map[string]bool{
	"end": true, "graph": true, "flowchart": true, "subgraph": true,
	"direction": true, "style": true, "class": true, "classdef": true,
	"click": true, "linkstyle": true, "call": true, "href": true,
	"default": true,
}

// mermaidEscape makes text safe inside a quoted Mermaid label using its
// entity codes: quotes would end the label, '#' starts an entity, '<', '>'
// and '&' may be read as HTML, and a leading backtick switches to Markdown.
func mermaidEscape(s string) string {
	r := strings.NewReplacer(
		"#", "#35;",
		`"`, "#quot;",
		"<", "#lt;",
		">", "#gt;",
		"&", "#amp;",
		"`", "#96;",
		"\n", " ",
		"\r", " ",
	)
	return r.Replace(s)
}

// mermaidClassName keeps a class usable in a "class a,b name" line.
func mermaidClassName(c string) string {
	if c == "" {
		return ""
	}
	return mermaidSanitize(c)
}
