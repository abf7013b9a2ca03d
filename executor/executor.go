package executor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"sort"
	"sync"
	"time"

	"cutover/executor/journal"
	"cutover/planner"
	"cutover/planner/dag"
	"cutover/window"
)

// Started is what an action returns once its request was accepted.
type Started struct {
	// Handle re-attaches to the operation from any process; nil when the
	// step has no remote operation to wait for.
	Handle json.RawMessage
	// Before is the before-image its inverse needs.
	Before json.RawMessage
}

// ErrGateClosed is what Start's error matches (errors.Is) when it sent
// nothing because the step's live gate does not hold yet.
var ErrGateClosed = errors.New("the step's gate does not hold")

// Actions perform plan steps against live systems. Package executor/action
// implements them on the providers; the executor only sequences, journals
// and gates.
type Actions interface {
	// Start reads live state, checks the step's gate, sends the step's
	// request and returns at once with its handle. When the gate does not
	// hold it sends nothing and returns an error matching ErrGateClosed;
	// the executor then polls Gate until it opens.
	Start(ctx context.Context, step planner.Step) (Started, error)
	// Wait attaches to a started operation by handle and waits for it.
	Wait(ctx context.Context, step planner.Step, handle json.RawMessage, progress func(percent int, message string)) error
	// Done reads live state: is the step's effect already there?
	Done(ctx context.Context, step planner.Step) (bool, error)
	// Gate reads live state: may the step start now? If not, why.
	Gate(ctx context.Context, step planner.Step) (bool, string, error)
	// Transient reports whether err is worth retrying.
	Transient(err error) bool
}

// Config is one apply of one plan.
type Config struct {
	Plan *planner.Plan
	// PlanID identifies the plan in the journal: its file digest.
	PlanID  string
	Store   journal.Store
	Actions Actions
	// Operation is "apply" or "rollback", recorded in the lock.
	Operation string

	Reporter    Reporter
	Clock       Clock
	Parallelism int
	// WaitForWindow waits for a closed window to open instead of leaving
	// its disruptive steps pending.
	WaitForWindow bool
	// GateTimeout bounds the wait for a step's live gate; GatePoll is the
	// interval between checks.
	GateTimeout, GatePoll time.Duration
	// SettleDelay is how long a resumed run waits before reading live state
	// to decide a step whose request may have been sent by a run that died:
	// a request still in flight from the dead process lands first, so that
	// the decision sees it. Zero means 2 s.
	SettleDelay time.Duration
	// Retries bounds attempts after a transient failure; Backoff is the
	// first wait, doubled each time.
	Retries int
	Backoff time.Duration
	// Estimates are how long a step kind takes, for fitting disruptive
	// steps into what is left of a window; a window's own estimates win.
	Estimates map[planner.StepKind]time.Duration
	// ConnectionOf names the connection a step uses (such as
	// "vcenter.dc1"), and ConnectionLimits bounds how many steps run on
	// each at once, below Parallelism.
	ConnectionOf     func(planner.Step) string
	ConnectionLimits map[string]int
	// Admit, when set, holds each step until it may start: it returns nil
	// once the step may start, or an error when it never will in this run.
	// Apply sets it to start the steps of VMs whose staleness check passed
	// while the others are still being checked (see cmd/cutover). A step
	// waiting in Admit holds no worker; one it refuses is not started and
	// counts as pending, as do the steps that depend on it.
	Admit func(ctx context.Context, step planner.Step) error
	// Stop, when closed, is the first interrupt: nothing new starts, a
	// step whose request is out is left running in its service (journaled
	// for re-attachment) and local waits end. Cancelling Run's context is
	// the second: requests being sent are abandoned too, with the same
	// journal guarantees (a request whose answer was lost is decided from
	// live state by the next run).
	Stop <-chan struct{}
}

// DefaultEstimates are conservative durations of disruptive step kinds,
// the planner's, so that a plan refuses what apply would (see
// planner.DefaultWindowEstimates).
var DefaultEstimates = planner.DefaultWindowEstimates

// Result summarises a run.
type Result struct {
	Succeeded []string
	// Skipped were already done before this run.
	Skipped []string
	Failed  []dag.Failure
	// Blocked are descendants of a failure, not started.
	Blocked []string
	// Pending were not started: their window is closed (WindowClosed is
	// then set) or the run was cancelled.
	Pending      []string
	WindowClosed bool
	// Interrupted were running when the run was interrupted: their
	// operation (if sent) runs on and the next run re-attaches. Stopped
	// says the run was interrupted at all.
	Interrupted []string
	Stopped     bool
}

// OK reports whether every step succeeded.
func (r Result) OK() bool {
	return len(r.Failed) == 0 && len(r.Blocked) == 0 && len(r.Pending) == 0 && len(r.Interrupted) == 0
}

// errNotAdmitted marks a step Config.Admit refused: it was not started.
var errNotAdmitted = errors.New("not admitted")

// errOutsideWindow marks a disruptive step left for a later run.
var errOutsideWindow = errors.New("outside its maintenance window")

// Executor applies one plan.
type Executor struct {
	cfg       Config
	windows   map[string]*window.Window
	estimates map[string]map[planner.StepKind]time.Duration
	limits    map[string]chan struct{}
	steps     map[string]planner.Step
	runID     string
	// hard is Run's context: requests are sent under it, so only the
	// second interrupt abandons one.
	hard  context.Context
	mu    sync.Mutex
	state map[string]*stepState
}

// New checks the configuration.
func New(cfg Config) (*Executor, error) {
	if cfg.Plan == nil || cfg.Store == nil || cfg.Actions == nil || cfg.PlanID == "" {
		return nil, errors.New("executor: plan, plan ID, store and actions are required")
	}
	if cfg.Reporter == nil {
		cfg.Reporter = discard{}
	}
	if cfg.Clock == nil {
		cfg.Clock = wallClock{}
	}
	if cfg.Parallelism <= 0 {
		cfg.Parallelism = 10
	}
	if cfg.Operation == "" {
		cfg.Operation = "apply"
	}
	if cfg.GateTimeout == 0 {
		cfg.GateTimeout = 2 * time.Hour
	}
	if cfg.GatePoll == 0 {
		cfg.GatePoll = 30 * time.Second
	}
	if cfg.SettleDelay == 0 {
		cfg.SettleDelay = 2 * time.Second
	}
	if cfg.Retries == 0 {
		cfg.Retries = 5
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = 2 * time.Second
	}
	if cfg.Estimates == nil {
		cfg.Estimates = DefaultEstimates
	}
	e := &Executor{cfg: cfg, windows: map[string]*window.Window{}, steps: map[string]planner.Step{},
		estimates: map[string]map[planner.StepKind]time.Duration{}, limits: map[string]chan struct{}{}}
	for _, w := range cfg.Plan.Windows {
		pw, err := window.Parse(w.Schedule, w.Duration, w.Timezone)
		if err != nil {
			return nil, fmt.Errorf("window %q: %w", w.Name, err)
		}
		e.windows[w.Name] = pw
		for k, v := range w.Estimates {
			d, err := time.ParseDuration(v)
			if err != nil {
				return nil, fmt.Errorf("window %q: estimate for %s: %w", w.Name, k, err)
			}
			if e.estimates[w.Name] == nil {
				e.estimates[w.Name] = map[planner.StepKind]time.Duration{}
			}
			e.estimates[w.Name][planner.StepKind(k)] = d
		}
	}
	if err := e.checkFits(); err != nil {
		return nil, err
	}
	for conn, n := range cfg.ConnectionLimits {
		if n > 0 {
			e.limits[conn] = make(chan struct{}, n)
		}
	}
	for _, s := range cfg.Plan.Steps {
		e.steps[s.ID] = s
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	e.runID = hex.EncodeToString(b)
	return e, nil
}

// Run applies the plan: it takes the state lock, replays the journal so
// that a resumed run skips what succeeded and re-attaches to what was in
// flight, and walks the DAG.
//
// A failure to release the lock at the end is returned as a *ReleaseError
// (with the Result when the run itself got that far), never dropped.
func (e *Executor) Run(ctx context.Context) (res Result, err error) {
	lock, err := e.cfg.Store.Lock(ctx, lockInfo(e.cfg.Operation))
	if err != nil {
		return Result{}, err
	}
	defer func() {
		if uerr := e.cfg.Store.Unlock(context.WithoutCancel(ctx), lock.ID); uerr != nil && err == nil {
			err = &ReleaseError{LockID: lock.ID, Err: uerr}
		}
	}()

	rep, err := e.cfg.Store.Replay(ctx)
	if err != nil {
		return Result{}, err
	}
	e.state = fold(rep.Records, e.cfg.PlanID)
	var done []string
	for id, st := range e.state {
		if _, ok := e.steps[id]; ok && st.last == journal.StepSucceeded {
			done = append(done, id)
		}
	}
	sort.Strings(done)
	if err := e.append(ctx, journal.Record{Kind: journal.RunStarted}); err != nil {
		return Result{}, err
	}
	e.report(Event{Kind: EventRunStarted, Message: fmt.Sprintf("%d steps, %d already done", len(e.steps), len(done))})
	for _, id := range done {
		e.report(Event{Kind: EventStepSkipped, Step: id, VM: e.steps[id].VM, Message: "succeeded in an earlier run"})
	}

	e.hard = ctx
	soft, cancelSoft := softStop(ctx, e.cfg.Stop)
	defer cancelSoft()
	wr := e.cfg.Plan.Graph().Walk(soft, e.cfg.Parallelism, e.runStep, dag.WithDone(done...))
	res = Result{Succeeded: wr.Succeeded, Skipped: done, Pending: wr.Pending, Stopped: soft.Err() != nil}
	// Steps left for later (window closed, interrupted) are not failures:
	// what depends on them is pending, not blocked.
	notFailed := map[string]bool{}
	for _, f := range wr.Failed {
		switch {
		case errors.Is(f.Err, errOutsideWindow):
			res.Pending = append(res.Pending, f.Key)
			res.WindowClosed = true
			notFailed[f.Key] = true
			continue
		case errors.Is(f.Err, errNotAdmitted):
			res.Pending = append(res.Pending, f.Key)
			notFailed[f.Key] = true
			continue
		case errors.Is(f.Err, errInterrupted):
			res.Interrupted = append(res.Interrupted, f.Key)
			notFailed[f.Key] = true
			continue
		}
		res.Failed = append(res.Failed, f)
	}
	for _, s := range wr.Skipped {
		onlyWindow := true
		for _, a := range s.FailedAncestors {
			if !notFailed[a] {
				onlyWindow = false
			}
		}
		if onlyWindow {
			res.Pending = append(res.Pending, s.Key)
		} else {
			res.Blocked = append(res.Blocked, s.Key)
		}
	}
	sort.Strings(res.Pending)
	sort.Strings(res.Interrupted)
	_ = e.append(context.WithoutCancel(ctx), journal.Record{Kind: journal.RunFinished})
	msg := fmt.Sprintf("%d succeeded, %d already done, %d failed, %d blocked, %d pending",
		len(res.Succeeded), len(res.Skipped), len(res.Failed), len(res.Blocked), len(res.Pending))
	if res.Stopped {
		msg += fmt.Sprintf(", %d interrupted", len(res.Interrupted))
	}
	e.report(Event{Kind: EventRunFinished, Message: msg})
	return res, nil
}

func lockInfo(op string) journal.LockInfo {
	info := journal.LockInfo{Operation: op, PID: os.Getpid()}
	if u, err := user.Current(); err == nil {
		info.Who = u.Username
	}
	info.Host, _ = os.Hostname()
	return info
}

func (e *Executor) report(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = e.cfg.Clock.Now()
	}
	e.cfg.Reporter.Report(ev)
}

func (e *Executor) append(ctx context.Context, r journal.Record) error {
	r.PlanID, r.RunID = e.cfg.PlanID, e.runID
	_, err := e.cfg.Store.Append(ctx, r)
	return err
}
