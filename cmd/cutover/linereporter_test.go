package main

import (
	"bytes"
	"strings"
	"testing"

	"cutover/executor"
)

// TestLineReporterSaysAWaitOnce: a gate polled again with the same answer
// prints one line; a new answer, or the same wait after the step moved on,
// prints again.
func TestLineReporterSaysAWaitOnce(t *testing.T) {
	var buf bytes.Buffer
	l := newLineReporter(&buf, false)
	wait := executor.Event{Kind: executor.EventStepWaiting, Step: "vm.a.unplanned_failover", Message: "gate: no recovery point newer than the shutdown"}
	l.Report(wait)
	l.Report(wait)
	l.Report(wait)
	if n := strings.Count(buf.String(), "no recovery point"); n != 1 {
		t.Fatalf("the same wait printed %d times:\n%s", n, buf.String())
	}
	l.Report(executor.Event{Kind: executor.EventStepWaiting, Step: "vm.a.unplanned_failover", Message: "gate: health Critical"})
	l.Report(executor.Event{Kind: executor.EventStepWaiting, Step: "vm.b.unplanned_failover", Message: wait.Message})
	l.Report(executor.Event{Kind: executor.EventStepStarted, Step: "vm.a.unplanned_failover"})
	l.Report(wait)
	out := buf.String()
	if strings.Count(out, "health Critical") != 1 || strings.Count(out, "no recovery point") != 3 {
		t.Errorf("changed or renewed waits were not printed:\n%s", out)
	}
}
