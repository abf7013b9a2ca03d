package executor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"cutover/executor"
	"cutover/executor/journal"
	"cutover/planner"
)

// virtualClock is simulated time that moves only when every step in
// flight waits on it: then it jumps to the earliest timer. A step in
// flight is one the executor reported started and not yet ended; the
// clock moves only after that condition held for a few milliseconds of
// real time, so a step the walk is just launching is not jumped over.
type virtualClock struct {
	mu       sync.Mutex
	now      time.Time
	timers   []vtimer
	inFlight int
}

type vtimer struct {
	at time.Time
	ch chan time.Time
}

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *virtualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.timers = append(c.timers, vtimer{at: c.now.Add(d), ch: ch})
	return ch
}

// Report counts steps in flight.
func (c *virtualClock) Report(e executor.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e.Kind {
	case executor.EventStepStarted:
		c.inFlight++
	case executor.EventStepSucceeded, executor.EventStepFailed:
		c.inFlight--
	}
}

// drive moves time until ctx ends.
func (c *virtualClock) drive(ctx context.Context) {
	stable := 0
	for ctx.Err() == nil {
		time.Sleep(200 * time.Microsecond)
		c.mu.Lock()
		if len(c.timers) == 0 || len(c.timers) < c.inFlight {
			stable = 0
			c.mu.Unlock()
			continue
		}
		if stable++; stable < 10 {
			c.mu.Unlock()
			continue
		}
		stable = 0
		sort.Slice(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
		c.now = c.timers[0].at
		n := 0
		for n < len(c.timers) && !c.timers[n].at.After(c.now) {
			c.timers[n].ch <- c.now
			n++
		}
		c.timers = c.timers[n:]
		c.mu.Unlock()
	}
}

// serviceTime is Actions whose operations take simulated time: an enable
// job and initial replication (wait_protected). It records
// when each enable succeeded and how many jobs we started ran at once.
type serviceTime struct {
	clock   *virtualClock
	enable  time.Duration
	initial time.Duration

	mu              sync.Mutex
	jobs, maxJobs   int
	enabled         []time.Time
	protectedAt     []time.Time
	waitingProtects int
}

func (s *serviceTime) Start(_ context.Context, st planner.Step) (executor.Started, error) {
	h, _ := json.Marshal(st.ID)
	return executor.Started{Handle: h}, nil
}

func (s *serviceTime) Wait(ctx context.Context, st planner.Step, _ json.RawMessage, _ func(int, string)) error {
	d := s.initial
	if st.Kind == planner.StepEnableReplication {
		d = s.enable
		s.mu.Lock()
		s.jobs++
		s.maxJobs = max(s.maxJobs, s.jobs)
		s.mu.Unlock()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.clock.After(d):
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.Kind == planner.StepEnableReplication {
		s.jobs--
		s.enabled = append(s.enabled, s.clock.Now())
	} else {
		s.protectedAt = append(s.protectedAt, s.clock.Now())
	}
	return nil
}

func (s *serviceTime) Done(context.Context, planner.Step) (bool, error) { return false, nil }
func (s *serviceTime) Gate(context.Context, planner.Step) (bool, string, error) {
	return true, "", nil
}
func (s *serviceTime) Transient(error) bool { return false }

// memJournal keeps records in memory: this test is about scheduling, and
// thousands of synced file appends would only slow it down.
type memJournal struct {
	journal.Store // nil: methods this test does not use panic
	mu            sync.Mutex
	recs          []journal.Record
}

func (m *memJournal) Append(_ context.Context, r journal.Record) (journal.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r.Seq = uint64(len(m.recs) + 1)
	m.recs = append(m.recs, r)
	return r, nil
}
func (m *memJournal) Replay(context.Context) (journal.Replay, error) { return journal.Replay{}, nil }
func (m *memJournal) Lock(_ context.Context, info journal.LockInfo) (journal.LockInfo, error) {
	info.ID = "lock-1"
	return info, nil
}
func (m *memJournal) Unlock(context.Context, string) error { return nil }
func (m *memJournal) Close() error                         { return nil }

// waveOfProtection is n VMs, each an enable_replication followed by the
// wait_protected that waits for its initial replication.
func waveOfProtection(n int) *planner.Plan {
	p := &planner.Plan{}
	for i := range n {
		vm := fmt.Sprintf("vm.app[%q]", fmt.Sprintf("vm%04d", i))
		en := vm + "." + string(planner.StepEnableReplication)
		p.Steps = append(p.Steps,
			planner.Step{ID: en, VM: vm, Kind: planner.StepEnableReplication},
			planner.Step{ID: vm + "." + string(planner.StepWaitProtected), VM: vm, Kind: planner.StepWaitProtected, DependsOn: []string{en}})
	}
	return p
}

// TestWaitingHoldsNoWorker: a 1,000-VM wave at parallelism 10 whose
// initial replication takes an hour of simulated time. The enable jobs
// (4 s each, the simulated vault's EnableDr job) run ten at a time, as
// parallelism says, while the wait_protected steps wait without a worker:
// every VM is enabled within the first minutes (1,000 / 10 × 4 s = 400 s)
// instead of ten per hour (100 hours), and every VM is protected an hour
// after its enable.
func TestWaitingHoldsNoWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("walks 2,000 steps")
	}
	const vms, par = 1000, 10
	start := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	clock := &virtualClock{now: start}
	acts := &serviceTime{clock: clock, enable: 4 * time.Second, initial: time.Hour}
	p := waveOfProtection(vms)
	ex, err := executor.New(executor.Config{Plan: p, PlanID: "wave", Store: &memJournal{}, Actions: acts,
		Clock: clock, Reporter: clock, Parallelism: par})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	go clock.drive(ctx)
	res, err := ex.Run(ctx)
	if err != nil || !res.OK() {
		t.Fatalf("%v: %d succeeded, %d failed, %d pending", err, len(res.Succeeded), len(res.Failed), len(res.Pending))
	}
	acts.mu.Lock()
	defer acts.mu.Unlock()
	if len(acts.enabled) != vms || len(acts.protectedAt) != vms {
		t.Fatalf("%d enabled, %d protected", len(acts.enabled), len(acts.protectedAt))
	}
	lastEnabled := slicesMax(acts.enabled).Sub(start)
	lastProtected := slicesMax(acts.protectedAt).Sub(start)
	t.Logf("last VM enabled after %v, last protected after %v (simulated); at most %d enable jobs at once", lastEnabled, lastProtected, acts.maxJobs)
	floor := time.Duration(vms/par) * acts.enable
	if lastEnabled > floor+floor/10 || lastEnabled > 10*time.Minute {
		t.Errorf("the last VM was enabled after %v: the waits for initial replication held workers (want about %v)", lastEnabled, floor)
	}
	if lastProtected > floor+acts.initial+floor/10 {
		t.Errorf("the last VM was protected after %v, want about %v", lastProtected, floor+acts.initial)
	}
	if acts.maxJobs > par {
		t.Errorf("%d enable jobs ran at once at parallelism %d", acts.maxJobs, par)
	}
}

func slicesMax(ts []time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}
