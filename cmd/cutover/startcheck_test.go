package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cutover/planner"
	"cutover/planner/planfile"
	"cutover/providers/vcenter"
)

// heldReader is the simulated vCenter with one change: after the first
// batch of full VM records, it reads no more until a step has started (or
// a generous timeout passed, which the test then reports). An apply that
// held every step until the last VM was checked would never unblock it.
type heldReader struct {
	*vcenter.Client
	started <-chan struct{}
	mu      sync.Mutex
	reads   int
	late    bool // a later batch was read without a step started
}

func (h *heldReader) ReadVMs(ctx context.Context, inv *vcenter.Inventory, morefs []string) ([]*vcenter.VM, error) {
	h.mu.Lock()
	h.reads++
	n := h.reads
	h.mu.Unlock()
	if n > 1 {
		select {
		case <-h.started:
		case <-time.After(30 * time.Second):
			h.mu.Lock()
			h.late = true
			h.mu.Unlock()
		}
	}
	return h.Client.ReadVMs(ctx, inv, morefs)
}

// eventLog collects apply --json lines and closes started at the first
// step_started.
type eventLog struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	once    sync.Once
	started chan struct{}
}

func (l *eventLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if bytes.Contains(b, []byte(`"kind":"step_started"`)) {
		l.once.Do(func() { close(l.started) })
	}
	return l.buf.Write(b)
}

func (l *eventLog) events(t *testing.T) []applyEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []applyEvent
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	for sc.Scan() {
		var ev applyEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not an event: %q", sc.Text())
		}
		out = append(out, ev)
	}
	return out
}

// TestApplyStartsBeforeTheLastVMIsChecked applies the CSV wave (20 VMs:
// the staleness check reads them in a batch of 16, then 4) on the
// simulated world, with the second batch held back until a step has
// started. Fresh, the apply completes: its first step started before the
// last VM was checked, and no disruptive step started before every VM
// passed. With the last VM made stale behind the plan's back, the apply
// is refused naming it, and nothing was started or journaled for it, nor
// any disruptive step for anyone.
func TestApplyStartsBeforeTheLastVMIsChecked(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.001")
	for _, stale := range []bool{false, true} {
		name := "fresh"
		if stale {
			name = "last VM stale"
		}
		t.Run(name, func(t *testing.T) {
			dir := copyExample(t, "csv-wave")
			planPath := filepath.Join(t.TempDir(), "w.plan")
			if code, out, errOut := runCLI(t, "plan", dir, "--sim", "--out", planPath); code != 0 {
				t.Fatalf("plan: exit %d %s %s", code, out, errOut)
			}
			p, digest, err := planfile.Load(planPath)
			if err != nil {
				t.Fatal(err)
			}
			g := &globals{}
			rb, err := loadRunbook(g, io.Discard, dir)
			if err != nil {
				t.Fatal(err)
			}
			in := catchInterrupts(context.Background(), io.Discard)
			defer in.Stop()
			s, err := connect(in.soft, rb, true)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()

			order := checkOrder(p, nil)
			if len(order) <= planner.FirstBatch {
				t.Fatalf("%d VMs fit in the first batch of %d: nothing to hold back", len(order), planner.FirstBatch)
			}
			last := order[len(order)-1]
			if stale {
				ids, err := s.vcenters["dc1"].Identify(in.soft)
				if err != nil {
					t.Fatal(err)
				}
				name := strings.TrimSuffix(strings.TrimPrefix(last, `vm.wave["`), `"]`)
				v, err := ids.MatchVM(vcenter.Selector{Name: name})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.vcenters["dc1"].PowerOff(in.soft, v.Ref(), vcenter.Watch{}); err != nil {
					t.Fatal(err)
				}
			}

			log := &eventLog{started: make(chan struct{})}
			held := &heldReader{Client: s.vcenters["dc1"], started: log.started}
			s.sources.VCenters["dc1"] = held
			o := applyOptions{parallelism: 10, vcenterParallelism: 8, asJSON: true, saved: true,
				progressInterval: time.Hour, gateTimeout: time.Minute, settleDelay: time.Millisecond}
			var errOut bytes.Buffer
			err = applySession(in, g, log, &errOut, rb, p, digest, true, o, s)

			if held.late {
				t.Error("the last VMs were read before any step started: apply waited for every VM's check")
			}
			kinds := map[string]planner.Step{}
			for _, st := range p.Steps {
				kinds[st.ID] = st
			}
			firstStart, allChecked := -1, -1
			for i, ev := range log.events(t) {
				switch ev.Kind {
				case "step_started":
					if firstStart < 0 {
						firstStart = i
					}
					st := kinds[ev.Step]
					if st.VM == last && stale {
						t.Errorf("a step of the stale VM started: %s", ev.Step)
					}
					if st.Disruptive && allChecked < 0 {
						t.Errorf("disruptive step %s started before every VM was checked", ev.Step)
					}
				case kindStalenessChecked:
					if *ev.Checked == *ev.ToCheck && allChecked < 0 && strings.Contains(ev.Message, "all") {
						allChecked = i
					}
				}
			}
			if firstStart < 0 {
				t.Fatalf("no step started:\n%s", errOut.String())
			}
			if allChecked >= 0 && allChecked < firstStart {
				t.Errorf("the whole check ended (event %d) before the first step started (event %d)", allChecked, firstStart)
			}

			if !stale {
				if err != nil || allChecked < 0 {
					t.Fatalf("fresh plan: %v (whole check passed at event %d)\n%s", err, allChecked, errOut.String())
				}
				return
			}
			var se *planfile.StaleError
			if !errors.As(err, &se) || len(se.Drifted) != 1 || se.Drifted[0].VM != last {
				t.Fatalf("want the plan refused as stale naming %s, got %v", last, err)
			}
			if allChecked >= 0 {
				t.Error("a refused plan reported every VM checked")
			}
			if !strings.Contains(errOut.String(), "Apply refused part way") {
				t.Errorf("no refusal summary:\n%s", errOut.String())
			}
			rep, err := journalOf(t, dir).Replay(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rep.Records {
				if r.StepID != "" && kinds[r.StepID].VM == last {
					t.Errorf("the journal has a record for the stale VM: %+v", r)
				}
			}
		})
	}
}

// TestStalenessProgressInEveryView: the staleness check's counts reach
// each view of a run: a staleness_checked event with checked and to_check
// in --json, a line without a terminal, and a line of the live view's
// block while the check runs (gone once every VM passed).
func TestStalenessProgressInEveryView(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 11, 28, 21, 30, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name        string
		o           applyOptions
		tty         bool
		during, end string
	}{
		{"json", applyOptions{asJSON: true, progressInterval: time.Hour}, false,
			`{"time":"2026-11-28T21:30:00Z","kind":"staleness_checked","message":"16 of 100 VMs match the plan's live state; their non-disruptive steps may start","checked":16,"to_check":100}`,
			`"kind":"staleness_checked","message":"all 100 VMs match the plan's live state; disruptive steps may start","checked":100,"to_check":100}`},
		{"lines", applyOptions{}, false,
			"21:30:00Z staleness checked: 16 of 100 VMs match the plan's live state; their non-disruptive steps may start",
			"21:30:00Z staleness checked: all 100 VMs match the plan's live state"},
		{"live view", applyOptions{}, true, "   checked 16/100 VMs against the plan; disruptive steps wait for all\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			r, stop := newApplyReporter(&buf, viewPlan(), now, tc.o, &globals{}, tc.tty)
			defer stop()
			sr, ok := r.(stalenessReporter)
			if !ok {
				t.Fatal("the run's reporter does not show the staleness check")
			}
			sr.staleness(16, 100, false)
			if !strings.Contains(buf.String(), tc.during) {
				t.Fatalf("during the check: want %q in\n%s", tc.during, buf.String())
			}
			buf.Reset()
			sr.staleness(100, 100, true)
			if tc.end != "" && !strings.Contains(buf.String(), tc.end) {
				t.Fatalf("at its end: want %q in\n%s", tc.end, buf.String())
			}
			if tc.tty && strings.Contains(buf.String(), "against the plan") {
				t.Fatalf("the live view still shows the check after it ended:\n%s", buf.String())
			}
		})
	}
}
