package executor_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"cutover/executor"
	"cutover/planner"
)

// slowStart is scripted actions whose Start for one step blocks until
// released and honours its context, so a test can interrupt a run while a
// request is being sent.
type slowStart struct {
	*scripted
	step    string
	sending chan struct{}
	release chan struct{}
	once    sync.Once
}

func (s *slowStart) Start(ctx context.Context, st planner.Step) (executor.Started, error) {
	if st.ID == s.step {
		s.once.Do(func() { close(s.sending) })
		select {
		case <-s.release:
		case <-ctx.Done():
			return executor.Started{}, ctx.Err()
		}
	}
	return s.scripted.Start(ctx, st)
}

type eventLog struct {
	mu     sync.Mutex
	events []executor.Event
}

func (l *eventLog) Report(e executor.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) kinds(step string) []executor.EventKind {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []executor.EventKind
	for _, e := range l.events {
		if e.Step == step {
			out = append(out, e.Kind)
		}
	}
	return out
}

// TestFirstInterruptLetsRunningStepsReachASafePoint interrupts a run while
// one request is being sent and another step waits on its operation: the
// request completes and is journaled, the waiting step is left running,
// nothing is counted failed, nothing new starts, and the next run
// re-attaches to both without sending either again.
func TestFirstInterruptLetsRunningStepsReachASafePoint(t *testing.T) {
	p := quickstartPlan(t)
	store := openStore(t, t.TempDir())
	acts := &slowStart{scripted: newScripted(), step: "vm.db.test_failover", sending: make(chan struct{}), release: make(chan struct{})}
	acts.hangWait["vm.db.test_failover"] = true
	stop := make(chan struct{})
	log := &eventLog{}
	go func() {
		<-acts.sending
		close(stop)
		// The request under way finishes after the interrupt.
		time.Sleep(20 * time.Millisecond)
		close(acts.release)
	}()
	res, err := newRun(t, p, acts, &stepClock{now: inWindow}, store, func(c *executor.Config) {
		c.Stop = stop
		c.Reporter = log
	}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 0 || len(res.Blocked) != 0 {
		t.Fatalf("an interrupt counted as failure: %+v", res)
	}
	if !res.Stopped || len(res.Interrupted) == 0 {
		t.Fatalf("interrupted steps not reported: %+v", res)
	}
	got := log.kinds("vm.db.test_failover")
	if len(got) < 2 || got[len(got)-2] != executor.EventStepStarted || got[len(got)-1] != executor.EventStepInterrupted {
		t.Fatalf("events of the step sent during the interrupt = %v, want ... step_started, step_interrupted", got)
	}
	started := acts.count("start ")
	for _, e := range log.events {
		if e.Kind == executor.EventStepFailed {
			t.Errorf("step_failed after an interrupt: %+v", e)
		}
	}

	// Resume: the test failover is re-attached, not sent again.
	acts.mu.Lock()
	acts.hangWait = map[string]bool{}
	acts.mu.Unlock()
	res, err = newRun(t, p, acts, &stepClock{now: inWindow}, store, nil).Run(context.Background())
	if err != nil || !res.OK() {
		t.Fatalf("resume: %v %+v", err, res)
	}
	if n := acts.count("start vm.db.test_failover"); n != 1 {
		t.Errorf("the test failover was sent %d times", n)
	}
	if acts.count("start ") <= started {
		t.Error("the resumed run started nothing new")
	}
}

// TestSecondInterruptStopsAtOnce cancels the run's context while a request
// is being sent: the request is abandoned, the step is interrupted (not
// failed), and the next run decides it from live state before sending.
func TestSecondInterruptStopsAtOnce(t *testing.T) {
	p := quickstartPlan(t)
	store := openStore(t, t.TempDir())
	acts := &slowStart{scripted: newScripted(), step: "vm.db.test_failover", sending: make(chan struct{}), release: make(chan struct{})}
	stop := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-acts.sending
		close(stop)
		cancel()
	}()
	log := &eventLog{}
	res, err := newRun(t, p, acts, &stepClock{now: inWindow}, store, func(c *executor.Config) {
		c.Stop = stop
		c.Reporter = log
	}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 0 {
		t.Fatalf("second interrupt counted failures: %+v", res.Failed)
	}
	got := log.kinds("vm.db.test_failover")
	if len(got) == 0 || got[len(got)-1] != executor.EventStepInterrupted {
		t.Fatalf("events = %v, want a final step_interrupted", got)
	}
	close(acts.release)
	res, err = newRun(t, p, acts, &stepClock{now: inWindow}, store, func(c *executor.Config) { c.SettleDelay = time.Millisecond }).Run(context.Background())
	if err != nil || !res.OK() {
		t.Fatalf("resume: %v %+v", err, res)
	}
	if acts.count("done? vm.db.test_failover") == 0 {
		t.Error("the torn request was not decided from live state")
	}
}
