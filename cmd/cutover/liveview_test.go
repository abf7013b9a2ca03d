package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"cutover/executor"
	"cutover/planner"
)

// viewPlan is a small plan: two VMs, each enabled then failed over in a
// Berlin window.
func viewPlan() *planner.Plan {
	return &planner.Plan{
		Runbook: "wave1",
		Steps: []planner.Step{
			{ID: "vm.a.enable_replication", VM: "vm.a", Kind: planner.StepEnableReplication},
			{ID: "vm.b.enable_replication", VM: "vm.b", Kind: planner.StepEnableReplication},
			{ID: "vm.a.unplanned_failover", VM: "vm.a", Kind: planner.StepUnplannedFailover, Disruptive: true, Window: "sat-night", DependsOn: []string{"vm.a.enable_replication"}},
			{ID: "vm.b.unplanned_failover", VM: "vm.b", Kind: planner.StepUnplannedFailover, Disruptive: true, Window: "sat-night", DependsOn: []string{"vm.b.enable_replication"}},
		},
		Windows: []planner.WindowInfo{{Name: "sat-night", Schedule: "0 22 * * SAT", Duration: "6h", Timezone: "Europe/Berlin"}},
	}
}

// TestLiveViewAnswersTheOperator drives the view with events and checks the
// bottom block: close time in the window's zone, counts, ETA corrected by
// the measured step, running steps against their estimate, next steps and
// the failure panel with the service's message and the commands; every
// line fits 80 columns.
func TestLiveViewAnswersTheOperator(t *testing.T) {
	now := time.Date(2026, 11, 28, 21, 30, 0, 0, time.UTC) // Sat 22:30 in Berlin: open until Sun 04:00
	clock := now
	m := newRunModel(viewPlan(), 10)
	m.resume, m.rollback = "cutover apply wave1", "cutover rollback wave1 --out rollback.plan"
	var buf bytes.Buffer
	v := newLiveView(&buf, m, func() time.Time { return clock })
	r := &modelReporter{m: m, now: func() time.Time { return clock }, event: v.event, tick: v.redraw}

	r.Report(executor.Event{Kind: executor.EventStepStarted, Step: "vm.a.enable_replication"})
	r.Report(executor.Event{Kind: executor.EventStepStarted, Step: "vm.b.enable_replication"})
	clock = clock.Add(2 * time.Minute)
	r.Report(executor.Event{Kind: executor.EventStepSucceeded, Step: "vm.a.enable_replication", Duration: 2 * time.Minute})
	clock = clock.Add(30 * time.Second)
	r.Report(executor.Event{Kind: executor.EventStepProgress, Step: "vm.b.enable_replication", Percent: 40, Message: "Running"})

	block := lastBlock(buf.String())
	for _, want := range []string{
		"── wave1: 1/4 done",
		"1 running · 0 waiting · 0 failed · 2 pending",
		"window sat-night: open, closes Sun 04:00 CET (+01:00)",
		// enable_replication measured 2m (base 5m): the run's ETA is b's
		// remaining 0s then its failover (30m base × 2/5 = 12m).
		"ETA 21:44:30Z (in 12m)",
		"disruptive steps done by Sat 22:44 CET (+01:00)",
		" 40% vm.b.enable_replication 2m30s of ~2m Running",
		"next: vm.a.unplanned_failover, vm.b.unplanned_failover",
	} {
		if !strings.Contains(block, want) {
			t.Errorf("block lacks %q:\n%s", want, block)
		}
	}

	r.Report(executor.Event{Kind: executor.EventStepFailed, Step: "vm.b.enable_replication", VM: "vm.b",
		Error: "vm.b: enable_replication: InternalError: An internal error occurred. Retry the operation after some time."})
	block = lastBlock(buf.String())
	for _, want := range []string{
		"FAILED vm.b enable_replication",
		"InternalError: An internal error occurred.",
		"resume:    cutover apply wave1",
		"roll back: cutover rollback wave1 --out rollback.plan",
		"next: vm.a.unplanned_failover\n",
		"1 failed",
	} {
		if !strings.Contains(block+"\n", want) {
			t.Errorf("block after the failure lacks %q:\n%s", want, block)
		}
	}
	if !strings.Contains(buf.String(), "\x1b[") {
		t.Error("the block is not redrawn in place")
	}
	for _, l := range strings.Split(buf.String(), "\n") {
		if n := utf8.RuneCountInString(stripANSI(l)); n > viewWidth {
			t.Errorf("line of %d columns: %q", n, l)
		}
	}
}

// lastBlock is the bottom block as last drawn.
func lastBlock(screen string) string {
	return screen[strings.LastIndex(screen, "──"):]
}

func stripANSI(s string) string {
	for {
		i := strings.Index(s, "\x1b[")
		if i < 0 {
			return s
		}
		j := i + 2
		for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';') {
			j++
		}
		s = s[:i] + s[min(j+1, len(s)):]
	}
}

// TestLiveViewCountsBudgetWaits: waits for the write budget show in the
// bottom block as a count, not as a line per request, and end when the
// step starts.
func TestLiveViewCountsBudgetWaits(t *testing.T) {
	clock := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	m := newRunModel(viewPlan(), 10)
	var buf bytes.Buffer
	v := newLiveView(&buf, m, func() time.Time { return clock })
	r := &modelReporter{m: m, now: func() time.Time { return clock }, event: v.event, tick: v.redraw}
	r.Report(executor.Event{Kind: executor.EventBudgetWaiting, Step: "vm.a.enable_replication", Duration: 5 * time.Second, Message: "waiting for the write budget of subscription s"})
	r.Report(executor.Event{Kind: executor.EventBudgetWaiting, Step: "vm.b.enable_replication", Duration: 12 * time.Second, Message: "waiting for the write budget of subscription s"})
	if block := lastBlock(buf.String()); !strings.Contains(block, "2 waiting (write budget 2)") {
		t.Errorf("bottom block:\n%s", block)
	}
	if strings.Contains(buf.String(), "  … ") {
		t.Errorf("a budget wait was printed as a line:\n%s", buf.String())
	}
	r.Report(executor.Event{Kind: executor.EventStepStarted, Step: "vm.b.enable_replication"})
	if block := lastBlock(buf.String()); !strings.Contains(block, "1 waiting (write budget 1)") {
		t.Errorf("after vm.b started:\n%s", block)
	}
}
