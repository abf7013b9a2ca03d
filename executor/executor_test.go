package executor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cutover/executor"
	"cutover/executor/journal"
	"cutover/planner"
	"cutover/schema"
)

// stepClock is a clock whose After fires at once and moves time forward,
// so waits for windows and gates take no wall time.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- now
	return ch
}

// scripted is an in-memory Actions: it records every call and applies the
// step's effect to a set, so sequencing, journaling and resume can be
// tested without a provider. Provider behaviour itself is tested in
// executor/action against the simulators.
type scripted struct {
	mu      sync.Mutex
	effects map[string]bool
	calls   []string
	// fail makes Start fail for a step ID: transient n times, or always.
	transient map[string]int
	permanent map[string]bool
	gateShut  map[string]int
	// crashAfterStart makes Start panic-free return context cancellation
	// after the request "went out", to simulate a crash mid-wait.
	hangWait map[string]bool
	// lostResponse makes Start take effect and then fail, as a request
	// whose response is lost.
	lostResponse map[string]bool
	// refuseAgain makes Start refuse one step as gated although its gate
	// (as Gate reads it) holds.
	refuseAgain string
}

var errTransient = errors.New("TaskInProgress (transient)")

func newScripted() *scripted {
	return &scripted{effects: map[string]bool{}, transient: map[string]int{}, permanent: map[string]bool{}, gateShut: map[string]int{}, hangWait: map[string]bool{}, lostResponse: map[string]bool{}}
}

func (s *scripted) record(call string) {
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()
}

// count counts calls equal to call, or starting with it when it ends in a
// space ("start ").
func (s *scripted) count(call string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c == call || strings.HasSuffix(call, " ") && strings.HasPrefix(c, call) {
			n++
		}
	}
	return n
}

func (s *scripted) Start(_ context.Context, st planner.Step) (executor.Started, error) {
	s.record("start " + st.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gateShut[st.ID] > 0 {
		// Start checks the gate itself, as action.Runner does.
		s.gateShut[st.ID]--
		return executor.Started{}, fmt.Errorf("refused before sending: %w", executor.ErrGateClosed)
	}
	if s.refuseAgain == st.ID {
		return executor.Started{}, fmt.Errorf("refused before sending, for a reason Gate does not read: %w", executor.ErrGateClosed)
	}
	if s.lostResponse[st.ID] {
		s.effects[st.ID] = true
		return executor.Started{}, errors.New("502 Bad Gateway (the request may have been accepted)")
	}
	if s.permanent[st.ID] {
		return executor.Started{}, fmt.Errorf("InvalidParameter: the service refused %s", st.ID)
	}
	if s.transient[st.ID] > 0 {
		s.transient[st.ID]--
		return executor.Started{}, errTransient
	}
	h, _ := json.Marshal(map[string]string{"op": st.ID})
	return executor.Started{Handle: h, Before: []byte(`{"was":"before"}`)}, nil
}

func (s *scripted) Wait(ctx context.Context, st planner.Step, h json.RawMessage, progress func(int, string)) error {
	s.record("wait " + st.ID)
	s.mu.Lock()
	hang := s.hangWait[st.ID]
	s.mu.Unlock()
	if hang {
		<-ctx.Done()
		return ctx.Err()
	}
	progress(100, "done")
	s.mu.Lock()
	s.effects[st.ID] = true
	s.mu.Unlock()
	return nil
}

func (s *scripted) Done(_ context.Context, st planner.Step) (bool, error) {
	s.record("done? " + st.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.effects[st.ID], nil
}

func (s *scripted) Gate(_ context.Context, st planner.Step) (bool, string, error) {
	s.record("gate " + st.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gateShut[st.ID] > 0 {
		s.gateShut[st.ID]--
		return false, "allowedOperations lacks it", nil
	}
	return true, "", nil
}

func (s *scripted) Transient(err error) bool { return errors.Is(err, errTransient) }

// quickstartPlan plans the quickstart example from scratch.
func quickstartPlan(t *testing.T) *planner.Plan {
	t.Helper()
	rb, diags := schema.LoadDir(filepath.Join("..", "examples", "multi-tier"), schema.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	live := map[string]planner.Live{}
	for _, vm := range rb.VMs {
		live[vm.Address] = planner.Live{Source: &planner.LiveSource{PowerState: "poweredOn", ChangeVersion: "1"}}
	}
	p, problems := planner.Build(rb, live, planner.Options{Now: time.Unix(0, 0)})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	return p
}

// Saturday 2026-11-28 23:00 in Asia/Shanghai is inside "0 22 * * SAT for 6h".
var inWindow = time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)

func newRun(t *testing.T, p *planner.Plan, acts executor.Actions, clock executor.Clock, store journal.Store, mod func(*executor.Config)) *executor.Executor {
	t.Helper()
	cfg := executor.Config{Plan: p, PlanID: "plan-1", Store: store, Actions: acts, Clock: clock, Parallelism: 4, GatePoll: time.Minute, Backoff: time.Second}
	if mod != nil {
		mod(&cfg)
	}
	e, err := executor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func openStore(t *testing.T, dir string) journal.Store {
	t.Helper()
	s, err := journal.OpenFile(dir, "state")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestApplyInsideWindowRunsEverything(t *testing.T) {
	p := quickstartPlan(t)
	acts := newScripted()
	res, err := newRun(t, p, acts, &stepClock{now: inWindow}, openStore(t, t.TempDir()), nil).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || len(res.Succeeded) != len(p.Steps) {
		t.Fatalf("result %+v", res)
	}
	if n := acts.count("start "); n != len(p.Steps) {
		t.Errorf("%d starts for %d steps", n, len(p.Steps))
	}
}

// TestJournalRecordsPerStep: a step that runs straight through is three
// durable writes (pending, started with its handle and before-image,
// succeeded), in that order.
func TestJournalRecordsPerStep(t *testing.T) {
	p := quickstartPlan(t)
	store := openStore(t, t.TempDir())
	res, err := newRun(t, p, newScripted(), &stepClock{now: inWindow}, store, nil).Run(context.Background())
	if err != nil || !res.OK() {
		t.Fatalf("%v %+v", err, res)
	}
	rep, err := store.Replay(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string][]journal.Kind{}
	for _, r := range rep.Records {
		if r.StepID == "" {
			continue
		}
		kinds[r.StepID] = append(kinds[r.StepID], r.Kind)
		if r.Kind == journal.StepStarted && (string(r.BeforeImage) != `{"was":"before"}` || len(r.Handle) == 0) {
			t.Errorf("%s: started record has handle %s and before-image %s", r.StepID, r.Handle, r.BeforeImage)
		}
	}
	want := []journal.Kind{journal.StepPending, journal.StepStarted, journal.StepSucceeded}
	for _, s := range p.Steps {
		if !slices.Equal(kinds[s.ID], want) {
			t.Errorf("%s: records %v, want %v", s.ID, kinds[s.ID], want)
		}
	}
}

func TestOutsideWindowNothingDisruptiveStarts(t *testing.T) {
	p := quickstartPlan(t)
	acts := newScripted()
	tuesday := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	res, err := newRun(t, p, acts, &stepClock{now: tuesday}, openStore(t, t.TempDir()), nil).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !res.WindowClosed || len(res.Failed) != 0 || len(res.Blocked) != 0 {
		t.Fatalf("want window-closed with nothing failed, got %+v", res)
	}
	for _, s := range p.Steps {
		started := acts.count("start "+s.ID) > 0
		if s.Disruptive && started {
			t.Errorf("disruptive %s started outside its window", s.ID)
		}
		if s.Kind == planner.StepEnableReplication && !started {
			t.Errorf("non-disruptive %s did not run outside the window", s.ID)
		}
	}
}

func TestStepTooLongForWhatIsLeftIsNotStarted(t *testing.T) {
	p := quickstartPlan(t)
	acts := newScripted()
	// 10 minutes before the window closes (Sunday 04:00 Shanghai).
	late := time.Date(2026, 11, 28, 19, 50, 0, 0, time.UTC)
	res, err := newRun(t, p, acts, &stepClock{now: late}, openStore(t, t.TempDir()), nil).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if acts.count("start vm.db.unplanned_failover") != 0 || !res.WindowClosed {
		t.Fatalf("a 30-minute failover started 10 minutes before the window closes: %+v", res)
	}
	if acts.count("start vm.db.shutdown") != 1 {
		t.Errorf("the 10-minute shutdown fits and should have run")
	}
}

func TestWaitForWindowWaitsThenRuns(t *testing.T) {
	p := quickstartPlan(t)
	acts := newScripted()
	clock := &stepClock{now: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	res, err := newRun(t, p, acts, clock, openStore(t, t.TempDir()), func(c *executor.Config) { c.WaitForWindow = true }).Run(context.Background())
	if err != nil || !res.OK() {
		t.Fatalf("%v %+v", err, res)
	}
	if clock.Now().Before(inWindow.Add(-time.Hour)) {
		t.Errorf("clock at %s: the run did not wait for the window", clock.Now())
	}
}

func TestPermanentFailureStopsOnlyItsChain(t *testing.T) {
	p := quickstartPlan(t)
	acts := newScripted()
	acts.permanent[`vm.web["orders-web01"].enable_replication`] = true
	acts.transient[`vm.db.enable_replication`] = 2
	res, err := newRun(t, p, acts, &stepClock{now: inWindow}, openStore(t, t.TempDir()), nil).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 1 || !strings.Contains(res.Failed[0].Err.Error(), `vm.web["orders-web01"]: enable_replication: InvalidParameter`) {
		t.Fatalf("failed = %+v", res.Failed)
	}
	for _, b := range res.Blocked {
		if !strings.HasPrefix(b, `vm.web["orders-web01"]`) {
			t.Errorf("%s blocked by another VM's failure", b)
		}
	}
	if acts.count("start vm.db.enable_replication") != 3 {
		t.Errorf("transient failures: %d starts of db enable, want 3", acts.count("start vm.db.enable_replication"))
	}
	if acts.count(`start vm.web["orders-web02"].unplanned_failover`) != 1 {
		t.Error("the independent web02 chain did not complete")
	}
}

func TestGateIsWaitedFor(t *testing.T) {
	p := quickstartPlan(t)
	acts := newScripted()
	acts.gateShut["vm.db.test_failover"] = 3
	clock := &stepClock{now: inWindow}
	res, err := newRun(t, p, acts, clock, openStore(t, t.TempDir()), nil).Run(context.Background())
	if err != nil || !res.OK() {
		t.Fatalf("%v %+v", err, res)
	}
	acts.gateShut["vm.db.test_failover"] = 1000
	res, err = newRun(t, p, newScriptedShut("vm.db.test_failover"), &stepClock{now: inWindow}, openStore(t, t.TempDir()),
		func(c *executor.Config) { c.GateTimeout = 10 * time.Minute }).Run(context.Background())
	if err != nil || len(res.Failed) != 1 || !strings.Contains(res.Failed[0].Err.Error(), "gate did not open within 10m0s") {
		t.Fatalf("gate timeout: %v %+v", err, res.Failed)
	}
}

// TestGateReadOnlyWhenRefused: a step whose gate holds costs no Gate read
// (Start checks it); a refused one waits on Gate without resending; a
// second refusal after Gate saw the gate open fails the step instead of
// looping.
func TestGateReadOnlyWhenRefused(t *testing.T) {
	p := quickstartPlan(t)
	acts := newScripted()
	acts.gateShut["vm.db.test_failover"] = 2 // Start's check, then one Gate poll
	res, err := newRun(t, p, acts, &stepClock{now: inWindow}, openStore(t, t.TempDir()), nil).Run(context.Background())
	if err != nil || !res.OK() {
		t.Fatalf("%v %+v", err, res)
	}
	if n := acts.count("gate "); n != 2 {
		t.Errorf("%d Gate reads, want 2 (both for the refused step)", n)
	}
	if n := acts.count("gate vm.db.test_failover"); n != 2 {
		t.Errorf("%d Gate reads of the refused step, want 2 (closed, then open)", n)
	}
	if n := acts.count("start vm.db.test_failover"); n != 2 {
		t.Errorf("%d starts of the refused step, want 2 (refused, then sent)", n)
	}

	// Start refuses twice while Gate says open.
	acts = newScripted()
	acts.gateShut["vm.db.test_failover"] = 1
	acts.refuseAgain = "vm.db.test_failover"
	res, err = newRun(t, p, acts, &stepClock{now: inWindow}, openStore(t, t.TempDir()), nil).Run(context.Background())
	if err != nil || len(res.Failed) != 1 || res.Failed[0].Key != "vm.db.test_failover" || !errors.Is(res.Failed[0].Err, executor.ErrGateClosed) {
		t.Fatalf("second refusal: %v %+v", err, res.Failed)
	}
	if n := acts.count("start vm.db.test_failover"); n != 2 {
		t.Errorf("%d starts after a second refusal, want 2", n)
	}
}

func newScriptedShut(id string) *scripted {
	s := newScripted()
	s.gateShut[id] = 1 << 30
	return s
}

// TestResumeReattachesAndNeverResends cancels a run while steps wait,
// then runs again: succeeded steps are skipped, in-flight ones are
// re-attached through their handles, and no step is started twice.
func TestResumeReattachesAndNeverResends(t *testing.T) {
	p := quickstartPlan(t)
	dir := t.TempDir()
	acts := newScripted()
	acts.hangWait["vm.db.test_failover"] = true
	ctx, cancel := context.WithCancel(context.Background())
	store := openStore(t, dir)
	go func() {
		for acts.count("wait vm.db.test_failover") == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	res, err := newRun(t, p, acts, &stepClock{now: inWindow}, store, nil).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() {
		t.Fatal("the cancelled run reports success")
	}
	acts.mu.Lock()
	acts.hangWait = map[string]bool{}
	acts.mu.Unlock()
	res, err = newRun(t, p, acts, &stepClock{now: inWindow}, store, nil).Run(context.Background())
	if err != nil || !res.OK() {
		t.Fatalf("resume: %v %+v", err, res)
	}
	if len(res.Skipped) == 0 {
		t.Error("the resumed run skipped nothing")
	}
	for _, s := range p.Steps {
		if n := acts.count("start " + s.ID); n != 1 {
			t.Errorf("%s started %d times", s.ID, n)
		}
	}
	if acts.count("wait vm.db.test_failover") != 2 {
		t.Errorf("the in-flight test failover was not re-attached")
	}
}

// TestPendingStepIsDecidedByLiveState journals a pending attempt with no
// handle, as a crash between request and response leaves it, and checks
// that the next run asks live state instead of resending.
func TestPendingStepIsDecidedByLiveState(t *testing.T) {
	p := quickstartPlan(t)
	store := openStore(t, t.TempDir())
	first := p.Steps[0].ID
	if _, err := store.Append(context.Background(), journal.Record{Kind: journal.StepPending, PlanID: "plan-1", StepID: first, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	acts := newScripted()
	acts.effects[first] = true // the lost request took effect
	res, err := newRun(t, p, acts, &stepClock{now: inWindow}, store, nil).Run(context.Background())
	if err != nil || !res.OK() {
		t.Fatalf("%v %+v", err, res)
	}
	if acts.count("start "+first) != 0 || acts.count("done? "+first) == 0 {
		t.Errorf("calls for %s: resent instead of deciding from live state", first)
	}
}

func TestSecondApplyIsRefusedNamingTheHolder(t *testing.T) {
	p := quickstartPlan(t)
	dir := t.TempDir()
	holder := openStore(t, dir)
	info, err := holder.Lock(context.Background(), journal.LockInfo{Operation: "apply", Who: "ci-runner-7", Host: "build-host"})
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Unlock(context.Background(), info.ID)
	_, err = newRun(t, p, newScripted(), &stepClock{now: inWindow}, openStore(t, dir), nil).Run(context.Background())
	var locked *journal.LockedError
	if !errors.As(err, &locked) || !strings.Contains(err.Error(), "ci-runner-7") {
		t.Fatalf("want a lock error naming ci-runner-7, got %v", err)
	}
}

// countingActions wraps scripted and records the most steps of one VM
// prefix running at once.
type countingActions struct {
	*scripted
	mu      sync.Mutex
	running int
	maxSeen int
}

func (c *countingActions) Wait(ctx context.Context, st planner.Step, h json.RawMessage, p func(int, string)) error {
	if st.Kind == planner.StepWaitProtected {
		// Waiting for initial replication is the service's own work: it
		// holds no connection slot (TestWaitingHoldsNoWorker).
		return c.scripted.Wait(ctx, st, h, p)
	}
	c.mu.Lock()
	c.running++
	c.maxSeen = max(c.maxSeen, c.running)
	c.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
	defer func() {
		c.mu.Lock()
		c.running--
		c.mu.Unlock()
	}()
	return c.scripted.Wait(ctx, st, h, p)
}

func TestConnectionLimitBoundsConcurrency(t *testing.T) {
	p := quickstartPlan(t)
	acts := &countingActions{scripted: newScripted()}
	res, err := newRun(t, p, acts, &stepClock{now: inWindow}, openStore(t, t.TempDir()), func(c *executor.Config) {
		c.Parallelism = 8
		c.ConnectionOf = func(planner.Step) string { return "azure.migrate" }
		c.ConnectionLimits = map[string]int{"azure.migrate": 2}
	}).Run(context.Background())
	if err != nil || !res.OK() {
		t.Fatalf("%v %+v", err, res)
	}
	if acts.maxSeen > 2 || acts.maxSeen == 0 {
		t.Errorf("at most %d steps ran at once on a connection limited to 2", acts.maxSeen)
	}
}

func TestWindowEstimateOverride(t *testing.T) {
	p := quickstartPlan(t)
	// 40 minutes before the window closes: the default 30-minute estimate
	// of a failover fits, a declared 1-hour estimate does not.
	late := time.Date(2026, 11, 28, 19, 20, 0, 0, time.UTC)
	p.Windows[0].Estimates = map[string]string{"unplanned_failover": "1h"}
	acts := newScripted()
	res, err := newRun(t, p, acts, &stepClock{now: late}, openStore(t, t.TempDir()), nil).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if acts.count("start vm.db.unplanned_failover") != 0 || !res.WindowClosed {
		t.Fatalf("a failover estimated at 1h started 40 minutes before the window closes: %+v", res)
	}
}

// TestLostResponseIsNotResent: a request that took effect although its
// response was lost (a 502 after the service accepted it) is decided from
// live state, in the same run and in a re-run after a failure, and never
// sent again.
func TestLostResponseIsNotResent(t *testing.T) {
	p := quickstartPlan(t)
	acts := newScripted()
	acts.lostResponse["vm.db.test_failover"] = true
	res, err := newRun(t, p, acts, &stepClock{now: inWindow}, openStore(t, t.TempDir()), nil).Run(context.Background())
	if err != nil || !res.OK() {
		t.Fatalf("%v %+v", err, res)
	}
	if n := acts.count("start vm.db.test_failover"); n != 1 {
		t.Errorf("test failover sent %d times", n)
	}

	// A run that failed the step (journal says failed) and a world where
	// the step took effect: the re-run asks live state first.
	store := openStore(t, t.TempDir())
	id := p.Steps[0].ID
	for _, k := range []journal.Kind{journal.StepPending, journal.StepFailed} {
		if _, err := store.Append(context.Background(), journal.Record{Kind: k, PlanID: "plan-1", StepID: id, Attempt: 1, Error: "502"}); err != nil {
			t.Fatal(err)
		}
	}
	acts = newScripted()
	acts.effects[id] = true
	res, err = newRun(t, p, acts, &stepClock{now: inWindow}, store, nil).Run(context.Background())
	if err != nil || !res.OK() {
		t.Fatalf("%v %+v", err, res)
	}
	if acts.count("start "+id) != 0 {
		t.Errorf("%s was sent again although live state shows it done", id)
	}
}
