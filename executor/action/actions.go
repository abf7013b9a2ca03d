package action

import (
	"context"
	"encoding/json"

	"cutover/executor"
	"cutover/planner"
)

// Actions returns r as the executor's Actions: the same calls, with the
// executor's types.
func (r *Runner) Actions() executor.Actions { return executorActions{r} }

type executorActions struct{ r *Runner }

func (a executorActions) Start(ctx context.Context, s planner.Step) (executor.Started, error) {
	st, err := a.r.Start(ctx, s)
	return executor.Started{Handle: st.Handle, Before: st.Before}, err
}

func (a executorActions) Wait(ctx context.Context, s planner.Step, h json.RawMessage, progress func(int, string)) error {
	return a.r.Wait(ctx, s, h, func(p Progress) { progress(p.Percent, p.Message) })
}

func (a executorActions) Done(ctx context.Context, s planner.Step) (bool, error) {
	return a.r.Done(ctx, s)
}

func (a executorActions) Gate(ctx context.Context, s planner.Step) (bool, string, error) {
	return a.r.Gate(ctx, s)
}

func (a executorActions) Transient(err error) bool { return Transient(err) }
