package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"cutover/executor"
	"cutover/executor/action"
	"cutover/executor/journal"
	"cutover/internal/userfile"
	"cutover/planner"
	"cutover/planner/planfile"
	"cutover/schema"
)

// exitWindowClosed means: nothing failed, but disruptive steps wait for
// their window; run apply again (or with --wait-for-window) to resume.
const exitWindowClosed = 3

func newApplyCommand(g *globals, stdin io.Reader) *cobra.Command {
	var (
		autoApprove      bool
		parallelism      int
		waitForWindow    bool
		sim              bool
		asJSON           bool
		expectDigest     string
		gateTimeout      time.Duration
		settleDelay      time.Duration
		vcPar, azPar     int
		targets          []string
		showAll          bool
		progressInterval time.Duration
		opts             applyOptions

		writeBurst      int
		writesPerSecond float64
	)
	cmd := &cobra.Command{
		Use:   "apply [PLAN|DIR]",
		Short: "Apply a saved plan (or plan and apply a runbook) with checkpoints and resume",
		Long: `Apply executes a plan. Given a saved plan file it applies exactly that plan,
after checking that it has not expired, comes from the same runbook and that
the VMs it read have not changed since (a resumed apply tolerates the
changes it made itself). Given a runbook directory it plans, shows the plan
and asks for confirmation (--auto-approve skips it; without a terminal it
refuses instead of asking).

Every step is journaled under DIR/.cutover; running apply again after any
interruption resumes the same plan. Disruptive steps run only inside their
maintenance window.

Apply DIR keeps the plan it applies under DIR/.cutover/plans until every
step is done: running apply DIR again after an interrupt or a failure
resumes that plan (the finished steps are reported as already done), as
long as the runbook is unchanged and the VMs it has not touched are as it
saw them; otherwise it plans afresh and says why. A plan of more than
` + fmt.Sprint(bigPlanSteps) + ` steps is shown as its summary and per-window counts; --show-plan
(or plan --out FILE and cutover show FILE) prints all of it.

Interrupting (Ctrl-C, SIGINT or SIGTERM) starts nothing new and lets each
running step reach a safe point: an operation already sent to vCenter or
Azure Site Recovery keeps running and is re-attached by the next apply,
a local wait simply stops. A second interrupt stops at once; the journal
keeps what was sent either way. The summary counts interrupted steps and
prints the command that resumes.

Exit status: 0 done, 1 a step failed or an error, 3 resumable: disruptive
steps wait for their window, 130 interrupted, resumable.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := catchInterrupts(cmd.Context(), cmd.ErrOrStderr())
			defer in.Stop()
			// Until the run starts, the first interrupt ends everything.
			ctx := in.soft
			approved, err := approvedDigest(expectDigest, cmd.Flags().Changed("expect-digest"))
			if err != nil {
				return err
			}
			switch {
			case parallelism < 1:
				return usagef("--parallelism must be at least 1")
			case vcPar < 0 || azPar < 0 || writeBurst < 0:
				return usagef("--vcenter-parallelism, --azure-parallelism and --azure-write-burst must not be negative")
			case !(writesPerSecond >= 0) || math.IsInf(writesPerSecond, 0):
				return usagef("--azure-writes-per-second must be a number of zero or more")
			case gateTimeout <= 0 || progressInterval <= 0 || settleDelay < 0:
				return usagef("--gate-timeout and --progress-interval must be more than zero, --settle-delay not negative")
			}
			target := runbookDir(args)
			st, err := os.Stat(target)
			if err != nil {
				return usageError{err}
			}
			if !st.Mode().IsRegular() && !st.IsDir() {
				return usagef("%s is neither a plan file nor a runbook directory: it is %s", target, userfile.Kind(st.Mode()))
			}
			var (
				p      *planner.Plan
				rb     *schema.Runbook
				planID string
			)
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			opts = applyOptions{
				progressInterval: progressInterval,
				parallelism:      parallelism, waitForWindow: waitForWindow, asJSON: asJSON, gateTimeout: gateTimeout, settleDelay: settleDelay,
				vcenterParallelism: vcPar, azureParallelism: azPar,
				writeBurst: writeBurst, writesPerSecond: writesPerSecond,
			}
			if st.Mode().IsRegular() {
				var digest string
				p, digest, opts.edited, err = planfile.LoadExact(target)
				if err != nil {
					return err
				}
				if approved != "" && approved != digest {
					return digestMismatch(digest, approved, false)
				}
				planID = digest
				if len(targets) > 0 {
					return usageError{fmt.Errorf("--target selects VMs when apply plans a directory; a saved plan already holds its VMs (plan --target ... --out FILE)")}
				}
				rb, err = loadRunbook(g, errOut, filepath.Join(filepath.Dir(target), filepath.FromSlash(p.RunbookDir)))
				if err != nil {
					return err
				}
				sim = sim || p.Simulated
				if err := lockFirst(ctx, rb); err != nil {
					return err
				}
				opts.resume = resumeCommand(target, false, sim, g)
				opts.saved = !planfile.IsRollback(p)
				return runApply(in, g, out, errOut, rb, p, planID, sim, opts)
			}
			rb, err = loadRunbook(g, errOut, target)
			if err != nil {
				return err
			}
			if err := lockFirst(ctx, rb); err != nil {
				return err
			}
			// A plan of some VMs (--target) is not kept for resuming:
			// apply DIR without --target means the whole runbook.
			opts.keepPlan = len(targets) == 0
			opts.resume = resumeCommand(target, true, sim, g)
			// With --json, stdout carries only events: the plan and the
			// question go to stderr.
			say := out
			if asJSON {
				say = errOut
			}
			if len(targets) == 0 {
				resumed, err := resumeUnfinished(in, g, out, errOut, say, rb, sim, approved, opts)
				if resumed || err != nil {
					return err
				}
			}
			p, err = makePlan(ctx, errOut, rb, sim, targets)
			if err != nil {
				return err
			}
			if err := buffered(say, func(w io.Writer) error { return showPlan(w, p, showAll, g.noColor) }); err != nil {
				return err
			}
			if planID, err = planfile.DigestOf(p); err != nil {
				return err
			}
			// An approval names one plan: a fresh plan that is not that
			// plan is refused, changes or not.
			if approved != "" && approved != planID {
				return digestMismatch(planID, approved, true)
			}
			if !p.HasChanges() {
				return nil
			}
			if !autoApprove {
				if err := confirm(ctx, stdin, say); err != nil {
					return err
				}
			}
			return runApply(in, g, out, errOut, rb, p, planID, sim, opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&autoApprove, "auto-approve", false, "apply without asking")
	f.StringArrayVar(&targets, "target", nil, "with DIR, plan and apply only this VM (vm.NAME or vm.NAME[\"key\"]; repeatable)")
	f.IntVar(&parallelism, "parallelism", 10, "run at most this many steps at once")
	f.IntVar(&vcPar, "vcenter-parallelism", 8, "run at most this many steps at once against each vCenter (0: no limit)")
	f.IntVar(&azPar, "azure-parallelism", 0, "run at most this many steps at once against each vault (0: no limit)")
	f.IntVar(&writeBurst, "azure-write-burst", 0, "size of each subscription's write budget, in requests (0: the azure block's write_burst, else ARM's 200)")
	f.Float64Var(&writesPerSecond, "azure-writes-per-second", 0, "refill rate of each subscription's write budget (0: the azure block's writes_per_second, else ARM's 10)")
	f.BoolVar(&waitForWindow, "wait-for-window", false, "wait for a closed maintenance window to open instead of exiting 3")
	f.BoolVar(&sim, "sim", false, "apply to the simulated world in DIR/.cutover/sim")
	f.BoolVar(&asJSON, "json", false, "report progress as one JSON event per line")
	f.DurationVar(&progressInterval, "progress-interval", 10*time.Second, "with --json, emit a progress event (counts, ETA, windows) this often")
	f.BoolVar(&showAll, "show-plan", false, fmt.Sprintf("with DIR, print the whole plan even when it has more than %d steps", bigPlanSteps))
	f.StringVar(&expectDigest, "expect-digest", "", "refuse a plan file whose SHA-256 differs (see show --digest)")
	f.DurationVar(&gateTimeout, "gate-timeout", 2*time.Hour, "give up on a step whose live gate stays closed this long")
	f.DurationVar(&settleDelay, "settle-delay", 2*time.Second, "on resume, wait this long for requests of an interrupted run to land before deciding its steps from live state")
	return cmd
}

type applyOptions struct {
	parallelism        int
	vcenterParallelism int
	azureParallelism   int
	waitForWindow      bool
	asJSON             bool
	gateTimeout        time.Duration
	settleDelay        time.Duration
	// saved is set when p comes from a plan file, which is then checked
	// against a fresh plan of the same runbook and live state.
	saved bool
	// edited, from a plan file, says that the file is not byte for byte
	// what cutover writes for the plan it holds (see planfile.LoadExact).
	edited error
	// keepPlan keeps the plan under DIR/.cutover/plans while it has
	// steps to do, so that apply DIR resumes it (see resume.go).
	keepPlan bool
	// resume is the command that resumes this apply, for the summary.
	resume string
	// rollback is the command that builds this apply's rollback plan.
	rollback string
	// progressInterval is how often --json emits a progress event.
	progressInterval time.Duration
	// writeBurst and writesPerSecond override every azure block's write
	// budget when set.
	writeBurst      int
	writesPerSecond float64
}

// loadRunbook decodes the runbook in dir, shows its warnings and errors,
// and fails when there are errors.
func loadRunbook(g *globals, errOut io.Writer, dir string) (*schema.Runbook, error) {
	return loadRunbookFor(g, errOut, dir, true)
}

// loadRunbookFor is loadRunbook; needVMs refuses a runbook that declares
// no vm block, as every command but import (which writes the first) does.
func loadRunbookFor(g *globals, errOut io.Writer, dir string, needVMs bool) (*schema.Runbook, error) {
	rb, diags := loadDir(g, dir)
	if needVMs && !diags.HasErrors() {
		diags = append(diags, schema.RequireVMs(rb)...)
	}
	var files map[string]*hcl.File
	if rb != nil {
		files = rb.Files
	}
	writeDiagnostics(errOut, files, diags, g.noColor)
	if diags.HasErrors() {
		return nil, exitCodeError{exitError}
	}
	return rb, nil
}

// confirm asks for "yes" on a terminal and refuses without one: a job with
// no one to ask must say --auto-approve.
func confirm(ctx context.Context, stdin io.Reader, out io.Writer) error {
	f, ok := stdin.(*os.File)
	if !ok || !isTerminal(f) {
		return errors.New("no terminal to confirm on; review the plan and pass --auto-approve, or apply a saved plan file")
	}
	fmt.Fprint(out, "\nApply this plan? Only 'yes' is accepted: ")
	// Interrupts are caught, so Ctrl-C at the question must end the wait.
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdin).ReadString('\n')
		answer <- line
	}()
	select {
	case line := <-answer:
		if strings.TrimSpace(line) != "yes" {
			return errors.New("apply cancelled")
		}
		return nil
	case <-ctx.Done():
		return errors.New("apply cancelled")
	}
}

// runApply applies p. Reading live state and checking the plan stop at the
// first interrupt; the run itself winds down at the first and stops at the
// second (see interrupts).
func runApply(in *interrupts, g *globals, out, errOut io.Writer, rb *schema.Runbook, p *planner.Plan, planID string, sim bool, o applyOptions) (err error) {
	ctx := in.soft
	if p.RunbookHash != rb.Hash {
		return &planfile.RunbookError{Plan: p.RunbookHash, Runbook: rb.Hash}
	}
	for _, az := range rb.Azures {
		if o.writeBurst > 0 {
			az.WriteBurst = o.writeBurst
		}
		if o.writesPerSecond > 0 {
			az.WritesPerSecond = o.writesPerSecond
		}
	}
	s, err := connect(ctx, rb, sim)
	if err != nil {
		return err
	}
	if s.served != nil {
		fmt.Fprintf(errOut, "Using the simulated world served by process %d (cutover sim serve).\n", s.served.PID)
	}
	defer s.Close()
	return applySession(in, g, out, errOut, rb, p, planID, sim, o, s)
}

// applySession is runApply on open connections.
func applySession(in *interrupts, g *globals, out, errOut io.Writer, rb *schema.Runbook, p *planner.Plan, planID string, sim bool, o applyOptions, s *session) (err error) {
	ctx := in.soft
	store, err := openStore(ctx, rb)
	if err != nil {
		return err
	}
	defer func() {
		// A journal that does not close cleanly may not hold what the
		// run reported: say so, and never exit 0.
		if cerr := store.Close(); cerr != nil {
			fmt.Fprintf(errOut, "Error: closing the journal: %s\n", safeText(cerr.Error()))
			if err == nil {
				err = exitCodeError{exitError}
			}
		}
	}()

	// A resumed apply changed some VMs itself: those are exempt from the
	// staleness check, every other VM must be as the plan saw it.
	rep, err := store.Replay(ctx)
	if err != nil {
		return err
	}
	touched := map[string]bool{}
	for _, r := range rep.Records {
		if r.PlanID == planID && r.StepID != "" {
			touched[vmOfStep(p, r.StepID)] = true
		}
	}
	// What needs no live state is checked before anything is read.
	if err := planfile.Check(&planner.Plan{CreatedAt: p.CreatedAt, ExpiresAt: p.ExpiresAt, RunbookHash: p.RunbookHash}, rb.Hash, time.Now(), nil); err != nil {
		return err
	}
	if planfile.IsRollback(p) {
		if err := verifyRollback(p, rep.Records); err != nil {
			return err
		}
	}
	if o.saved {
		if err := verifySavedWindows(rb, p); err != nil {
			return err
		}
	}
	// Before any VM is read, so before anything can start: a file that
	// is not byte for byte what cutover writes was edited by hand,
	// whatever it decodes to.
	if o.edited != nil {
		return o.edited
	}
	completed := map[string]bool{}
	for _, vm := range completedVMs(rep.Records) {
		completed[vm] = true
	}

	// The live state is read and checked VM by VM while the run goes on
	// (see startCheck): the runner is built once identities are read, the
	// executor started once a first VM passed.
	order := checkOrder(p, touched)
	check := newStartCheck(rb, touched, len(order))
	type built struct {
		runner *action.Runner
		err    error
	}
	runnerCh := make(chan built, 1)
	checkDone := make(chan error, 1)
	// The check ends with the run at the latest: a run that could not
	// start (its lock is held) does not wait for every VM to be read.
	checkCtx, cancelCheck := context.WithCancel(ctx)
	defer cancelCheck()
	go func() {
		_, err := check.run(checkCtx, rb, s.sources, p, touched, completed, o.saved, func(ids *planner.Snapshot) error {
			r, err := action.NewRunner(action.Env{Runbook: rb, VCenters: s.vcenters, Azures: s.azures, Refresh: ids})
			runnerCh <- built{r, err}
			return err
		})
		checkDone <- err
	}()
	var b built
	select {
	case b = <-runnerCh:
	case err := <-checkDone:
		if err != nil {
			select {
			case b := <-runnerCh:
				if b.runner != nil {
					b.runner.Close()
				}
			default:
			}
			return refusal(errOut, err)
		}
		// Done already: the runner was built before the first batch.
		checkDone <- nil
		b = <-runnerCh
	}
	if b.err != nil {
		<-checkDone
		return b.err
	}
	runner := b.runner
	defer runner.Close()
	check.wait(ctx)
	if passedAny, done, refused := check.state(); refused != nil && !passedAny || ctx.Err() != nil && !done {
		// Refused (or interrupted) before any VM passed: nothing starts.
		err := <-checkDone
		if err == nil {
			err = ctx.Err()
		}
		return refusal(errOut, err)
	}

	// With --json, stdout carries only events; what a person reads goes
	// to stderr.
	say := out
	if o.asJSON {
		say = errOut
	}
	var clock executor.Clock = wallClock{}
	if sim {
		c, msg := newSimClock(p, time.Now())
		clock = c
		if msg != "" {
			fmt.Fprintln(say, msg)
		}
	}
	o.rollback = rollbackCommand(rb.Dir, sim)
	if o.keepPlan {
		if err := keepRunPlan(rb, p, planID); err != nil {
			return fmt.Errorf("keeping the plan for a resume: %w", err)
		}
	} else if err := keepWatchPlan(rb, p, planID); err != nil {
		return fmt.Errorf("keeping the plan for status --watch: %w", err)
	}
	reporter, closeReporter := newApplyReporter(out, p, clock.Now, o, g, isTerminal(out))
	check.watch(reporter)
	// The run stops softly at the first interrupt or when the check
	// refuses the plan.
	stop := make(chan struct{})
	go func() {
		select {
		case <-in.soft.Done():
		case <-check.refusedCh:
		}
		close(stop)
	}()
	ex, err := executor.New(executor.Config{
		Stop: stop, Admit: check.Admit,
		Plan: p, PlanID: planID, Store: store, Actions: runner.Actions(), Clock: clock,
		Reporter: reporter, Parallelism: o.parallelism,
		ConnectionOf: connectionOf(rb), ConnectionLimits: connectionLimits(rb, o),
		WaitForWindow: o.waitForWindow, GateTimeout: o.gateTimeout, GatePoll: gatePoll(sim), SettleDelay: o.settleDelay,
	})
	if err != nil {
		closeReporter()
		check.refuse(err)
		<-checkDone
		return err
	}
	res, err := ex.Run(in.hard)
	closeReporter()
	cancelCheck()
	checkErr := <-checkDone
	if errors.Is(checkErr, context.Canceled) && in.soft.Err() == nil {
		// Ended by the run's end, not refused.
		checkErr = nil
	}
	if s.world != nil {
		if perr := s.world.Persist(context.WithoutCancel(ctx)); perr != nil {
			fmt.Fprintf(errOut, "Warning: the simulated vCenter's state was not saved: %v\n", perr)
		}
	}
	var locked *journal.LockedError
	if errors.As(err, &locked) {
		return &lockHeldError{held: locked.Held, stale: locked.Stale, dir: rb.Dir}
	}
	var release *executor.ReleaseError
	if errors.As(err, &release) {
		// The run is complete; report it, then the lock, and fail.
		defer fmt.Fprintf(errOut, "Error: %s\nRelease it with: cutover force-unlock %s %s\n", safeText(release.Error()), release.LockID, rb.Dir)
		err = exitCodeError{exitError}
	} else if err != nil {
		return err
	}
	if res.OK() {
		dropRunPlan(rb, planID)
	}
	// A watcher needs the plan only while this apply holds the lock.
	_ = os.Remove(watchPlanPath(rb, planID))
	if checkErr != nil && in.soft.Err() == nil {
		// Refused part way: say what had started, then why.
		writeRefusedSummary(say, res)
		return refusal(errOut, checkErr)
	}
	writeApplySummary(say, errOut, p, res, o.resume, o.rollback)
	switch {
	case err != nil:
		return err
	case res.Stopped:
		return exitCodeError{exitInterrupted}
	case len(res.Failed) > 0:
		return exitCodeError{exitError}
	case res.WindowClosed:
		return exitCodeError{exitWindowClosed}
	}
	return nil
}

// connectionLimits bounds the steps running at once on each vCenter and
// each vault.
func connectionLimits(rb *schema.Runbook, o applyOptions) map[string]int {
	m := map[string]int{}
	for _, vc := range rb.VCenters {
		m["vcenter."+vc.Name] = o.vcenterParallelism
	}
	for _, az := range rb.Azures {
		m["azure."+az.Name] = o.azureParallelism
	}
	return m
}

// connectionOf names the vCenter or vault connection a step uses.
func connectionOf(rb *schema.Runbook) func(planner.Step) string {
	vms := map[string]*schema.VM{}
	for _, vm := range rb.VMs {
		vms[vm.Address] = vm
	}
	return func(s planner.Step) string {
		vm := vms[s.VM]
		if vm == nil {
			return ""
		}
		if s.Kind.Provider() == "azure" {
			return "azure." + vm.Target.Azure
		}
		return "vcenter." + vm.Source.VCenter
	}
}

func gatePoll(sim bool) time.Duration {
	if sim {
		return 200 * time.Millisecond
	}
	return 30 * time.Second
}

func vmOfStep(p *planner.Plan, id string) string {
	for _, s := range p.Steps {
		if s.ID == id {
			return s.VM
		}
	}
	return ""
}

// lineReporter prints one timestamped line per event (UTC, marked Z).
type lineReporter struct {
	mu   sync.Mutex
	w    io.Writer
	last map[string]int
	// waiting is the last wait printed per step: a gate polled every few
	// seconds says the same thing each time, and one line says it.
	waiting map[string]string
}

func newLineReporter(w io.Writer, _ bool) *lineReporter {
	return &lineReporter{w: w, last: map[string]int{}, waiting: map[string]string{}}
}

// Report prints one event.
func (l *lineReporter) Report(e executor.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.report(e)
}

func (l *lineReporter) report(e executor.Event) {
	if e.Kind == executor.EventStepProgress {
		// Print progress only when it moved by ten points.
		if e.Percent < 0 || e.Percent/10 == l.last[e.Step]/10 && l.last[e.Step] != 0 {
			return
		}
		l.last[e.Step] = e.Percent
	}
	if e.Kind == executor.EventStepWaiting {
		if l.waiting[e.Step] == e.Message {
			return
		}
		l.waiting[e.Step] = e.Message
	} else {
		delete(l.waiting, e.Step)
	}
	ts := logStamp(e.Time)
	switch e.Kind {
	case executor.EventRunStarted, executor.EventRunFinished:
		fmt.Fprintf(l.w, "%s %s: %s\n", ts, strings.ReplaceAll(string(e.Kind), "_", " "), e.Message)
	case executor.EventStepProgress:
		fmt.Fprintf(l.w, "%s %s: %d%% %s\n", ts, e.Step, e.Percent, e.Message)
	case executor.EventStepFailed, executor.EventStepRetrying:
		fmt.Fprintf(l.w, "%s %s: %s: %s\n", ts, e.Step, strings.TrimPrefix(string(e.Kind), "step_"), e.Error)
	case executor.EventBudgetWaiting:
		fmt.Fprintf(l.w, "%s %s: %s\n", ts, e.Step, e.Message)
	default:
		msg := strings.TrimPrefix(string(e.Kind), "step_")
		if e.Message != "" {
			msg += " (" + e.Message + ")"
		}
		if e.Duration > 0 {
			msg += fmt.Sprintf(" after %s", e.Duration.Round(time.Millisecond))
		}
		fmt.Fprintf(l.w, "%s %s: %s\n", ts, e.Step, msg)
	}
}
