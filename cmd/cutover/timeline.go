package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"cutover/executor/journal"
	"cutover/planner"
	"cutover/schema"
)

// scheduleFlags are plan's timeline settings.
type scheduleFlags struct {
	parallelism int
	throughput  float64
}

// schedule places the plan's steps on a timeline with the run's
// parallelism and what earlier applies of this runbook measured. A state
// that cannot be read costs only the measurements: the plan says so and
// uses the defaults.
func (f scheduleFlags) schedule(ctx context.Context, errOut io.Writer, rb *schema.Runbook, p *planner.Plan) {
	measured, err := measuredDurations(ctx, rb)
	if err != nil {
		fmt.Fprintf(errOut, "Timeline: earlier applies' durations not used (%v); estimating from defaults.\n", err)
	}
	p.Schedule(planner.ScheduleOptions{Parallelism: f.parallelism, ThroughputMbps: f.throughput, Measured: measured})
}

// measuredDurations reads the runbook's journal and returns how long each
// step kind took in earlier applies: from a step's first pending or
// started record to its success within one run. A step resumed by a later
// run is not measured, since its time includes however long nobody ran
// it; neither are rollback steps, whose kinds are measured under their
// own names when they are applied forward.
func measuredDurations(ctx context.Context, rb *schema.Runbook) (map[planner.StepKind][]time.Duration, error) {
	store, err := openStore(ctx, rb)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	rep, err := store.Replay(ctx)
	if err != nil {
		return nil, err
	}
	return durationsFromJournal(rep.Records), nil
}

func durationsFromJournal(records []journal.Record) map[planner.StepKind][]time.Duration {
	out := map[planner.StepKind][]time.Duration{}
	began := map[string]time.Time{}
	for _, r := range records {
		switch r.Kind {
		case journal.RunStarted:
			clear(began)
		case journal.StepPending, journal.StepStarted:
			if _, ok := began[r.StepID]; !ok {
				began[r.StepID] = r.Time
			}
		case journal.StepSucceeded:
			t0, ok := began[r.StepID]
			if !ok || planner.IsUndo(r.StepID) {
				continue
			}
			_, kind := planner.SplitStepID(r.StepID)
			out[kind] = append(out[kind], r.Time.Sub(t0))
			delete(began, r.StepID)
		}
	}
	return out
}
