package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cutover/executor/journal"
	"cutover/planner"
)

// TestPlanTimelineInJSONAndSpill plans the quickstart twice in its
// simulated world: in its 6-hour window everything fits; in a window of
// one hour at parallelism 1 the VMs spill over, and every form says which.
func TestPlanTimelineInJSONAndSpill(t *testing.T) {
	dir := copyExample(t, "quickstart")
	planPath := filepath.Join(t.TempDir(), "q.plan")
	if code, out, errOut := runCLI(t, "plan", dir, "--sim", "-out="+planPath, "-parallelism=2"); code != 0 {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, "show", planPath, "--format", "json")
	if code != 0 {
		t.Fatalf("show: exit %d %s", code, errOut)
	}
	var doc struct {
		Steps []struct {
			ID        string   `json:"id"`
			DependsOn []string `json:"depends_on"`
			Estimate  *struct {
				StartS    *int64 `json:"start_s"`
				DurationS *int64 `json:"duration_s"`
				Basis     string `json:"basis"`
			} `json:"estimate"`
		} `json:"steps"`
		Timeline struct {
			Parallelism int `json:"parallelism"`
			Windows     []struct {
				Name  string   `json:"name"`
				Fits  bool     `json:"fits"`
				Spill []string `json:"spill"`
			} `json:"windows"`
		} `json:"timeline"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Steps) < 10 || doc.Timeline.Parallelism != 2 || len(doc.Timeline.Windows) != 1 || !doc.Timeline.Windows[0].Fits {
		t.Fatalf("steps %d, timeline %+v", len(doc.Steps), doc.Timeline)
	}
	end := map[string]int64{}
	for _, s := range doc.Steps {
		e := s.Estimate
		if e == nil || e.StartS == nil || e.DurationS == nil || *e.DurationS <= 0 || e.Basis == "" {
			t.Fatalf("%s: estimate %+v", s.ID, e)
		}
		for _, d := range s.DependsOn {
			if *e.StartS < end[d] {
				t.Errorf("%s starts before %s ends", s.ID, d)
			}
		}
		end[s.ID] = *e.StartS + *e.DurationS
	}

	main := filepath.Join(dir, "main.hcl")
	b, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	short := strings.Replace(string(b), `duration = "6h"`, `duration = "1h"`, 1)
	if short == string(b) {
		t.Fatal("the quickstart's window is no longer 6h; update this test")
	}
	if err := os.WriteFile(main, []byte(short), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "plan", dir, "--sim", "--parallelism", "1", "--format", "json")
	if code != 0 {
		t.Fatalf("plan: exit %d %s", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	w := doc.Timeline.Windows[0]
	if w.Fits || len(w.Spill) == 0 {
		t.Fatalf("a 1-hour window fits the quickstart at parallelism 1: %+v", w)
	}
	_, human, _ := runCLI(t, "plan", dir, "--sim", "--parallelism", "1")
	if !strings.Contains(human, "DOES NOT FIT") || !strings.Contains(human, w.Spill[0]) {
		t.Errorf("human plan lacks the spill:\n%s", human)
	}
}

func TestDurationsFromJournal(t *testing.T) {
	at := time.Date(2026, 3, 14, 22, 0, 0, 0, time.UTC)
	rec := func(min int, kind journal.Kind, step string) journal.Record {
		return journal.Record{Time: at.Add(time.Duration(min) * time.Minute), Kind: kind, StepID: step}
	}
	got := durationsFromJournal([]journal.Record{
		rec(0, journal.RunStarted, ""),
		rec(1, journal.StepPending, "vm.a.shutdown"),
		rec(2, journal.StepStarted, "vm.a.shutdown"),
		rec(4, journal.StepSucceeded, "vm.a.shutdown"), // 3 minutes from pending
		rec(5, journal.StepStarted, "vm.b.shutdown"),
		// the run dies; the next one finishes vm.b's shutdown: not measured
		rec(60, journal.RunStarted, ""),
		rec(61, journal.StepSucceeded, "vm.b.shutdown"),
		rec(62, journal.StepStarted, "vm.b.unplanned_failover"),
		rec(70, journal.StepSucceeded, "vm.b.unplanned_failover"),
		rec(71, journal.StepStarted, "vm.b.undo.unplanned_failover"),
		rec(75, journal.StepSucceeded, "vm.b.undo.unplanned_failover"),
		rec(80, journal.StepStarted, "vm.c.shutdown"),
		rec(81, journal.StepFailed, "vm.c.shutdown"),
	})
	want := map[planner.StepKind][]time.Duration{
		planner.StepShutdown:          {3 * time.Minute},
		planner.StepUnplannedFailover: {8 * time.Minute},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, ds := range want {
		if len(got[k]) != len(ds) || got[k][0] != ds[0] {
			t.Errorf("%s: got %v, want %v", k, got[k], ds)
		}
	}
}
