package azuresim

import (
	"sort"
	"time"
)

// Protection states the simulator walks an InMageRcm item through. They are
// the strings Azure reports in properties.protectionState; each settled one
// is cited to the SDK example (armrecoveryservicessiterecovery/v2 v2.4.0,
// replicationprotecteditems_client_example_test.go) or public output that
// shows it. States while a job runs are GUESSes: no source shows them.
const (
	// GUESS: no source shows the item while its enable job runs.
	StateEnablingProtection = "EnablingProtection"
	// Public service outputs show UnprotectedStatesBegin while initial
	// replication runs (not an SDK example).
	StateInitialReplication = "UnprotectedStatesBegin"
	// ReplicationProtectedItems_Get.json, _UpdateAppliance.json (InMageRcm).
	StateProtected = "Protected"
	// GUESS: no source shows the item while its failover job runs.
	StateUnplannedFailoverInProgress = "UnplannedFailoverInProgress"
	// ReplicationProtectedItems_UnplannedFailover.json and the Azure CLI
	// InMageRcm recording after an unplanned failover.
	StateFailedOver = "UnplannedFailoverCommitPendingStatesBegin"
	// The issue that set this vocabulary (issue 12): a failed failover,
	// with UnplannedFailover allowed again. The name is a GUESS.
	StateUnplannedFailoverFailed = "UnplannedFailoverFailed"
	// GUESS: states while cancel, commit and disable jobs run.
	StateCancelFailoverInProgress = "CancelFailoverInProgress"
	StateCommitInProgress         = "FailoverCommitInProgress"
	// ReplicationProtectedItems_FailoverCommit.json, as printed there
	// (public outputs also show UnplannedFailoverCommitted).
	StateCommitted = "PlannedFailoverStatesBegin"
	StateDisabling = "DisablingProtection"
)

// Test failover states (properties.testFailoverState).
// None: _Get.json; WaitingForCompletion: _TestFailover.json (until the
// cleanup runs); MarkedForDeletion: _TestFailoverCleanup.json, the settled
// state after a cleanup (it stays until the next test failover); InProgress
// while the test failover job runs is a GUESS.
const (
	TestFailoverNone       = "None"
	TestFailoverInProgress = "InProgress"
	TestFailoverWaiting    = "WaitingForCompletion"
	TestFailoverCleaned    = "MarkedForDeletion"
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
	StateFailedOver:                  "Failover completed", // _UnplannedFailover.json
	StateUnplannedFailoverFailed:     "Failover failed",
	StateCancelFailoverInProgress:    "Cancelling failover",
	StateCommitInProgress:            "Committing failover",
	StateCommitted:                   "Failover committed",
	StateDisabling:                   "Disabling protection",
}

// The descriptions _TestFailover.json and _TestFailoverCleanup.json print.
var testFailoverDescriptions = map[string]string{
	TestFailoverNone:       "None",
	TestFailoverInProgress: "Test failover in progress",
	TestFailoverWaiting:    "Waiting for user input",
	TestFailoverCleaned:    "Cleaning up test environment",
}

// allowedOperations is the gate the service publishes for each state; the
// simulator enforces the same gate on every action it receives. Lists are
// the InMageRcm ones where a source shows them; see doc.go for how they
// differ from the generic SDK examples and why.
func (w *world) allowedOperations(it *item) []string {
	if j := w.Jobs[it.JobID]; j != nil && j.State == "InProgress" {
		// GUESS: no source shows an item while its job runs; the service
		// refuses a second operation then, so nothing is offered.
		return []string{}
	}
	switch it.State {
	case StateEnablingProtection, StateInitialReplication:
		// GUESS: only disabling is offered before the first recovery point.
		return []string{"DisableProtection"}
	case StateProtected:
		switch it.TestFailoverState {
		case TestFailoverWaiting:
			// _TestFailover.json.
			return []string{"TestFailoverCleanup"}
		case TestFailoverInProgress:
			return []string{} // GUESS: nothing while the job runs.
		}
		// _UpdateAppliance.json (InMageRcm), in its order.
		return []string{"UnplannedFailover", "DisableProtection", "TestFailover"}
	case StateFailedOver:
		// Azure CLI recording of an InMageRcm item after an unplanned
		// failover: no CancelFailover. AllowCancelFailover adds it, as
		// _FailoverCancel.json shows the operation exists.
		ops := []string{"CompleteMigration", "Commit", "DisableProtection", "ChangePit", "SwitchProtection"}
		if w.Seed.AllowCancelFailover {
			ops = append(ops, "CancelFailover")
		}
		return ops
	case StateUnplannedFailoverFailed:
		// Issue 12: a failed failover is retried (list is a GUESS).
		return []string{"UnplannedFailover", "DisableProtection"}
	case StateCommitted:
		// _FailoverCommit.json.
		return []string{"CompleteMigration", "DisableProtection", "Failback"}
	}
	return []string{}
}

func (w *world) allows(it *item, op string) bool {
	for _, a := range w.allowedOperations(it) {
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
	it.PrevJobID = it.JobID
	it.JobID, it.Scenario, it.ScenarioStart = j.ID, scenario, now
	it.PrevState, it.PrevTFO = it.State, it.TestFailoverState
	switch scenario {
	case ScenarioEnable:
		it.State = StateEnablingProtection
	case ScenarioTestFailover:
		it.TestFailoverState = TestFailoverInProgress
	case ScenarioTestCleanup:
		it.TestFailoverState = TestFailoverCleaned // GUESS while the cleanup job runs
	case ScenarioUnplannedFailover:
		// Recovery points stop at the failover: freeze the last one.
		it.RecoveryPoints, it.LastRecoveryPoint = it.points(now, scale)
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
		// The job waits for the cleanup: ReplicationJobs_Resume.json shows
		// a TestFailover job Suspended, "WaitingForStopTestFailover", and
		// _TestFailover.json keeps currentScenario TestFailover on the item.
		j.State = JobSuspended
		it.TestFailoverState = TestFailoverWaiting
		it.JobID, it.Scenario = j.ID, ScenarioTestFailover
	case ScenarioTestCleanup:
		if tj := w.Jobs[it.PrevJobID]; tj != nil && tj.State == JobSuspended {
			tj.State = "Succeeded"
			tj.End = j.End
		}
		it.TestFailoverState = TestFailoverCleaned
		it.TestFailoverDone = true
		it.LastTestFailover = j.End
	case ScenarioUnplannedFailover:
		it.State = StateFailedOver
		it.LastFailover = j.End
	case ScenarioCancelFailover:
		// _FailoverCancel.json: Protected, test failover None.
		it.State, it.TestFailoverState = StateProtected, TestFailoverNone
		it.IREnd = j.End // recovery points start again from here
		it.RecoveryPoints++
		it.LastRecoveryPoint = j.End
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

// JobSuspended is the state of a test failover job waiting for its
// cleanup (ReplicationJobs_Resume.json: "Suspended", described
// "WaitingForStopTestFailover").
const JobSuspended = "Suspended"

// recoveryPointBase is how often a replicating item gets a new
// crash-consistent recovery point at TimeScale 1. The policy the simulator
// renders says 5 minutes (crashConsistentFrequencyInMinutes); demos
// cannot wait that long, so this is shorter: a GUESS about nothing but
// speed.
const recoveryPointBase = 10 * time.Second

// points is the item's recovery point count and the time of the last one
// at now: replication adds one every recoveryPointBase while the item is
// Protected (including a source that was shut down: the agent sends its
// last changes, and the next point is newer than the shutdown).
func (it *item) points(now time.Time, scale float64) (int, time.Time) {
	n, last := it.RecoveryPoints, it.LastRecoveryPoint
	// An unhealthy item's source stopped sending data (MarkUnhealthy's
	// health error says so): no new points, the RPO grows.
	if n == 0 || it.State != StateProtected || it.Unhealthy != "" {
		return n, last
	}
	every := time.Duration(float64(recoveryPointBase) * scale)
	if every <= 0 {
		every = time.Millisecond
	}
	if d := now.Sub(last); d >= every {
		k := int(d / every)
		n += k
		last = last.Add(time.Duration(k) * every)
	}
	return n, last
}
