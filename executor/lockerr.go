package executor

import "fmt"

// ReleaseError is a run that finished (its Result is complete and valid)
// but whose state lock could not be released. The caller must say so and
// exit non-zero: a lock left behind blocks the next apply, and the person
// running this one is the one who can look at why.
type ReleaseError struct {
	LockID string
	Err    error
}

func (e *ReleaseError) Error() string {
	return fmt.Sprintf("the run finished but its state lock %s was not released: %v", e.LockID, e.Err)
}

func (e *ReleaseError) Unwrap() error { return e.Err }
