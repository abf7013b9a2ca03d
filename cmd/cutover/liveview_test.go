package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"cutover/executor"
	"cutover/planner"
)

func TestLiveViewRedrawsRunningSteps(t *testing.T) {
	now := time.Date(2026, 11, 28, 21, 30, 0, 0, time.UTC) // inside Sat 22:00-04:00 Berlin
	p := &planner.Plan{
		Steps:   []planner.Step{{ID: "vm.a.enable_replication"}, {ID: "vm.b.enable_replication"}},
		Windows: []planner.WindowInfo{{Name: "sat-night", Schedule: "0 22 * * SAT", Duration: "6h", Timezone: "Europe/Berlin"}},
	}
	var buf bytes.Buffer
	clock := now
	v := newLiveView(&buf, p, func() time.Time { return clock })
	v.Report(executor.Event{Kind: executor.EventStepStarted, Step: "vm.a.enable_replication"})
	v.Report(executor.Event{Kind: executor.EventStepStarted, Step: "vm.b.enable_replication"})
	clock = clock.Add(90 * time.Second)
	v.Report(executor.Event{Kind: executor.EventStepProgress, Step: "vm.a.enable_replication", Percent: 40, Message: "InitialReplicationInProgress"})
	screen := buf.String()
	last := screen[strings.LastIndex(screen, "──"):]
	for _, want := range []string{"0/2 steps done, 2 running, 1m30s elapsed", " 40% vm.a.enable_replication 1m30s InitialReplicationInProgress", "window sat-night: open, 5h29m0s left"} {
		if !strings.Contains(last, want) {
			t.Errorf("bottom block lacks %q:\n%s", want, last)
		}
	}
	if !strings.Contains(screen, "\x1b[") {
		t.Error("the block is not redrawn in place")
	}
	v.Report(executor.Event{Kind: executor.EventStepSucceeded, Step: "vm.a.enable_replication", Duration: 2 * time.Minute})
	after := buf.String()[len(screen):]
	if !strings.Contains(after, "✓ vm.a.enable_replication (2m0s)") || !strings.Contains(after, "1/2 steps done, 1 running") {
		t.Errorf("after success:\n%q", after)
	}
}

// TestLiveViewCountsBudgetWaits: waits for the write budget show in the
// bottom block as a count, not as a line per request, and end when the
// step starts or the wait is over.
func TestLiveViewCountsBudgetWaits(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	p := &planner.Plan{Steps: []planner.Step{{ID: "vm.a.enable_replication"}, {ID: "vm.b.enable_replication"}, {ID: "vm.c.enable_replication"}}}
	var buf bytes.Buffer
	clock := now
	v := newLiveView(&buf, p, func() time.Time { return clock })
	v.Report(executor.Event{Kind: executor.EventBudgetWaiting, Step: "vm.a.enable_replication", Duration: 5 * time.Second})
	v.Report(executor.Event{Kind: executor.EventBudgetWaiting, Step: "vm.b.enable_replication", Duration: 12 * time.Second})
	screen := buf.String()
	last := screen[strings.LastIndex(screen, "──"):]
	if !strings.Contains(last, "waiting for the Azure write budget: 2 steps, the last for about 12s") {
		t.Errorf("bottom block:\n%s", last)
	}
	if strings.Contains(screen, "  … ") {
		t.Errorf("a budget wait was printed as a line:\n%s", screen)
	}
	v.Report(executor.Event{Kind: executor.EventStepStarted, Step: "vm.b.enable_replication"})
	screen = buf.String()
	last = screen[strings.LastIndex(screen, "──"):]
	if !strings.Contains(last, "waiting for the Azure write budget: 1 steps, the last for about 5s") {
		t.Errorf("after vm.b started:\n%s", last)
	}
	clock = clock.Add(6 * time.Second)
	v.Report(executor.Event{Kind: executor.EventStepProgress, Step: "vm.b.enable_replication", Percent: 10})
	screen = buf.String()
	if last = screen[strings.LastIndex(screen, "──"):]; strings.Contains(last, "write budget") {
		t.Errorf("the wait is over but still shown:\n%s", last)
	}
}
