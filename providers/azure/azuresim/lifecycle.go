package azuresim

import (
	"sort"
	"time"
)

// Protection states the simulator walks an InMageRcm item through. They are
// the strings Azure reports in properties.protectionState.
const (
	StateEnablingProtection          = "EnablingProtection"
	StateInitialReplication          = "InitialReplicationInProgress"
	StateProtected                   = "Protected"
	StateUnplannedFailoverInProgress = "UnplannedFailoverInProgress"
	StateFailedOver                  = "UnplannedFailoverCompleted"
	StateUnplannedFailoverFailed     = "UnplannedFailoverFailed"
	StateCancelFailoverInProgress    = "CancelFailoverInProgress"
	StateCommitInProgress            = "FailoverCommitInProgress"
	StateCommitted                   = "FailoverCommitted"
	StateDisabling                   = "DisablingProtection"
)

// Test failover states (properties.testFailoverState).
const (
	TestFailoverNone       = "None"
	TestFailoverInProgress = "InProgress"
	TestFailoverWaiting    = "WaitingForCompletion"
	TestFailoverCleaning   = "MarkedForDeletion"
)

// Scenario names of replication jobs, as ASR names them.
const (
	ScenarioEnable            = "EnableDr"
	ScenarioUpdate            = "UpdateVmProperties"
	ScenarioTestFailover      = "TestFailover"
	ScenarioTestCleanup       = "TestFailoverCleanup"
	ScenarioUnplannedFailover = "UnplannedFailover"
	ScenarioCancelFailover    = "CancelFailover"
	ScenarioCommit            = "Commit"
	ScenarioDisable           = "DisableDr"
	ScenarioPurge             = "PurgeProtection"
)

// baseDurations are the job lengths at TimeScale 1: short enough for a demo
// with --sim, long enough to show progress.
var baseDurations = map[string]time.Duration{
	ScenarioEnable:            4 * time.Second,
	ScenarioUpdate:            2 * time.Second,
	ScenarioTestFailover:      8 * time.Second,
	ScenarioTestCleanup:       4 * time.Second,
	ScenarioUnplannedFailover: 8 * time.Second,
	ScenarioCancelFailover:    4 * time.Second,
	ScenarioCommit:            3 * time.Second,
	ScenarioDisable:           4 * time.Second,
	ScenarioPurge:             2 * time.Second,
}

// initialReplicationBase is how long initial replication takes at TimeScale 1.
const initialReplicationBase = 20 * time.Second

var friendlyNames = map[string]string{
	ScenarioEnable:            "Enable replication",
	ScenarioUpdate:            "Update the virtual machine",
	ScenarioTestFailover:      "Test failover",
	ScenarioTestCleanup:       "Cleanup test failover",
	ScenarioUnplannedFailover: "Unplanned failover",
	ScenarioCancelFailover:    "Cancel failover",
	ScenarioCommit:            "Commit",
	ScenarioDisable:           "Disable replication",
	ScenarioPurge:             "Purge replication",
}

var stateDescriptions = map[string]string{
	StateEnablingProtection:          "Enabling protection",
	StateInitialReplication:          "Initial replication in progress",
	StateProtected:                   "Protected",
	StateUnplannedFailoverInProgress: "Failover in progress",
	StateFailedOver:                  "Failover completed",
	StateUnplannedFailoverFailed:     "Failover failed",
	StateCancelFailoverInProgress:    "Cancelling failover",
	StateCommitInProgress:            "Committing failover",
	StateCommitted:                   "Failover committed",
	StateDisabling:                   "Disabling protection",
}

var testFailoverDescriptions = map[string]string{
	TestFailoverNone:       "None",
	TestFailoverInProgress: "Test failover in progress",
	TestFailoverWaiting:    "Test failover completed, waiting for cleanup",
	TestFailoverCleaning:   "Cleaning up test environment",
}

// allowedOperations is the gate the service publishes for each state; the
// simulator enforces the same gate on every action it receives.
func (it *item) allowedOperations() []string {
	switch it.State {
	case StateEnablingProtection, StateInitialReplication:
		return []string{"DisableProtection"}
	case StateProtected:
		switch it.TestFailoverState {
		case TestFailoverWaiting:
			return []string{"TestFailoverCleanup"}
		case TestFailoverInProgress, TestFailoverCleaning:
			return []string{}
		}
		return []string{"TestFailover", "UnplannedFailover", "DisableProtection"}
	case StateFailedOver:
		return []string{"Commit", "CancelFailover"}
	case StateUnplannedFailoverFailed:
		return []string{"UnplannedFailover", "DisableProtection", "TestFailover"}
	case StateCommitted:
		return []string{"DisableProtection", "CompleteMigration"}
	}
	return []string{}
}

func (it *item) allows(op string) bool {
	for _, a := range it.allowedOperations() {
		if a == op {
			return true
		}
	}
	return false
}

// startJob records a running job for an item and moves the item into the
// state that the job's start implies.
func (w *world) startJob(now time.Time, scale float64, it *item, scenario string, fault *Fault) *job {
	w.Seq++
	d := time.Duration(float64(baseDurations[scenario]) * scale)
	j := &job{
		ID:       newJobName(w.Seq),
		Scenario: scenario,
		Item:     it.key(),
		ItemName: it.Name,
		Target:   it.TargetVMName,
		State:    "InProgress",
		Start:    now,
		End:      now.Add(d),
	}
	if fault != nil {
		j.FailCode, j.FailMessage = fault.Code, fault.Message
	}
	w.Jobs[j.ID] = j
	if !w.due.IsZero() && j.End.Before(w.due) {
		w.due = j.End
	}
	it.JobID, it.Scenario, it.ScenarioStart = j.ID, scenario, now
	it.PrevState, it.PrevTFO = it.State, it.TestFailoverState
	switch scenario {
	case ScenarioEnable:
		it.State = StateEnablingProtection
	case ScenarioTestFailover:
		it.TestFailoverState = TestFailoverInProgress
	case ScenarioTestCleanup:
		it.TestFailoverState = TestFailoverCleaning
	case ScenarioUnplannedFailover:
		it.State = StateUnplannedFailoverInProgress
	case ScenarioCancelFailover:
		it.State = StateCancelFailoverInProgress
	case ScenarioCommit:
		it.State = StateCommitInProgress
	case ScenarioDisable, ScenarioPurge:
		it.State = StateDisabling
	}
	it.Revision++
	return j
}

// advance completes every job whose time has come, in end-time order, and
// finishes initial replications. It reports whether anything changed.
func (w *world) advance(now time.Time, scale float64) bool {
	if !w.due.IsZero() && now.Before(w.due) {
		return false
	}
	var due []*job
	for _, j := range w.Jobs {
		if j.State == "InProgress" && !now.Before(j.End) {
			due = append(due, j)
		}
	}
	sort.Slice(due, func(a, b int) bool { return due[a].End.Before(due[b].End) })
	changed := len(due) > 0
	for _, j := range due {
		w.finish(j, scale)
	}
	for _, it := range w.Items {
		if it.State == StateInitialReplication && !now.Before(it.IREnd) {
			it.State = StateProtected
			it.RecoveryPoints++
			it.LastRecoveryPoint = it.IREnd
			it.Revision++
			changed = true
		}
	}
	w.due = w.nextDue()
	return changed
}

// nextDue is the earliest end of a running job or initial replication,
// or the end of time when nothing is running.
func (w *world) nextDue() time.Time {
	next := time.Unix(1<<62, 0)
	for _, j := range w.Jobs {
		if j.State == "InProgress" && j.End.Before(next) {
			next = j.End
		}
	}
	for _, it := range w.Items {
		if it.State == StateInitialReplication && it.IREnd.Before(next) {
			next = it.IREnd
		}
	}
	return next
}

func (w *world) finish(j *job, scale float64) {
	failed := j.FailCode != ""
	if failed {
		j.State = "Failed"
	} else {
		j.State = "Succeeded"
	}
	it := w.Items[j.Item]
	if it == nil || it.JobID != j.ID {
		return
	}
	it.Revision++
	defer w.vmsAfterJob(j, it)
	if failed {
		switch j.Scenario {
		case ScenarioEnable:
			delete(w.Items, j.Item)
		case ScenarioUnplannedFailover:
			it.State = StateUnplannedFailoverFailed
		default:
			it.State, it.TestFailoverState = it.PrevState, it.PrevTFO
		}
		return
	}
	switch j.Scenario {
	case ScenarioEnable:
		it.State = StateInitialReplication
		it.IRStart = j.End
		it.IREnd = j.End.Add(time.Duration(float64(initialReplicationBase) * scale))
	case ScenarioTestFailover:
		it.TestFailoverState = TestFailoverWaiting
	case ScenarioTestCleanup:
		it.TestFailoverState = TestFailoverNone
		it.TestFailoverDone = true
		it.LastTestFailover = j.End
	case ScenarioUnplannedFailover:
		it.State = StateFailedOver
		it.LastFailover = j.End
	case ScenarioCancelFailover:
		it.State = StateProtected
	case ScenarioCommit:
		it.State = StateCommitted
	case ScenarioDisable, ScenarioPurge:
		delete(w.Items, j.Item)
	}
}

// irPercent is the initial replication progress at now.
func (it *item) irPercent(now time.Time) int32 {
	switch it.State {
	case StateEnablingProtection:
		return 0
	case StateInitialReplication:
		total := it.IREnd.Sub(it.IRStart)
		if total <= 0 {
			return 99
		}
		p := int32(100 * now.Sub(it.IRStart) / total)
		if p > 99 {
			p = 99
		}
		if p < 0 {
			p = 0
		}
		return p
	}
	return 100
}
