package main

import (
	"fmt"
	"time"

	"cutover/planner"
	"cutover/window"
)

// simClock is the simulated world's clock: it runs at wall-clock speed
// from a start chosen so that the plan's first window is open, so that
// --sim can show a whole cutover whatever the day. Real applies never use
// it.
type simClock struct {
	start time.Time
	wall  time.Time
}

func (c simClock) Now() time.Time                         { return c.start.Add(time.Since(c.wall)) }
func (c simClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// wallClock is real time.
type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// newSimClock starts simulated time now if every window of the plan that
// binds a step is open, else at the next opening of the first such window.
func newSimClock(p *planner.Plan, now time.Time) (simClock, string) {
	used := map[string]bool{}
	for _, s := range p.Steps {
		if s.Window != "" {
			used[s.Window] = true
		}
	}
	for _, wi := range p.Windows {
		if !used[wi.Name] {
			continue
		}
		w, err := window.Parse(wi.Schedule, wi.Duration, wi.Timezone)
		if err != nil {
			continue
		}
		if st := w.At(now); !st.Open && !st.Next.IsZero() {
			return simClock{start: st.Next, wall: now},
				fmt.Sprintf("Simulated time starts at %s, when window %q opens.", st.Next.Format(time.RFC3339), wi.Name)
		}
	}
	return simClock{start: now, wall: now}, ""
}
