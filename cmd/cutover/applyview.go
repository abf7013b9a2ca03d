package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"cutover/executor"
	"cutover/planner"
)

// modelReporter feeds every executor event into the run model and hands
// it to a view, and wakes the view on a timer so that elapsed times, ETAs
// and periodic lines move while nothing happens. Events come from many
// goroutines; one mutex serialises model and output.
type modelReporter struct {
	mu    sync.Mutex
	m     *runModel
	now   func() time.Time
	event func(e executor.Event)
	tick  func()
	// check shows the staleness check's progress (see startCheck).
	check func(checked, total int, done bool)
	stop  chan struct{}
	done  chan struct{}
}

func (r *modelReporter) Report(e executor.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m.apply(e, r.now())
	r.event(e)
}

// staleness takes in the staleness check's counts: the live view shows
// them while the check runs, --json and plain lines say each step of it.
func (r *modelReporter) staleness(checked, total int, done bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m.checked, r.m.toCheck, r.m.checkDone = checked, total, done
	if r.check != nil {
		r.check(checked, total, done)
	}
}

// stalenessMessage says where the staleness check stands.
func stalenessMessage(checked, total int, done bool) string {
	if done {
		return fmt.Sprintf("all %d VMs match the plan's live state; disruptive steps may start", total)
	}
	return fmt.Sprintf("%d of %d VMs match the plan's live state; their non-disruptive steps may start", checked, total)
}

// start runs tick every interval until close.
func (r *modelReporter) start(interval time.Duration) func() {
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
				r.mu.Lock()
				r.tick()
				r.mu.Unlock()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(r.stop)
			<-r.done
		})
	}
}

// newApplyReporter picks the view of a run: the live view on a terminal,
// JSON events with --json, else one line per event and a summary line
// every minute. The returned function stops its timer; call it when the
// run has ended.
func newApplyReporter(out io.Writer, p *planner.Plan, now func() time.Time, o applyOptions, g *globals, tty bool) (executor.Reporter, func()) {
	m := newRunModel(p, o.parallelism)
	m.resume, m.rollback = o.resume, o.rollback
	r := &modelReporter{m: m, now: now}
	switch {
	case o.asJSON:
		enc := func(v applyEvent) {
			b, _ := json.Marshal(v)
			fmt.Fprintf(out, "%s\n", b)
		}
		r.event = func(e executor.Event) {
			if e.Kind == executor.EventRunFinished {
				// The last word on counts comes before the run's end.
				enc(progressEventOf(m.snapshot(now())))
			}
			enc(applyEventOf(e))
			if e.Kind == executor.EventRunStarted {
				enc(progressEventOf(m.snapshot(now())))
			}
		}
		r.tick = func() { enc(progressEventOf(m.snapshot(now()))) }
		r.check = func(checked, total int, done bool) {
			enc(applyEvent{Time: now().UTC(), Kind: kindStalenessChecked, Message: stalenessMessage(checked, total, done),
				Checked: &checked, ToCheck: &total})
		}
		return r, r.start(o.progressEvery())
	case tty && !g.noColor:
		v := newLiveView(out, m, now)
		r.event = v.event
		r.tick = v.redraw
		r.check = func(int, int, bool) { v.redraw() }
		return r, r.start(time.Second)
	default:
		lines := newLineReporter(out, false)
		r.event = lines.report
		r.tick = func() { fmt.Fprintln(out, progressLine(m.snapshot(now()))) }
		r.check = func(checked, total int, done bool) {
			fmt.Fprintf(out, "%s staleness checked: %s\n", logStamp(now()), stalenessMessage(checked, total, done))
		}
		return r, r.start(time.Minute)
	}
}

// progressEvery is how often --json reports progress.
func (o applyOptions) progressEvery() time.Duration {
	if o.progressInterval > 0 {
		return o.progressInterval
	}
	return 10 * time.Second
}

// progressLine is the minute line of a run without a terminal.
func progressLine(pr progress) string {
	var waits []string
	for _, k := range sortedWaits(pr.WaitingFor) {
		waits = append(waits, fmt.Sprintf("%d %s", pr.WaitingFor[k], waitLabel(k)))
	}
	w := fmt.Sprintf("%d waiting", pr.Waiting)
	if len(waits) > 0 {
		w += " (" + strings.Join(waits, ", ") + ")"
	}
	return fmt.Sprintf("%s progress: %d done, %d running, %s, %d failed, %d pending; ETA %s",
		logStamp(pr.At), pr.Done, pr.Running, w, pr.Failed, pr.Pending, etaStamp(pr.ETA, pr.At))
}

func waitLabel(k string) string {
	if k == waitBudget {
		return "write budget"
	}
	return k
}

// logStamp is the one time format of log lines: UTC, marked Z. Times that
// belong to a window are shown in the window's zone instead (zoneStamp).
func logStamp(t time.Time) string { return t.UTC().Format("15:04:05Z") }

// etaStamp is logStamp with the date when the ETA is on another day.
func etaStamp(eta, now time.Time) string {
	if eta.UTC().Format("20060102") != now.UTC().Format("20060102") {
		return eta.UTC().Format("2006-01-02 15:04:05Z")
	}
	return logStamp(eta)
}

// zoneStamp shows a window's time in the window's own zone, with the
// zone's abbreviation and offset, so that "closes 04:00" is never read in
// the wrong zone.
func zoneStamp(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("Mon 15:04 MST (-07:00)")
}

// rollbackCommand builds the rollback plan of the runbook in dir.
func rollbackCommand(dir string, sim bool) string {
	cmd := "cutover rollback " + shellQuote(dir)
	if sim {
		cmd += " --sim"
	}
	return cmd + " --out rollback.plan"
}
