package planner_test

import (
	"strings"
	"testing"
	"time"

	"cutover/planner"
	"cutover/planner/planfile"
)

// TestInverseOfAFailover: the inverse of an unplanned failover follows what
// the item allows at rollback time, read live; replication is disabled of
// a VM that stays failed over only when asked; the source's power-on
// always names the Azure VM its gate reads.
func TestInverseOfAFailover(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "multi-tier")
	const vm = "vm.db"
	applied := []planner.Applied{
		{ID: vm + ".enable_replication"}, {ID: vm + ".wait_protected"}, {ID: vm + ".test_failover"}, {ID: vm + ".test_failover_cleanup"},
		{ID: vm + ".shutdown", Before: []byte(`{"powerState":"poweredOn"}`)}, {ID: vm + ".unplanned_failover"},
	}
	failedOver := func(ops ...string) planner.Live {
		it := item("UnplannedFailoverCommitPendingStatesBegin", "MarkedForDeletion", true, ops...)
		it.Settings = map[string]string{"name": "db-az", "resource_group": "/subscriptions/s/resourceGroups/target"}
		off := *poweredOn()
		off.PowerState = "poweredOff"
		return planner.Live{Source: &off, Item: it,
			AzureVM: &planner.LiveAzureVM{Name: "db-az", ResourceGroupID: "/subscriptions/s/resourceGroups/target", Exists: true, PowerState: "running"}}
	}
	inmage := []string{"CompleteMigration", "Commit", "DisableProtection", "ChangePit", "SwitchProtection"}
	cases := []struct {
		name  string
		live  planner.Live
		reset bool
		// noShutdown: ASR shut the source down (performShutdown), no
		// shutdown step was applied.
		noShutdown bool
		want       string
		warning    string
	}{
		{name: "InMageRcm: no cancel", live: failedOver(inmage...), want: "deallocate_azure_vm power_on", warning: "ASR does not offer CancelFailover"},
		{name: "InMageRcm, reset asked", live: failedOver(inmage...), reset: true, want: "deallocate_azure_vm power_on disable_replication", warning: "--reset-replication"},
		{name: "cancel offered", live: failedOver("Commit", "CancelFailover"), want: "failover_cancel deallocate_azure_vm power_on disable_replication", warning: "ASR offers CancelFailover"},
		{name: "ASR shut the source down", noShutdown: true, live: failedOver(inmage...), want: "deallocate_azure_vm power_on", warning: "ASR does not offer CancelFailover"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			live := map[string]planner.Live{vm: tc.live}
			done := applied
			if tc.noShutdown {
				done = append(append([]planner.Applied(nil), applied[:4]...), applied[5])
			}
			p, _ := planner.Inverse(rb, done, live, planner.Options{ResetReplication: tc.reset, Now: time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC), ToolVersion: "test"})
			if got := kindsOf(p, vm); got != tc.want {
				t.Fatalf("rollback steps %q, want %q", got, tc.want)
			}
			if err := planfile.Validate(p); err != nil {
				t.Fatalf("the rollback plan is not a valid plan file: %v", err)
			}
			var power, dealloc *planner.Step
			for i, s := range p.Steps {
				switch s.Kind {
				case planner.StepPowerOn:
					power = &p.Steps[i]
				case planner.StepDeallocateAzureVM:
					dealloc = &p.Steps[i]
				}
			}
			// The power-on undoes cutover's shutdown, or is part of the
			// failover's undo when ASR shut the source down; either way it
			// names the Azure VM its gate reads.
			wantID, wantInv := vm+".undo.shutdown", planner.StepShutdown
			if tc.noShutdown {
				wantID, wantInv = vm+".undo.unplanned_failover.power_on", planner.StepUnplannedFailover
			}
			if power.ID != wantID || power.Inverse != wantInv || power.Inputs["azure_vm"] != "db-az" {
				t.Errorf("power_on %+v, want ID %s undoing %s", power, wantID, wantInv)
			}
			if dealloc != nil && (dealloc.Inputs["azure_resource_group"] != "/subscriptions/s/resourceGroups/target" ||
				!contains(power.DependsOn, dealloc.ID) || !dealloc.Disruptive || !strings.HasPrefix(dealloc.ID, vm+".undo.unplanned_failover")) {
				t.Errorf("deallocate %+v, power_on after %v", dealloc, power.DependsOn)
			}
			var vp *planner.VMPlan
			for i := range p.VMs {
				if p.VMs[i].Address == vm {
					vp = &p.VMs[i]
				}
			}
			if vp == nil || len(vp.Warnings) == 0 || !strings.Contains(vp.Warnings[0], tc.warning) || len(vp.AzureVMs) != 1 {
				t.Fatalf("plan VM %+v, want a warning with %q and the Azure VM", vp, tc.warning)
			}
		})
	}
}

// TestRolledBackInPlace: a VM still failed over whose Azure VM is off and
// whose source runs carries the note on what migrating again takes.
func TestRolledBackInPlace(t *testing.T) {
	t.Parallel()
	it := item("UnplannedFailoverCommitPendingStatesBegin", "None", true, "Commit", "CompleteMigration", "DisableProtection")
	cases := []struct {
		name  string
		power string
		src   string
		want  bool
	}{
		{"backed out", "deallocated", "poweredOn", true},
		{"still running in Azure", "running", "poweredOff", false},
		{"both off", "deallocated", "poweredOff", false},
		{"unknown power state", "", "poweredOn", false},
	}
	for _, tc := range cases {
		src := *poweredOn()
		src.PowerState = tc.src
		l := planner.Live{Source: &src, Item: it, AzureVM: &planner.LiveAzureVM{Name: "db-az", Exists: true, PowerState: tc.power}}
		if got := planner.RolledBackInPlace(l); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestNoPlanBackWithoutCancel: a plan cannot take a failed-over VM back to
// an earlier stage when ASR offers no CancelFailover; the problem points
// to rollback.
func TestNoPlanBackWithoutCancel(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "rehearsal") // billing01: stage replicating
	l := planner.Live{Source: &planner.LiveSource{PowerState: "poweredOff"},
		Item: item("UnplannedFailoverCommitPendingStatesBegin", "None", true, "CompleteMigration", "Commit", "DisableProtection", "ChangePit", "SwitchProtection")}
	p, problems := planner.Build(rb, liveAll(rb, l), planner.Options{})
	if len(problems) != 1 || !strings.Contains(problems[0].Reason, "does not offer CancelFailover") || !strings.Contains(problems[0].Reason, "cutover rollback") {
		t.Fatalf("problems %v", problems)
	}
	if got := kindsOf(p, "vm.billing01"); got != "" {
		t.Errorf("planned %s", got)
	}
}
