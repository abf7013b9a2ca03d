package azure

import (
	"fmt"
	"slices"
	"strings"
)

// Phase is what a protected item's state means for a migration: the one
// question the planner and the executor ask of ASR's vocabulary. Nothing
// outside this file compares protectionState or testFailoverState names.
type Phase int

// Phases in lifecycle order. PhaseBusy and PhaseUnknown are not on the
// line: they say "wait" and "ask a human".
const (
	PhaseUnknown             Phase = iota
	PhaseReplicating               // enabling or initial replication
	PhaseProtected                 // replicating, no test failover open
	PhaseTestFailoverPending       // a test failover is up, its cleanup is pending
	PhaseFailoverFailed            // the last failover failed; it may be sent again
	PhaseFailedOver                // failed over, not committed
	PhaseCommitted                 // failover committed: only complete migration / disable remain
	PhaseBusy                      // an operation is running and allows nothing yet
)

var phaseNames = []string{"unknown", "replicating", "protected", "test failover pending", "failover failed", "failed over", "committed", "busy"}

func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// The allowedOperations values the lifecycle reads (the
// ReplicationProtectedItemOperation enum of the 2025-01-01 spec).
const (
	AllowTestFailover        = "TestFailover"
	AllowTestFailoverCleanup = "TestFailoverCleanup"
	AllowUnplannedFailover   = "UnplannedFailover"
	AllowCancelFailover      = "CancelFailover"
	AllowCommit              = "Commit"
	AllowCompleteMigration   = "CompleteMigration"
	AllowDisableProtection   = "DisableProtection"
)

// StateRow is one combination of an item's fields that a source shows.
// Empty TestFailoverState or Scenario match any value. Allowed is what the
// source lists, verbatim; it documents the row and is what the simulator's
// tests compare with, but Classify decides from the item's own list.
type StateRow struct {
	ProtectionState   string
	TestFailoverState string
	Scenario          string
	Allowed           []string
	Phase             Phase
	// Source names where the combination was seen; GUESS marks rows no
	// source shows (states between a request and its job's end).
	Source string
}

// sdkExamples is where the SDK module keeps the service's example bodies.
const sdkExamples = "armrecoveryservicessiterecovery/v2@v2.4.0 replicationprotecteditems_client_example_test.go, "

// States is the ASR state vocabulary: every protectionState /
// testFailoverState / currentScenario combination our sources show for a
// replication protected item, after each call, with its phase. Rows are
// looked up in order; the first match wins. docs/asr-states.md renders
// the same table for people.
var States = []StateRow{
	{"Protected", "None", "None", []string{"UnplannedFailover", "DisableProtection", "TestFailover"}, PhaseProtected,
		sdkExamples + "ReplicationProtectedItems_UpdateAppliance.json and _UpdateMobilityService.json (InMageRcm / InMageAzureV2)"},
	{"Protected", "None", "None", []string{"PlannedFailover", "UnplannedFailover", "DisableProtection", "TestFailover"}, PhaseProtected,
		sdkExamples + "ReplicationProtectedItems_Get/_Create/_Update/_List/_RepairReplication.json (HyperVReplicaAzure)"},
	{"Protected", "None", "None", []string{"RepairReplication", "UnplannedFailover", "DisableProtection", "TestFailover"}, PhaseProtected,
		sdkExamples + "ReplicationProtectedItems_AddDisks/_RemoveDisks/_ResolveHealthErrors.json (A2A)"},
	{"Protected", "None", "None", []string{"PlannedFailover", "DisableProtection"}, PhaseProtected,
		sdkExamples + "ReplicationProtectedItems_FailoverCancel.json (InMageRcmFailback)"},
	{"Protected", "WaitingForCompletion", "TestFailover", []string{"TestFailoverCleanup"}, PhaseTestFailoverPending,
		sdkExamples + "ReplicationProtectedItems_TestFailover.json; replicationjobs_client_example_test.go ReplicationJobs_Resume.json shows the job Suspended, \"WaitingForStopTestFailover\""},
	{"Protected", "MarkedForDeletion", "None", []string{"PlannedFailover", "UnplannedFailover", "DisableProtection", "TestFailover"}, PhaseProtected,
		sdkExamples + "ReplicationProtectedItems_TestFailoverCleanup.json and _Reprotect.json: the settled state after a cleanup"},
	{"UnplannedFailoverCommitPendingStatesBegin", "", "None", []string{"CompleteMigration", "Commit", "DisableProtection", "ChangePit", "SwitchProtection"}, PhaseFailedOver,
		"Azure CLI site-recovery test recording of an InMageRcm item after an unplanned failover (no CancelFailover)"},
	{"UnplannedFailoverCommitPendingStatesBegin", "MarkedForDeletion", "None", []string{"CompleteMigration", "Commit", "DisableProtection", "ChangePit"}, PhaseFailedOver,
		sdkExamples + "ReplicationProtectedItems_UnplannedFailover.json and _ApplyRecoveryPoint.json"},
	{"PlannedFailoverCommitRequired", "MarkedForDeletion", "None", []string{"CompleteMigration", "Commit", "DisableProtection", "ChangePit"}, PhaseFailedOver,
		sdkExamples + "ReplicationProtectedItems_PlannedFailover.json and _SwitchProvider.json"},
	{"PlannedFailoverStatesBegin", "MarkedForDeletion", "None", []string{"CompleteMigration", "DisableProtection", "Failback"}, PhaseCommitted,
		sdkExamples + "ReplicationProtectedItems_FailoverCommit.json (the state as printed there)"},
	{"UnplannedFailoverCommitted", "", "", nil, PhaseCommitted,
		"public outputs of the service after a commit (not an SDK example)"},
	{"UnprotectedStatesBegin", "", "", nil, PhaseReplicating,
		"public outputs of the service during initial replication (not an SDK example)"},
	{"UnplannedFailoverFailed", "", "", []string{"UnplannedFailover", "DisableProtection"}, PhaseFailoverFailed,
		"issue 12: a failed failover allows UnplannedFailover again (allowed list is a GUESS)"},
	// GUESS: no source shows an item while its job runs. These are the
	// states our simulator reports then; any state with nothing allowed
	// and a job named in currentScenario reads as busy anyway.
	{"EnablingProtection", "", "", nil, PhaseReplicating, "GUESS (simulator): enable job running"},
	{"InitialReplicationInProgress", "", "", nil, PhaseReplicating, "GUESS (simulator, older builds)"},
	{"Protected", "InProgress", "TestFailover", nil, PhaseBusy, "GUESS (simulator): test failover job running"},
	{"UnplannedFailoverInProgress", "", "", nil, PhaseBusy, "GUESS (simulator): failover job running"},
	{"CancelFailoverInProgress", "", "", nil, PhaseBusy, "GUESS (simulator): cancel job running"},
	{"FailoverCommitInProgress", "", "", nil, PhaseBusy, "GUESS (simulator): commit job running"},
	{"DisablingProtection", "", "", nil, PhaseBusy, "GUESS (simulator): disable job running"},
}

// MigrationStates is the vocabulary of replicationMigrationItems (the
// agentless VMwareCbt path). cutover's InMageRcm path never reads them; they
// are kept so that a reader who meets these names knows where they belong.
var MigrationStates = []StateRow{
	{"Replicating", "None", "", []string{"Migrate", "DisableMigration", "TestMigrate", "TestMigrateCleanup"}, PhaseProtected,
		"replicationmigrationitems_client_example_test.go ReplicationMigrationItems_Get/_Create/_Update/_Migrate/_Resync/_TestMigrate/_TestMigrateCleanup.json"},
	{"ProtectionSuspended", "None", "", []string{"DisableMigration"}, PhaseUnknown,
		"replicationmigrationitems_client_example_test.go ReplicationMigrationItems_PauseReplication.json"},
	{"ResumeInitiated", "None", "", []string{"DisableMigration"}, PhaseBusy,
		"replicationmigrationitems_client_example_test.go ReplicationMigrationItems_ResumeReplication.json"},
}

// JobRunning reports whether a replication job state means work is under
// way for the item. NotStarted and InProgress come from the REST how-to's
// list of job states; Cancelling from ReplicationJobs_Cancel.json;
// Suspended (ReplicationJobs_Resume.json, "WaitingForStopTestFailover") is a
// test failover waiting for its cleanup: nothing runs.
func JobRunning(state string) bool {
	switch strings.ToLower(state) {
	case "notstarted", "inprogress", "cancelling", "restarted":
		return true
	}
	return false
}

// Classify reads an item's phase. A row of States that names the item's
// protection and test failover states gives it; for a state no source
// shows, allowedOperations says what can happen next, and that decides.
// reason is set for PhaseUnknown and PhaseBusy: what the service reports
// and what the user can do.
func Classify(it *ProtectedItem) (phase Phase, reason string) {
	for _, r := range States {
		if !strings.EqualFold(r.ProtectionState, it.ProtectionState) {
			continue
		}
		if r.TestFailoverState != "" && !strings.EqualFold(r.TestFailoverState, noneIfEmpty(it.TestFailoverState)) {
			continue
		}
		phase = r.Phase
		break
	}
	// A test failover waiting for cleanup shows it in allowedOperations,
	// whatever the state is called.
	if it.Allows(AllowTestFailoverCleanup) && phase != PhaseFailedOver && phase != PhaseCommitted {
		return PhaseTestFailoverPending, ""
	}
	if phase == PhaseUnknown {
		phase = fromAllowed(it)
	}
	switch phase {
	case PhaseBusy:
		what := "an operation"
		if it.CurrentScenario != "" {
			what = "ASR job " + it.CurrentScenario
		}
		return phase, fmt.Sprintf("%s is running (protectionState %s); plan again when it ends", what, it.ProtectionState)
	case PhaseUnknown:
		return phase, fmt.Sprintf("ASR reports protectionState %q (test failover %q) allowing %s, which cutover cannot place in the lifecycle; check the item in the portal, finish or undo its last operation there, then plan again",
			it.ProtectionState, noneIfEmpty(it.TestFailoverState), allowedText(it.AllowedOperations))
	}
	return phase, ""
}

// fromAllowed places a state no source names by what it allows.
func fromAllowed(it *ProtectedItem) Phase {
	switch {
	case it.Allows(AllowCommit):
		return PhaseFailedOver
	case it.Allows(AllowCompleteMigration):
		return PhaseCommitted
	case it.Allows(AllowTestFailover), it.Allows(AllowUnplannedFailover) && it.ActiveLocation != "Recovery":
		return PhaseProtected
	case len(it.AllowedOperations) == 0 || slices.EqualFunc(it.AllowedOperations, []string{AllowDisableProtection}, strings.EqualFold):
		if it.CurrentScenario != "" {
			return PhaseBusy
		}
	}
	return PhaseUnknown
}

// Tested reports whether the item's test failover succeeded and was
// cleaned up: the service keeps lastSuccessfulTestFailoverTime, and the
// cleanup leaves testFailoverState None or MarkedForDeletion (see States).
// The SDK examples print 1601-01-01 for "never", which is the zero time's
// year in Windows FILETIME; anything before 1900 counts as never.
func (p *ProtectedItem) Tested() bool {
	if p.LastTestFailover.IsZero() || p.LastTestFailover.Year() < 1900 {
		return false
	}
	ph, _ := Classify(p)
	return ph != PhaseTestFailoverPending && ph != PhaseBusy
}

// Healthy reports whether failovers may be sent: not while replication
// health is Critical or a resync is required (the REST how-to: "verify
// that replication is healthy before you initiate migration"). reason
// lists the service's health errors.
func (p *ProtectedItem) Healthy() (ok bool, reason string) {
	if !strings.EqualFold(p.ReplicationHealth, "Critical") && !p.ResyncRequired {
		return true, ""
	}
	var why []string
	if p.ResyncRequired {
		why = append(why, "a resync is required")
	}
	if strings.EqualFold(p.ReplicationHealth, "Critical") {
		why = append(why, "replicationHealth is Critical")
	}
	for _, h := range p.HealthErrors {
		if strings.EqualFold(h.Level, "Warning") {
			continue
		}
		msg := h.Message
		if h.Code != "" {
			msg = h.Code + ": " + msg
		}
		if h.RecommendedAction != "" {
			msg += " (" + h.RecommendedAction + ")"
		}
		why = append(why, msg)
	}
	return false, strings.Join(why, "; ")
}

func noneIfEmpty(s string) string {
	if s == "" {
		return "None"
	}
	return s
}

func allowedText(ops []string) string {
	if len(ops) == 0 {
		return "no operation"
	}
	return strings.Join(ops, ", ")
}

// Replicated reports whether initial replication is over: the item is
// protected or further along (or busy with an operation that needs a
// protected item).
func (p *ProtectedItem) Replicated() bool {
	switch ph, _ := Classify(p); ph {
	case PhaseReplicating, PhaseUnknown:
		return false
	}
	return true
}
