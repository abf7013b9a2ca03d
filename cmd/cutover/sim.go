package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"cutover/providers/azure/azuresim"
	"cutover/providers/simworld"
)

func newSimCommand(g *globals) *cobra.Command {
	sim := &cobra.Command{
		Use:   "sim",
		Short: "Work with the simulated vCenter and Azure world that --sim uses",
	}
	var saveEvery time.Duration
	serve := &cobra.Command{
		Use:   "serve [DIR]",
		Short: "Keep the runbook's simulated world running, for --sim commands and for govc or curl",
		Long: `Starts the simulated world of the runbook in DIR (kept in DIR/.cutover/sim)
and keeps it running until interrupted. While it runs, plan, apply, status
and rollback with --sim use this world instead of starting their own, so
that several commands, or a long apply and a status beside it, see one
world. govc and curl reach it at the endpoints printed. The simulated
vCenter's state is saved every --save-every and on exit, for the next --sim
command; the vaults save theirs on every change.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if saveEvery <= 0 {
				return usageError{fmt.Errorf("--save-every must be more than zero")}
			}
			rb, err := loadRunbook(g, cmd.ErrOrStderr(), runbookDir(args))
			if err != nil {
				return err
			}
			dir := simDir(rb)
			if served, err := simworld.Attach(dir); err != nil {
				return err
			} else if served != nil {
				return fmt.Errorf("the simulated world of %s is already served by process %d (since %s)", rb.Dir, served.PID, served.Started.Format("15:04:05 MST"))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			scale := simTimeScale()
			w, err := simworld.Open(ctx, rb, dir, simworld.Options{TimeScale: scale, Throttle: simThrottle()})
			if err != nil {
				return fmt.Errorf("simulated world: %w", err)
			}
			defer w.Close()
			withdraw, err := w.Announce()
			if err != nil {
				return err
			}
			defer withdraw()
			printServed(cmd.OutOrStdout(), rb.Name, dir, scale, w)
			tick := time.NewTicker(saveEvery)
			defer tick.Stop()
			for {
				select {
				case <-tick.C:
					// A server killed outright loses at most this much.
					if err := w.Persist(ctx); err != nil && ctx.Err() == nil {
						fmt.Fprintf(cmd.ErrOrStderr(), "Warning: the simulated vCenter's state was not saved: %v\n", err)
					}
				case <-ctx.Done():
					fmt.Fprintln(cmd.OutOrStdout(), "\nStopping: saving the simulated vCenter's state.")
					return w.Persist(context.WithoutCancel(ctx))
				}
			}
		},
	}
	serve.Flags().DurationVar(&saveEvery, "save-every", 10*time.Second, "how often to save the simulated vCenter's state while serving")
	sim.AddCommand(serve, newSimFaultCommand(g), newSimResetCommand(g))
	return sim
}

func printServed(out io.Writer, runbook, dir string, scale float64, w *simworld.World) {
	fmt.Fprintf(out, "Simulated world of runbook %q, state in %s, ASR jobs at %g of their simulated length (%s).\n\n", runbook, dir, scale, SimTimeScaleEnv)
	for _, name := range slices.Sorted(maps.Keys(w.VCenterConfigs)) {
		c := w.VCenterConfigs[name]
		// The simulator's own login, made up with the world; not a
		// credential of the runbook.
		fmt.Fprintf(out, "vcenter %q: %s\n  export GOVC_URL=%s GOVC_USERNAME=%s GOVC_PASSWORD=%s GOVC_INSECURE=1\n\n",
			name, c.URL, c.URL, c.Username, c.Password)
	}
	for _, name := range slices.Sorted(maps.Keys(w.AzureConfigs)) {
		c := w.AzureConfigs[name]
		fmt.Fprintf(out, "azure %q: %s (vault %s; any bearer token)\n  curl --cacert %s -H 'Authorization: Bearer sim' '%s%s/replicationFabrics?api-version=%s'\n\n",
			name, c.Endpoint, c.Vault, c.CAFile, c.Endpoint, c.Vault, azuresim.SiteRecoveryAPIVersion)
	}
	fmt.Fprintln(out, "plan, apply, status and rollback with --sim now use this world. Stop it with Ctrl-C.")
}
