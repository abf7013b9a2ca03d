package planner_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"cutover/planner"
	"cutover/planner/planfile"
	"cutover/providers/azure"
	"cutover/providers/simworld"
	"cutover/providers/vcenter"
	"cutover/schema"
)

// simSources opens the simulated world of a runbook and connects the real
// providers to it.
func simSources(t *testing.T, rb *schema.Runbook) (*simworld.World, planner.Sources) {
	t.Helper()
	ctx := context.Background()
	w, err := simworld.Open(ctx, rb, t.TempDir(), simworld.Options{TimeScale: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	src := planner.Sources{VCenters: map[string]planner.VCenterReader{}, Azures: map[string]planner.AzureReader{}}
	for name, cfg := range w.VCenterConfigs {
		c, err := vcenter.Connect(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		src.VCenters[name] = c
	}
	for name, cfg := range w.AzureConfigs {
		c, err := azure.New(cfg, w.AzureOptions())
		if err != nil {
			t.Fatal(err)
		}
		src.Azures[name] = c
	}
	return w, src
}

func TestPlanAgainstSimulatedWorld(t *testing.T) {
	rb := loadExample(t, "quickstart")
	_, src := simSources(t, rb)
	snap, problems, err := planner.Refresh(context.Background(), rb, src)
	if err != nil || len(problems) > 0 {
		t.Fatalf("refresh: %v %v", err, problems)
	}
	p, problems := planner.Build(rb, snap.Live, planner.Options{Now: time.Now()})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if got := kindsOf(p, "vm.db01"); got != "enable_replication wait_protected test_failover test_failover_cleanup snapshot shutdown unplanned_failover" {
		t.Errorf("db01 steps: %s", got)
	}
	for _, vm := range p.VMs {
		if vm.Live != planner.LiveDiscovered || vm.Fingerprint.Source == "" {
			t.Errorf("%s: live %s fingerprint %+v", vm.Address, vm.Live, vm.Fingerprint)
		}
		if m := snap.Matched[vm.Address]; m.Machine == nil || m.VM == nil {
			t.Errorf("%s not matched to its discovered machine: %+v", vm.Address, m)
		}
	}
}

// TestStalePlanNamesTheVM plans against the simulated world, powers one
// VM off behind the plan's back, and checks that the plan is refused
// naming that VM, while an untouched world accepts it.
func TestStalePlanNamesTheVM(t *testing.T) {
	rb := loadExample(t, "quickstart")
	w, src := simSources(t, rb)
	ctx := context.Background()
	snap, _, err := planner.Refresh(ctx, rb, src)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := planner.Build(rb, snap.Live, planner.Options{Now: time.Now()})

	again, _, err := planner.Refresh(ctx, rb, src)
	if err != nil {
		t.Fatal(err)
	}
	if err := planfile.Check(p, rb.Hash, time.Now(), again.Live); err != nil {
		t.Fatalf("untouched world refused: %v", err)
	}

	c, err := vcenter.Connect(ctx, w.VCenterConfigs["dc1"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.PowerOff(ctx, snap.Matched["vm.app02"].VM.Ref(), vcenter.Watch{}); err != nil {
		t.Fatal(err)
	}
	moved, _, err := planner.Refresh(ctx, rb, src)
	if err != nil {
		t.Fatal(err)
	}
	err = planfile.Check(p, rb.Hash, time.Now(), moved.Live)
	var stale *planfile.StaleError
	if !errors.As(err, &stale) || len(stale.Drifted) != 1 || stale.Drifted[0].VM != "vm.app02" {
		t.Fatalf("want vm.app02 named as drifted, got %v", err)
	}
}
