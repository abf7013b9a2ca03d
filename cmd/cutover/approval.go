package main

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// flagValueError is a command-line flag given a value that cannot be
// right. It is a usage mistake that exits 1, never 2: 2 is what
// --detailed-exitcode gives to "changes present", and a CI job that reads
// 2 as "go ahead" must not do so because a variable was unset.
type flagValueError struct {
	flag string
	err  error
}

func (e flagValueError) Error() string { return fmt.Sprintf("--%s: %v", e.flag, e.err) }
func (e flagValueError) Unwrap() error { return e.err }

// approvedDigest reads --expect-digest. set is whether the flag was given
// at all: given, it must be a SHA-256 in hex (as show --digest prints it),
// because an empty value (an unset CI variable) or a typo would otherwise
// turn the approval check off without anyone noticing.
func approvedDigest(value string, set bool) (string, error) {
	if !set {
		return "", nil
	}
	v := strings.ToLower(strings.TrimSpace(value))
	switch {
	case v == "":
		return "", flagValueError{"expect-digest", fmt.Errorf("is empty; give the approved plan's SHA-256 (cutover show --digest PLAN), or leave the flag out")}
	case len(v) != 64:
		return "", flagValueError{"expect-digest", fmt.Errorf("%q is not a SHA-256: want 64 hex digits, got %d characters", safe(value), len(value))}
	}
	if _, err := hex.DecodeString(v); err != nil {
		return "", flagValueError{"expect-digest", fmt.Errorf("%q is not a SHA-256: want 64 hex digits", safe(value))}
	}
	return v, nil
}

// digestMismatch is the refusal when the plan about to be applied is not
// the one approved.
func digestMismatch(got, approved string, fresh bool) error {
	if fresh {
		return fmt.Errorf("the plan just made has digest %s, not the approved %s; refusing to apply. Apply the approved plan file instead: cutover apply --expect-digest %s PLAN", got, approved, approved)
	}
	return fmt.Errorf("the plan's digest is %s, not the approved %s; refusing to apply", got, approved)
}
