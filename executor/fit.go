package executor

import (
	"fmt"

	"cutover/planner"
)

// NoFitError is a plan with a disruptive step whose estimated duration is
// longer than its window lasts: it could never start, and an apply with
// --wait-for-window would wait for ever. New refuses such a plan.
type NoFitError struct {
	Step     string
	Window   string
	Estimate string
	Duration string
}

func (e *NoFitError) Error() string {
	return fmt.Sprintf("%s is estimated at %s but window %q lasts %s, so it could never start inside it; lengthen the window or set estimates { %s = \"...\" } in it",
		e.Step, e.Estimate, e.Window, e.Duration, kindOf(e.Step))
}

func kindOf(id string) planner.StepKind {
	_, k := planner.SplitStepID(id)
	return k
}

// checkFits refuses a plan in which some disruptive step cannot fit its
// window, using the estimates awaitWindow will use.
func (e *Executor) checkFits() error {
	for _, s := range e.cfg.Plan.Steps {
		w := e.windows[s.Window]
		if s.Window == "" || w == nil {
			continue
		}
		est := e.cfg.Estimates[s.Kind]
		if d, ok := e.estimates[s.Window][s.Kind]; ok {
			est = d
		}
		if est > w.Duration() {
			return &NoFitError{Step: s.ID, Window: s.Window, Estimate: est.String(), Duration: w.Duration().String()}
		}
	}
	return nil
}
