package action

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"cutover/executor"
	"cutover/planner"
	"cutover/providers/azure"
)

// Actions returns r as the executor's Actions: the same calls, with the
// executor's types.
func (r *Runner) Actions() executor.Actions { return executorActions{r} }

type executorActions struct{ r *Runner }

// budgetEvents makes the waits of the step's requests for their
// subscription's write budget events of the step.
func budgetEvents(ctx context.Context) context.Context {
	return azure.WithBudgetObserver(ctx, func(w azure.BudgetWait) {
		msg := fmt.Sprintf("waiting %s for the write budget of subscription %s", w.Wait.Round(100*time.Millisecond), w.Subscription)
		if w.Throttled {
			code := w.Code
			if code == "" {
				code = "429"
			}
			msg = fmt.Sprintf("Azure throttled a write (%s, Retry-After %s): %s", code, w.RetryAfter.Round(100*time.Millisecond), msg)
		}
		executor.Report(ctx, executor.Event{Kind: executor.EventBudgetWaiting, Message: msg, Duration: w.Wait})
	})
}

func (a executorActions) Start(ctx context.Context, s planner.Step) (executor.Started, error) {
	st, err := a.r.Start(budgetEvents(ctx), s)
	return executor.Started{Handle: st.Handle, Before: st.Before}, err
}

func (a executorActions) Wait(ctx context.Context, s planner.Step, h json.RawMessage, progress func(int, string)) error {
	return a.r.Wait(budgetEvents(ctx), s, h, func(p Progress) { progress(p.Percent, p.Message) })
}

func (a executorActions) Done(ctx context.Context, s planner.Step) (bool, error) {
	return a.r.Done(ctx, s)
}

func (a executorActions) Gate(ctx context.Context, s planner.Step) (bool, string, error) {
	return a.r.Gate(ctx, s)
}

func (a executorActions) Transient(err error) bool { return Transient(err) }
