package main

import (
	"fmt"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"cutover/planner/render"
)

func newGraphCommand(g *globals) *cobra.Command {
	var (
		format string
		sim    bool
	)
	cmd := &cobra.Command{
		Use:   "graph [DIR]",
		Short: "Plan a runbook and print its step graph as DOT or mermaid",
		Long: `Graph plans DIR like 'cutover plan' and prints only the DAG of steps:
DOT for Graphviz (cutover graph | dot -Tsvg > plan.svg) or mermaid.
Disruptive steps and points of no return are marked.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var fn render.Func
			switch format {
			case "dot":
				fn = render.DOT
			case "mermaid":
				fn = render.Mermaid
			default:
				return usageError{fmt.Errorf("unknown graph format %q; use dot or mermaid", format)}
			}
			rb, err := loadRunbook(g, cmd.ErrOrStderr(), runbookDir(args))
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			p, err := makePlan(ctx, cmd.ErrOrStderr(), rb, sim, nil)
			if err != nil {
				return err
			}
			return fn(cmd.OutOrStdout(), p)
		},
	}
	cmd.Flags().StringVar(&format, "format", "dot", "dot or mermaid")
	cmd.Flags().BoolVar(&sim, "sim", false, "plan against the simulated world in DIR/.cutover/sim")
	return cmd
}
