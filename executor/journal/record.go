package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind says which transition a Record journals.
//
// It is written to the journal by name, not number, so a journal stays
// readable by people and a reordering of the constants cannot change the
// meaning of records already on disk.
type Kind uint8

// The kinds of record. A step moves Pending → Started → Succeeded or Failed;
// Unknown marks a step whose call may or may not have taken effect (the
// process died between issuing it and journaling the answer), so the
// executor must decide from live state rather than from the journal.
const (
	// KindUnspecified is the zero value and is never a valid record kind,
	// so a Record built without a kind is refused instead of journaled.
	KindUnspecified Kind = iota
	// RunStarted opens one apply or rollback run of a plan.
	RunStarted
	// StepPending records that a step is about to be attempted. A step
	// whose last record is StepPending may have had its call issued just
	// before a crash, so a resume checks live state before issuing again.
	StepPending
	// StepStarted records that a step's remote operation was issued; it
	// carries the operation handle so a restart can re-attach.
	StepStarted
	// StepSucceeded records that a step finished successfully.
	StepSucceeded
	// StepFailed records that a step failed; Error says why.
	StepFailed
	// StepUnknown records that a step's outcome cannot be known from the
	// journal and must be read from live state.
	StepUnknown
	// BeforeImage records, on its own, the state a step is about to
	// change, which a rollback needs to put it back. The executor sends it
	// on the StepStarted record instead, with the handle, in one write;
	// readers take a before-image from either.
	BeforeImage
	// RunFinished closes a run.
	RunFinished

	kindEnd // one past the last valid kind; keep last
)

var kindNames = [...]string{
	KindUnspecified: "unspecified",
	RunStarted:      "run_started",
	StepPending:     "step_pending",
	StepStarted:     "step_started",
	StepSucceeded:   "step_succeeded",
	StepFailed:      "step_failed",
	StepUnknown:     "step_unknown",
	BeforeImage:     "before_image",
	RunFinished:     "run_finished",
}

// String returns the name the kind is journaled under.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Valid reports whether k is a kind a record may carry.
func (k Kind) Valid() bool { return k > KindUnspecified && k < kindEnd }

// IsStep reports whether records of this kind belong to one step and so
// must name it.
func (k Kind) IsStep() bool {
	switch k {
	case StepPending, StepStarted, StepSucceeded, StepFailed, StepUnknown, BeforeImage:
		return true
	}
	return false
}

// MarshalText writes the kind by name; an invalid kind is an error so that
// it can never reach the journal.
func (k Kind) MarshalText() ([]byte, error) {
	if !k.Valid() {
		return nil, fmt.Errorf("journal: invalid record kind %s", k)
	}
	return []byte(k.String()), nil
}

// UnmarshalText reads a kind by name. An unknown name is an error rather
// than a zero value: a journal written by a newer cutover must not be
// half-understood by an older one.
func (k *Kind) UnmarshalText(b []byte) error {
	for i := KindUnspecified + 1; i < kindEnd; i++ {
		if kindNames[i] == string(b) {
			*k = i
			return nil
		}
	}
	return fmt.Errorf("journal: unknown record kind %q", b)
}

// Record is one entry of the journal.
//
// Seq and Time are assigned by the Store when the record is appended; any
// values the caller sets are overwritten. Handle and BeforeImage are opaque
// to the journal: the provider that made them decodes them. They must hold
// handles and identifiers (a vCenter task moref, an ASR job ID and poller
// resume token), never credentials; see [Guard].
type Record struct {
	// Seq numbers records from 1 without gaps, in append order.
	Seq uint64 `json:"seq"`
	// Time is when the store appended the record, in UTC, from the
	// store's clock.
	Time time.Time `json:"time"`
	// Kind is the transition this record journals.
	Kind Kind `json:"kind"`
	// PlanID identifies the saved plan being applied.
	PlanID string `json:"plan_id,omitempty"`
	// RunID identifies one apply or rollback run of the plan, so records
	// of a resumed run can be told from those of the run it resumes.
	RunID string `json:"run_id,omitempty"`
	// StepID is the plan step, e.g. vm.app["web01"].test_failover.
	// Required for step kinds.
	StepID string `json:"step_id,omitempty"`
	// Attempt counts attempts of the step from 1; 0 when not applicable.
	Attempt int `json:"attempt,omitempty"`
	// Handle is the provider's operation handle (StepStarted, and
	// StepUnknown when one was obtained).
	Handle json.RawMessage `json:"handle,omitempty"`
	// BeforeImage is the state a rollback restores (kinds BeforeImage and
	// StepStarted).
	BeforeImage json.RawMessage `json:"before_image,omitempty"`
	// Error is the failure text (StepFailed, StepUnknown).
	Error string `json:"error,omitempty"`
}

// ErrInvalidRecord is wrapped by the error Append returns for a record that
// is malformed: a programming error in the caller, not a storage problem.
var ErrInvalidRecord = errors.New("invalid journal record")

// Validate reports what is wrong with r as a record to append. Seq and Time
// are not checked because the store assigns them.
func (r Record) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("journal: %w: %s", ErrInvalidRecord, fmt.Sprintf(format, a...))
	}
	if !r.Kind.Valid() {
		return bad("kind %s", r.Kind)
	}
	if r.Kind.IsStep() && strings.TrimSpace(r.StepID) == "" {
		return bad("%s record without a step ID", r.Kind)
	}
	if r.Kind == BeforeImage && len(bytes.TrimSpace(r.BeforeImage)) == 0 {
		return bad("before_image record for step %s without a before-image", r.StepID)
	}
	if r.Attempt < 0 {
		return bad("negative attempt %d for step %s", r.Attempt, r.StepID)
	}
	if len(r.Handle) > 0 && !json.Valid(r.Handle) {
		return bad("handle of step %s is not valid JSON", r.StepID)
	}
	if len(r.BeforeImage) > 0 && !json.Valid(r.BeforeImage) {
		return bad("before-image of step %s is not valid JSON", r.StepID)
	}
	return nil
}
