// Package render turns a *planner.Plan into the forms people and tools
// review: human text for a terminal, Markdown for a pull-request comment,
// JSON for policy checks, and the step DAG as Graphviz DOT or Mermaid. Diff
// compares a reviewed plan with a fresh one.
//
// The CLI picks a renderer from --format with ByName and decides colour
// itself:
//
//	f, err := render.ByName(format, render.HumanOptions{Color: stdoutIsTerminal})
//	if err != nil {
//		return err // a usage error; the message lists Formats
//	}
//	return f(os.Stdout, plan)
//
// Markdown is sized for a pull-request comment: a plan too large for
// GitHub's limit is summarised in a documented order, and the comment says
// what it left out. MarkdownWith with a negative MaxBytes renders all of
// it, for a file. A multi-line value that changes (a tag rendered from a
// template) shows as a line diff in the human and Markdown forms, and Diff
// ends with a unified diff of the two plans' human renderings; both use
// github.com/sergi/go-diff. The JSON form's fields are documented in
// docs/plan-json.md, which a test keeps level with the code.
//
// The package owns presentation only. It must not change a plan, read live
// state, the clock, the environment or the terminal (the caller says whether
// to colour), and it must not print or log: every renderer writes to the
// io.Writer it is given. Output is deterministic for a given plan, because
// reviewers diff it and the tests compare it to golden files.
//
// Sensitive values are never printed. The planner already stores
// "(sensitive)" in most inputs; this package applies a second, conservative
// redaction from VMPlan.Sensitive and Change.Sensitive before any renderer
// sees a value, so a step input the planner derived from a sensitive
// attribute (a snapshot named after a sensitive target name, a test subnet)
// is hidden as well. Redaction happens in one place, the view, so that no
// renderer can forget it.
package render
