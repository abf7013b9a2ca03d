package planfile

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"cutover/planner"
)

// ValidationError is a plan file whose structure the planner could not
// have written: a step without an ID, a dependency on no step, a missing
// expiry. Decode refuses such a file before anything reads its steps.
type ValidationError struct {
	// Where names the offending part, e.g. `steps[3] (vm.db.shutdown)`.
	Where  string
	Reason string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("plan file is not valid: %s: %s", e.Where, e.Reason)
}

// Validate checks what every plan the planner writes holds true: the
// header fields are set, VM addresses and step IDs are non-empty, unique
// and printable, every step belongs to a planned VM and is named after it
// and its kind, every dependency names an earlier step (steps are stored
// in topological order, so this also rules out cycles), the per-kind facts
// (point of no return, inverse, disruptive) match the kind, and every
// window a step or VM names is in the plan.
func Validate(p *planner.Plan) error {
	bad := func(where, format string, a ...any) error {
		return &ValidationError{Where: where, Reason: fmt.Sprintf(format, a...)}
	}
	switch {
	case p.RunbookHash == "":
		return bad("runbook_hash", "missing")
	case p.CreatedAt.IsZero():
		return bad("created_at", "missing")
	case p.ExpiresAt.IsZero():
		return bad("expires_at", "missing: a plan without an expiry would stay applicable for ever")
	case !p.ExpiresAt.After(p.CreatedAt):
		return bad("expires_at", "%s is not after created_at %s", p.ExpiresAt.Format("2006-01-02T15:04:05Z07:00"), p.CreatedAt.Format("2006-01-02T15:04:05Z07:00"))
	case p.ExpiresAt.Sub(p.CreatedAt) > planner.DefaultTTL:
		// The planner gives every plan DefaultTTL; a longer life was
		// written by hand, to keep a reviewed plan applicable for ever.
		return bad("expires_at", "%s is more than %s after created_at %s", p.ExpiresAt.Format("2006-01-02T15:04:05Z07:00"), planner.DefaultTTL, p.CreatedAt.Format("2006-01-02T15:04:05Z07:00"))
	case !hexDigest(p.RunbookHash):
		return bad("runbook_hash", "not a SHA-256 in hex")
	}
	if len(p.VMs) == 0 {
		// Every plan covers at least one VM: a runbook without any is
		// refused, and so is a --target that matches none.
		return bad("vms", "the plan holds no VM")
	}
	if err := printableName(p.Runbook); err != nil {
		return bad("runbook", "name %s", err)
	}
	windows := map[string]bool{}
	for i, w := range p.Windows {
		where := fmt.Sprintf("windows[%d]", i)
		if err := printableName(w.Name); err != nil {
			return bad(where, "name %s", err)
		}
		if windows[w.Name] {
			return bad(where, "window %q appears twice", w.Name)
		}
		windows[w.Name] = true
	}
	vms := map[string]*planner.VMPlan{}
	for i := range p.VMs {
		vm := &p.VMs[i]
		where := fmt.Sprintf("vms[%d]", i)
		if err := printableName(vm.Address); err != nil {
			return bad(where, "address %s", err)
		}
		if vms[vm.Address] != nil {
			return bad(where, "VM %q appears twice", vm.Address)
		}
		if vm.DiskBytes < 0 {
			return bad(where, "disk_bytes %d is negative", vm.DiskBytes)
		}
		if vm.Window != "" && !windows[vm.Window] {
			return bad(where, "VM %s names window %q, which the plan does not hold", vm.Address, vm.Window)
		}
		vms[vm.Address] = vm
	}
	rollback := IsRollback(p)
	seen := map[string]bool{}
	for i, s := range p.Steps {
		where := fmt.Sprintf("steps[%d]", i)
		if err := printableName(s.ID); err != nil {
			return bad(where, "id %s", err)
		}
		where += " (" + s.ID + ")"
		if seen[s.ID] {
			return bad(where, "step ID appears twice")
		}
		vm := vms[s.VM]
		switch {
		case vm == nil:
			return bad(where, "names VM %q, which the plan does not hold", s.VM)
		case !s.Kind.Known():
			return bad(where, "unknown step kind %q", s.Kind)
		case rollback != planner.IsUndo(s.ID):
			return bad(where, "a plan holds either forward steps or rollback (.undo.) steps, not both")
		case rollback && !s.Inverse.Known():
			return bad(where, "a rollback step must name the kind it undoes, not %q", s.Inverse)
		case rollback && s.ID != s.VM+planner.UndoInfix+string(s.Inverse) &&
			!(s.Kind == planner.StepDeallocateAzureVM && s.ID == s.VM+planner.UndoInfix+string(s.Inverse)+planner.AzureVMGuardSuffix) &&
			!(s.Kind == planner.StepPowerOn && s.Inverse == planner.StepUnplannedFailover && s.ID == s.VM+planner.UndoInfix+string(s.Inverse)+planner.SourcePowerOnSuffix):
			// (The exceptions share the undo of a failover: after a cancel,
			// the guard that reads the Azure VM gone or deallocated; and the
			// power-on of a source ASR shut down itself.)
			// An inverse plan's step is named after the step it undoes.
			return bad(where, "the ID of the step undoing %s of %s must be %s%s%s", s.Inverse, s.VM, s.VM, planner.UndoInfix, s.Inverse)
		case !rollback && s.ID != s.VM+"."+string(s.Kind):
			return bad(where, "the ID of the %s step of %s must be %s.%s", s.Kind, s.VM, s.VM, s.Kind)
		case s.NoReturn != s.Kind.NoReturn():
			return bad(where, "no_return must be %t for %s", s.Kind.NoReturn(), s.Kind)
		case !rollback && s.Inverse != s.Kind.Inverse():
			return bad(where, "inverse must be %q for %s", s.Kind.Inverse(), s.Kind)
		case s.Kind.Disruptive() && !s.Disruptive:
			return bad(where, "%s steps are always disruptive", s.Kind)
		case s.Disruptive && s.Window != vm.Window:
			return bad(where, "a disruptive step of %s waits for the VM's window %q, not %q", s.VM, vm.Window, s.Window)
		case !s.Disruptive && s.Window != "":
			return bad(where, "only disruptive steps wait for a window")
		}
		for _, d := range s.DependsOn {
			if d == "" {
				return bad(where, "depends on an empty step ID")
			}
			if !seen[d] {
				return bad(where, "depends on %q, which is not an earlier step of the plan", d)
			}
		}
		seen[s.ID] = true
	}
	return nil
}

// hexDigest reports whether s is 64 lower-case hex digits, as the planner
// writes a runbook hash.
func hexDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// IsRollback reports whether p is an inverse plan (made by cutover
// rollback): its first step undoes another.
func IsRollback(p *planner.Plan) bool {
	return len(p.Steps) > 0 && planner.IsUndo(p.Steps[0].ID)
}

// printableName refuses what cannot name anything in a message: the empty
// string, and control characters, which a terminal would act on.
func printableName(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("is empty")
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == unicode.ReplacementChar || unicode.Is(unicode.Bidi_Control, r) {
			return fmt.Errorf("%q holds a control character or invalid UTF-8", s)
		}
	}
	return nil
}
