package planner

import (
	"errors"
	"fmt"
	"strings"

	"cutover/providers/azure"
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

// StageOf derives the live stage from the provider's reading of the
// item (its state and allowedOperations together, see azure.Classify). It
// fails, naming the state and what to do, for an item that is busy or in
// a state that allows nothing the lifecycle knows.
func StageOf(l Live) (LiveStage, error) {
	if l.Completed {
		return LiveCompleted, nil
	}
	it := l.Item
	if it == nil {
		if l.Migrated != "" {
			return LiveCompleted, nil
		}
		return LiveDiscovered, nil
	}
	phase, reason := it.Phase()
	switch phase {
	case azure.PhaseReplicating:
		return LiveReplicating, nil
	case azure.PhaseProtected:
		if it.Tested {
			return LiveTested, nil
		}
		return LiveProtected, nil
	case azure.PhaseTestFailoverPending:
		return LiveTesting, nil
	case azure.PhaseFailoverFailed:
		// A failed failover is retried: the VM stands where a failover
		// starts (ASR allows UnplannedFailover again).
		return LiveTested, nil
	case azure.PhaseFailedOver:
		return LiveFailedOver, nil
	case azure.PhaseCommitted:
		return LiveCommitted, nil
	}
	return 0, errors.New(reason)
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
