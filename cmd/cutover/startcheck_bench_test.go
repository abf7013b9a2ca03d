package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cutover/executor"
	"cutover/executor/action"
	"cutover/planner"
	"cutover/planner/planfile"
	"cutover/providers/azure"
	"cutover/providers/simworld"
	"cutover/providers/vcenter"
	"cutover/schema"
)

// benchStartVMs is the size of the wave whose start is measured: the
// issue's 1,000 VMs.
const benchStartVMs = 1000

// startRunbook writes the CSV wave with n VMs at stage "replicating"
// (without its NIC block: one enable_replication step per VM) and loads it.
func startRunbook(tb testing.TB, n int) *schema.Runbook {
	tb.Helper()
	dir := tb.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "csv-wave", "main.hcl"))
	if err != nil {
		tb.Fatal(err)
	}
	const nic = "    nic {\n      mac       = each.value.mac\n      primary   = true\n      static_ip = each.value.ip\n    }\n"
	if !strings.Contains(string(src), nic) {
		tb.Fatal("examples/csv-wave/main.hcl no longer has the nic block this benchmark leaves out")
	}
	var csv strings.Builder
	csv.WriteString("name,size,subnet,ip,disk_type,stage,mac\n")
	for i := range n {
		fmt.Fprintf(&csv, "vm%05d,Standard_D2s_v5,app,10.%d.%d.%d,Premium_LRS,replicating,00:50:56:%02x:%02x:%02x\n",
			i, i>>16&255, i>>8&255, i&255, i>>16&255, i>>8&255, i&255)
	}
	for name, content := range map[string]string{"main.hcl": strings.Replace(string(src), nic, "", 1), "wave1.csv": csv.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	rb, diags := schema.LoadDir(dir, schema.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		tb.Fatal(diags.Error())
	}
	return rb
}

// startWorld opens a fresh simulated world for rb, connects to it and
// plans it: what apply has in hand once it has connected.
func startWorld(b *testing.B, rb *schema.Runbook) (*session, *planner.Plan, string) {
	b.Helper()
	ctx := context.Background()
	w, err := simworld.Open(ctx, rb, b.TempDir(), simworld.Options{TimeScale: 0.1, InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	s := &session{
		sources:  planner.Sources{VCenters: map[string]planner.VCenterReader{}, Azures: map[string]planner.AzureReader{}},
		vcenters: map[string]*vcenter.Client{}, azures: map[string]*azure.Client{},
	}
	s.closers = append(s.closers, w.Close)
	for name, cfg := range w.VCenterConfigs {
		c, err := vcenter.Connect(ctx, cfg)
		if err != nil {
			s.Close()
			b.Fatal(err)
		}
		s.closers = append(s.closers, func() { _ = c.Close(context.Background()) })
		s.sources.VCenters[name], s.vcenters[name] = c, c
	}
	for name, cfg := range w.AzureConfigs {
		c, err := azure.New(cfg, w.AzureOptions())
		if err != nil {
			s.Close()
			b.Fatal(err)
		}
		s.sources.Azures[name], s.azures[name] = c, c
	}
	snap, problems, err := planner.Refresh(ctx, rb, s.sources)
	if err != nil || len(problems) > 0 {
		s.Close()
		b.Fatalf("refresh: %v %v", err, problems)
	}
	p, problems := planner.Build(rb, snap.Live, planner.Options{Now: time.Now()})
	if len(problems) > 0 || len(p.Steps) != benchStartVMs {
		s.Close()
		b.Fatalf("plan: %d steps, problems %v", len(p.Steps), problems)
	}
	id, err := planfile.DigestOf(p)
	if err != nil {
		b.Fatal(err)
	}
	return s, p, id
}

// firstStart records when the first step started and when the staleness
// check passed the whole plan, from apply's --json events or the
// executor's.
type firstStart struct {
	mu          sync.Mutex
	first, done time.Time
}

func (f *firstStart) mark(kind string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case kind == string(executor.EventStepStarted) && f.first.IsZero():
		f.first = time.Now()
	case kind == "checked" && f.done.IsZero():
		f.done = time.Now()
	}
}

// Write takes --json lines.
func (f *firstStart) Write(b []byte) (int, error) {
	for _, line := range bytes.Split(b, []byte("\n")) {
		switch {
		case bytes.Contains(line, []byte(`"kind":"step_started"`)):
			f.mark(string(executor.EventStepStarted))
		case bytes.Contains(line, []byte(`"kind":"staleness_checked"`)) && bytes.Contains(line, []byte(`"message":"all `)):
			f.mark("checked")
		}
	}
	return len(b), nil
}

// applyWholeCheck is how apply started before it checked VM by VM, kept
// as this benchmark's baseline: read every VM (planner.Refresh), check
// the whole plan's fingerprints and re-plan it (verifySaved), then build
// the runner and start the executor. It leaves out what both ways do
// alike and cost little (the journal replay, keeping the plan for a
// resume).
func applyWholeCheck(ctx context.Context, rb *schema.Runbook, p *planner.Plan, planID string, s *session, parallelism int, f *firstStart) error {
	snap, problems, err := planner.Refresh(ctx, rb, s.sources)
	if err != nil || len(problems) > 0 {
		return fmt.Errorf("refresh: %v %v", err, problems)
	}
	if err := planfile.Check(p, rb.Hash, time.Now(), snap.Live); err != nil {
		return err
	}
	if err := verifySaved(rb, snap.Live, p, nil); err != nil {
		return err
	}
	f.mark("checked")
	runner, err := action.NewRunner(action.Env{Runbook: rb, VCenters: s.vcenters, Azures: s.azures, Refresh: snap})
	if err != nil {
		return err
	}
	defer runner.Close()
	store, err := openStore(ctx, rb)
	if err != nil {
		return err
	}
	defer store.Close()
	ex, err := executor.New(executor.Config{
		Plan: p, PlanID: planID, Store: store, Actions: runner.Actions(), Parallelism: parallelism,
		Reporter: executor.ReporterFunc(func(e executor.Event) { f.mark(string(e.Kind)) }),
	})
	if err != nil {
		return err
	}
	res, err := ex.Run(ctx)
	if err == nil && !res.OK() {
		err = fmt.Errorf("apply: %d failed, %d pending", len(res.Failed), len(res.Pending))
	}
	return err
}

// BenchmarkApplyFirstStep measures how long apply takes, once connected,
// to start its first step on a saved plan of 1,000 VMs (one
// enable_replication each) at --parallelism 100, against the simulators:
// first-step-s. check=whole is the way apply started before (read every VM,
// check the whole plan, then start: the 1.2 to 1.8 s);
// check=per-vm is apply as it is (applySession: identities and vaults
// first, full records in batches, each batch checked and its VMs' steps
// started while the rest are read). checked-s is when the whole plan had
// passed its check, and apply-s the whole apply (0.4 s enable jobs).
//
// Each apply needs a fresh world, built outside the timer: run it with
// -benchtime=1x (or a few x).
func BenchmarkApplyFirstStep(b *testing.B) {
	if testing.Short() {
		b.Skip("applies 1,000 VMs")
	}
	rb := startRunbook(b, benchStartVMs)
	for _, mode := range []string{"whole", "per-vm"} {
		b.Run("check="+mode, func(b *testing.B) {
			var first, checked, wall time.Duration
			for b.Loop() {
				b.StopTimer()
				s, p, id := startWorld(b, rb)
				// Each apply its own journal: the runbook's state dir.
				_ = os.RemoveAll(filepath.Join(rb.Dir, ".cutover"))
				f := &firstStart{}
				in := catchInterrupts(context.Background(), io.Discard)
				b.StartTimer()

				began := time.Now()
				var err error
				if mode == "whole" {
					err = applyWholeCheck(in.hard, rb, p, id, s, 100, f)
				} else {
					o := applyOptions{parallelism: 100, vcenterParallelism: 0, asJSON: true, saved: true,
						progressInterval: time.Hour, gateTimeout: time.Minute, settleDelay: time.Millisecond}
					err = applySession(in, &globals{}, f, io.Discard, rb, p, id, false, o, s)
				}
				took := time.Since(began)

				b.StopTimer()
				in.Stop()
				s.Close()
				if err != nil {
					b.Fatal(err)
				}
				if f.first.IsZero() || f.done.IsZero() {
					b.Fatal("no step started, or the check never passed")
				}
				first += f.first.Sub(began)
				checked += f.done.Sub(began)
				wall += took
				b.StartTimer()
			}
			n := float64(b.N)
			b.ReportMetric(first.Seconds()/n, "first-step-s")
			b.ReportMetric(checked.Seconds()/n, "checked-s")
			b.ReportMetric(wall.Seconds()/n, "apply-s")
		})
	}
}
