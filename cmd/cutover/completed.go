package main

import (
	"context"
	"fmt"
	"strings"

	"cutover/executor/journal"
	"cutover/planner"
	"cutover/schema"
)

// markCompleted records in the refreshed live state which VMs the journal
// shows migrated to the end: their complete_migration step succeeded. The
// protected item is gone after that, so without this record (or the live
// evidence refresh reads, see planner.Live.Migrated) such a VM would look
// never protected, and a plan would enable its replication again.
func markCompleted(ctx context.Context, rb *schema.Runbook, snap *planner.Snapshot) error {
	store, err := openStore(ctx, rb)
	if err != nil {
		return fmt.Errorf("reading the journal for completed migrations: %w", err)
	}
	defer store.Close()
	rep, err := store.Replay(ctx)
	if err != nil {
		return fmt.Errorf("reading the journal for completed migrations: %w", err)
	}
	for _, vm := range completedVMs(rep.Records) {
		if l, ok := snap.Live[vm]; ok {
			l.Completed = true
			snap.Live[vm] = l
		}
	}
	return nil
}

// completedVMs lists the VM addresses whose complete_migration step
// succeeded, in journal order.
func completedVMs(records []journal.Record) []string {
	suffix := "." + string(planner.StepCompleteMigration)
	var out []string
	seen := map[string]bool{}
	for _, r := range records {
		if r.Kind != journal.StepSucceeded || !strings.HasSuffix(r.StepID, suffix) {
			continue
		}
		vm := strings.TrimSuffix(r.StepID, suffix)
		if !seen[vm] {
			seen[vm] = true
			out = append(out, vm)
		}
	}
	return out
}
