package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"cutover/planner/planfile"
	"cutover/planner/render"
)

func newShowCommand(g *globals) *cobra.Command {
	var (
		format       string
		diff         string
		digest       bool
		commentLimit bool
	)
	cmd := &cobra.Command{
		Use:   "show PLAN",
		Short: "Render a saved plan as human text, Markdown, JSON, DOT or mermaid",
		Long: `Show renders a saved plan. --format markdown is meant for a pull-request
comment; --diff OLD shows what changed between a reviewed plan and this one;
--digest prints the plan file's SHA-256, which apply can be told to expect.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, sum, err := planfile.Load(args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch {
			case digest:
				fmt.Fprintln(out, sum)
				return nil
			case diff != "":
				old, _, err := planfile.Load(diff)
				if err != nil {
					return err
				}
				return render.Diff(out, old, p)
			}
			if format == "markdown" && !commentLimit {
				return render.MarkdownWith(out, p, render.MarkdownOptions{MaxBytes: -1})
			}
			fn, err := render.ByName(format, render.HumanOptions{Color: colorFor(out, g.noColor)})
			if err != nil {
				return usageError{err}
			}
			return buffered(out, func(w io.Writer) error { return fn(w, p) })
		},
	}
	cmd.Flags().StringVar(&format, "format", "human", "human, markdown, json, dot or mermaid")
	cmd.Flags().StringVar(&diff, "diff", "", "show what changed from this older plan file")
	cmd.Flags().BoolVar(&digest, "digest", false, "print the plan file's SHA-256 digest")
	cmd.Flags().BoolVar(&commentLimit, "comment", false, "keep Markdown under GitHub's comment limit, summarising large plans (plan --format markdown always does)")
	return cmd
}
