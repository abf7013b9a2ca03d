package journal_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"cutover/executor/journal"
)

// The executor's use of a store: take the lock, replay to see what an
// earlier run finished, journal each transition before the remote call it
// guards, and release the lock at the end.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "cutover-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	clock := time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC)
	store, err := journal.OpenFile(dir, "prod", journal.WithClock(func() time.Time { return clock }))
	if err != nil {
		panic(err)
	}
	defer store.Close()

	lock, err := store.Lock(ctx, journal.LockInfo{Operation: "apply"})
	if err != nil {
		panic(err) // a *LockedError names the holder
	}
	defer store.Unlock(ctx, lock.ID)

	rep, err := store.Replay(ctx)
	if err != nil {
		panic(err) // a *CorruptError: stop and let a human look
	}
	done := map[string]bool{}
	for _, r := range rep.Records {
		if r.Kind == journal.StepSucceeded {
			done[r.StepID] = true
		}
	}

	const step = `vm.app["web01"].test_failover`
	if !done[step] {
		for _, r := range []journal.Record{
			{Kind: journal.StepPending, StepID: step, Attempt: 1},
			{Kind: journal.BeforeImage, StepID: step, BeforeImage: json.RawMessage(`{"power":"poweredOn"}`)},
			// Journaled after the call is issued and before waiting
			// on it, so a killed run re-attaches by handle.
			{Kind: journal.StepStarted, StepID: step, Attempt: 1, Handle: json.RawMessage(`{"job":"8f2c"}`)},
			{Kind: journal.StepSucceeded, StepID: step, Attempt: 1},
		} {
			r.PlanID, r.RunID = "plan-1", "run-1"
			if _, err := store.Append(ctx, r); err != nil {
				panic(err)
			}
		}
	}

	rep, _ = store.Replay(ctx)
	for _, r := range rep.Records {
		fmt.Println(r.Seq, r.Time.Format(time.Kitchen), r.Kind, r.StepID)
	}
	// Output:
	// 1 10:00PM step_pending vm.app["web01"].test_failover
	// 2 10:00PM before_image vm.app["web01"].test_failover
	// 3 10:00PM step_started vm.app["web01"].test_failover
	// 4 10:00PM step_succeeded vm.app["web01"].test_failover
}

// A second apply on the same state is refused with the holder named; the
// lock ID in the message is what force-unlock takes.
func ExampleLockedError() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "cutover-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	store, _ := journal.OpenFile(dir, "prod")
	held, _ := store.Lock(ctx, journal.LockInfo{Operation: "apply", Who: "alice", Host: "runner-3", PID: 4242})

	_, err = store.Lock(ctx, journal.LockInfo{Operation: "rollback"})
	var locked *journal.LockedError
	if errors.As(err, &locked) {
		fmt.Println(locked.Held.Who, locked.Held.Host, locked.Held.PID, locked.Held.Operation, locked.Held.ID == held.ID)
	}

	// After checking that pid 4242 on runner-3 is gone:
	fmt.Println(store.ForceUnlock(ctx, held.ID))
	// Output:
	// alice runner-3 4242 apply true
	// <nil>
}
