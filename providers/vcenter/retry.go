package vcenter

import (
	"context"
	"time"
)

// Retry bounds how transient faults are retried: Attempts tries in all, with
// exponential backoff from Initial capped at Max.
type Retry struct {
	Attempts int
	Initial  time.Duration
	Max      time.Duration
	// Sleep waits between attempts; tests inject a fast one.
	Sleep func(context.Context, time.Duration) error
}

// DefaultRetry suits a real vCenter: five tries over about a minute.
var DefaultRetry = Retry{Attempts: 5, Initial: 2 * time.Second, Max: 30 * time.Second}

func (r Retry) wait(ctx context.Context, attempt int) error {
	d := r.Initial
	for range attempt {
		d *= 2
		if r.Max > 0 && d > r.Max {
			d = r.Max
			break
		}
	}
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// do runs f until it succeeds, fails permanently or attempts run out.
// onRetry, if set, hears about each transient failure that will be retried.
func (r Retry) do(ctx context.Context, vm string, op Op, onRetry func(*OpError, int), f func() error) error {
	attempts := max(r.Attempts, 1)
	for i := 0; ; i++ {
		err := f()
		if err == nil {
			return nil
		}
		oe := classify(vm, op, err)
		if !oe.Transient || i+1 >= attempts {
			return oe
		}
		if onRetry != nil {
			onRetry(oe, i+1)
		}
		if werr := r.wait(ctx, i); werr != nil {
			return oe
		}
	}
}
