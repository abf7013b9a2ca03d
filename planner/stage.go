package planner

import (
	"fmt"
	"strings"

	"cutover/schema"
)

// LiveStage is where a VM is in the lifecycle, as read from live state.
type LiveStage int

// Live stages in lifecycle order.
const (
	LiveDiscovered  LiveStage = iota // source found, not protected
	LiveReplicating                  // protected item exists, initial replication running
	LiveProtected                    // initial replication complete
	LiveTesting                      // test failover done, cleanup pending
	LiveTested                       // test failover done and cleaned up
	LiveFailedOver                   // unplanned failover done, not committed
	LiveCommitted                    // failover committed (no return)
	LiveCompleted                    // replication removed after commit
)

var liveStageNames = []string{"discovered", "replicating", "protected", "testing", "tested", "failed over", "committed", "completed"}

func (s LiveStage) String() string {
	if int(s) < len(liveStageNames) {
		return liveStageNames[s]
	}
	return fmt.Sprintf("LiveStage(%d)", int(s))
}

// MarshalText writes the stage's name, so plan files read well.
func (s LiveStage) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a stage name.
func (s *LiveStage) UnmarshalText(b []byte) error {
	for i, n := range liveStageNames {
		if n == string(b) {
			*s = LiveStage(i)
			return nil
		}
	}
	return fmt.Errorf("unknown live stage %q", b)
}

// StageOf derives the live stage. It fails for states a plan cannot start
// from (a failed failover, an operation still running).
func StageOf(l Live) (LiveStage, error) {
	if l.Completed {
		return LiveCompleted, nil
	}
	it := l.Item
	if it == nil {
		return LiveDiscovered, nil
	}
	switch it.ProtectionState {
	case "EnablingProtection", "InitialReplicationInProgress":
		return LiveReplicating, nil
	case "Protected":
		switch it.TestFailoverState {
		case "WaitingForCompletion":
			return LiveTesting, nil
		case "InProgress", "MarkedForDeletion":
			return 0, fmt.Errorf("a test failover operation is running (testFailoverState %s); plan again when it ends", it.TestFailoverState)
		}
		if it.Tested {
			return LiveTested, nil
		}
		return LiveProtected, nil
	case "UnplannedFailoverCompleted":
		return LiveFailedOver, nil
	case "FailoverCommitted":
		return LiveCommitted, nil
	case "UnplannedFailoverFailed":
		return 0, fmt.Errorf("the last unplanned failover failed (protectionState UnplannedFailoverFailed); look at the ASR job, then retry or roll back by hand")
	}
	return 0, fmt.Errorf("ASR reports protection state %q, which is in progress or unknown; plan again when it settles", it.ProtectionState)
}

// satisfies reports whether a VM at live stage s already meets desired.
func satisfies(s LiveStage, desired schema.Stage) bool {
	switch desired {
	case schema.StageReplicating:
		return s == LiveReplicating || s == LiveProtected || s == LiveTested
	case schema.StageTested:
		return s == LiveTested
	case schema.StageMigrated:
		return s == LiveFailedOver
	case schema.StageCompleted:
		return s == LiveCompleted
	}
	return false
}

// desiredRank orders desired stages against live ones.
func desiredRank(d schema.Stage) LiveStage {
	switch d {
	case schema.StageTested:
		return LiveTested
	case schema.StageMigrated:
		return LiveFailedOver
	case schema.StageCompleted:
		return LiveCompleted
	}
	return LiveReplicating
}

func titleStage(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
