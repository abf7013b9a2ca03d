package planner_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cutover/planner"
	"cutover/schema"
)

func loadExample(t *testing.T, name string) *schema.Runbook {
	t.Helper()
	rb, diags := schema.LoadDir(filepath.Join("..", "examples", name), schema.Options{
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return rb
}

func poweredOn() *planner.LiveSource {
	return &planner.LiveSource{Moref: "vm-1", PowerState: "poweredOn", Host: "/DC0/host/H0/H0", ResourcePool: "/DC0/host/H0/Resources", Datastore: "LocalDS_0", ChangeVersion: "1"}
}

func item(state, tfo string, tested bool, ops ...string) *planner.LiveItem {
	return &planner.LiveItem{ProtectionState: state, TestFailoverState: tfo, Tested: tested, AllowedOperations: ops, ETag: "e1"}
}

// liveAll gives every VM of a runbook the same live state.
func liveAll(rb *schema.Runbook, l planner.Live) map[string]planner.Live {
	out := map[string]planner.Live{}
	for _, vm := range rb.VMs {
		out[vm.Address] = l
	}
	return out
}

func kindsOf(p *planner.Plan, vm string) string {
	var out []string
	for _, s := range p.Steps {
		if s.VM == vm {
			out = append(out, string(s.Kind))
		}
	}
	return strings.Join(out, " ")
}

func TestLifecycleFromEveryStage(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "quickstart") // db01: snapshot_before_cutover, stage migrated
	tests := []struct {
		name string
		live planner.Live
		want string
	}{
		{"discovered", planner.Live{Source: poweredOn()},
			"enable_replication wait_protected test_failover test_failover_cleanup snapshot shutdown unplanned_failover"},
		{"replicating", planner.Live{Source: poweredOn(), Item: item("InitialReplicationInProgress", "None", false, "DisableProtection")},
			"wait_protected test_failover test_failover_cleanup snapshot shutdown unplanned_failover"},
		{"protected", planner.Live{Source: poweredOn(), Item: item("Protected", "None", false, "TestFailover", "UnplannedFailover")},
			"test_failover test_failover_cleanup snapshot shutdown unplanned_failover"},
		{"testing", planner.Live{Source: poweredOn(), Item: item("Protected", "WaitingForCompletion", false, "TestFailoverCleanup")},
			"test_failover_cleanup snapshot shutdown unplanned_failover"},
		{"tested, source already off", planner.Live{Source: &planner.LiveSource{PowerState: "poweredOff"}, Item: item("Protected", "None", true, "TestFailover", "UnplannedFailover")},
			"snapshot unplanned_failover"},
		{"failed over, a state no source names", planner.Live{Source: &planner.LiveSource{PowerState: "poweredOff"}, Item: item("UnplannedFailoverCompleted", "None", true, "Commit", "CancelFailover")},
			""},
		// The vocabulary of the SDK examples (see providers/azure.States).
		{"replicating (UnprotectedStatesBegin)", planner.Live{Source: poweredOn(), Item: item("UnprotectedStatesBegin", "None", false, "DisableProtection")},
			"wait_protected test_failover test_failover_cleanup snapshot shutdown unplanned_failover"},
		{"test failover up (_TestFailover.json)", planner.Live{Source: poweredOn(), Item: &planner.LiveItem{ProtectionState: "Protected", TestFailoverState: "WaitingForCompletion",
			CurrentScenario: "TestFailover", AllowedOperations: []string{"TestFailoverCleanup"}}},
			"test_failover_cleanup snapshot shutdown unplanned_failover"},
		{"cleaned up (_TestFailoverCleanup.json)", planner.Live{Source: poweredOn(), Item: item("Protected", "MarkedForDeletion", true, "PlannedFailover", "UnplannedFailover", "DisableProtection", "TestFailover")},
			"snapshot shutdown unplanned_failover"},
		{"failed over (_UnplannedFailover.json)", planner.Live{Source: &planner.LiveSource{PowerState: "poweredOff"}, Item: item("UnplannedFailoverCommitPendingStatesBegin", "MarkedForDeletion", true, "CompleteMigration", "Commit", "DisableProtection", "ChangePit")},
			""},
		{"a failed failover is retried", planner.Live{Source: &planner.LiveSource{PowerState: "poweredOff"}, Item: item("UnplannedFailoverFailed", "MarkedForDeletion", true, "UnplannedFailover", "DisableProtection")},
			"snapshot unplanned_failover"},
		{"a state no source names, read from allowedOperations", planner.Live{Source: poweredOn(), Item: item("ProtectedButRenamed", "None", false, "TestFailover", "UnplannedFailover", "DisableProtection")},
			"test_failover test_failover_cleanup snapshot shutdown unplanned_failover"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, problems := planner.Build(rb, liveAll(rb, tt.live), planner.Options{Now: time.Unix(0, 0)})
			if len(problems) > 0 {
				t.Fatal(problems)
			}
			if got := kindsOf(p, "vm.db01"); got != tt.want {
				t.Errorf("steps:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestStatesThatCannotBePlanned: a busy item and a state that allows
// nothing the lifecycle knows are problems naming the state and what to do.
func TestStatesThatCannotBePlanned(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "quickstart")
	for _, tc := range []struct {
		name string
		it   *planner.LiveItem
		want []string
	}{
		{"busy", &planner.LiveItem{ProtectionState: "UnplannedFailoverInProgress", CurrentScenario: "UnplannedFailover"},
			[]string{"ASR job UnplannedFailover is running", "plan again when it ends"}},
		{"unknown", item("SomethingNew", "None", false, "RepairReplication"),
			[]string{`protectionState "SomethingNew"`, "RepairReplication", "finish or undo its last operation"}},
	} {
		_, problems := planner.Build(rb, liveAll(rb, planner.Live{Source: poweredOn(), Item: tc.it}), planner.Options{})
		if len(problems) != len(rb.VMs) {
			t.Fatalf("%s: problems %v", tc.name, problems)
		}
		for _, w := range tc.want {
			if !strings.Contains(problems[0].Reason, w) {
				t.Errorf("%s: %q lacks %q", tc.name, problems[0].Reason, w)
			}
		}
	}
}

// TestUnhealthyItemIsShown: the plan says when a failover it contains
// waits for replication health, with the service's errors.
func TestUnhealthyItemIsShown(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "quickstart")
	it := item("Protected", "None", false, "TestFailover", "UnplannedFailover")
	it.Unhealthy = "replicationHealth is Critical; 78186: The source stopped sending data."
	p, problems := planner.Build(rb, liveAll(rb, planner.Live{Source: poweredOn(), Item: it}), planner.Options{})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	for _, vm := range p.VMs {
		if len(vm.Warnings) != 1 || !strings.Contains(vm.Warnings[0], "78186: The source stopped sending data.") || !strings.Contains(vm.Warnings[0], "test_failover waits") {
			t.Errorf("%s: warnings %v", vm.Address, vm.Warnings)
		}
	}
}

func TestBackwardMoves(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "rehearsal") // billing01: stage replicating
	failedOver := planner.Live{Source: &planner.LiveSource{PowerState: "poweredOff"}, Item: item("UnplannedFailoverCompleted", "None", true, "Commit", "CancelFailover")}
	p, problems := planner.Build(rb, liveAll(rb, failedOver), planner.Options{})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if got := kindsOf(p, "vm.billing01"); got != "failover_cancel power_on" {
		t.Errorf("back from failover: %s", got)
	}

	committed := planner.Live{Source: &planner.LiveSource{PowerState: "poweredOff"}, Item: item("FailoverCommitted", "None", true, "CompleteMigration")}
	_, problems = planner.Build(rb, liveAll(rb, committed), planner.Options{})
	if len(problems) != 1 || !strings.Contains(problems[0].Reason, "point of no return") {
		t.Errorf("back from commit: %v", problems)
	}
}

func TestDependsOnOrdersFailovers(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "multi-tier")
	p, problems := planner.Build(rb, liveAll(rb, planner.Live{Source: poweredOn()}), planner.Options{})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	deps := map[string][]string{}
	pos := map[string]int{}
	for i, s := range p.Steps {
		deps[s.ID] = s.DependsOn
		pos[s.ID] = i
	}
	app := `vm.app["orders-app01"]`
	web := `vm.web["orders-web02"]`
	for _, c := range []struct{ step, dep string }{
		{app + ".unplanned_failover", "vm.db.unplanned_failover"},
		{app + ".test_failover", "vm.db.test_failover"},
		{web + ".unplanned_failover", app + ".unplanned_failover"},
		{app + ".unplanned_failover", app + ".test_failover_cleanup"},
		{"vm.db.unplanned_failover", "vm.db.shutdown"},
	} {
		if !contains(deps[c.step], c.dep) {
			t.Errorf("%s should depend on %s; depends on %v", c.step, c.dep, deps[c.step])
		}
		if pos[c.dep] > pos[c.step] {
			t.Errorf("%s is ordered before its dependency %s", c.step, c.dep)
		}
	}
	// The app tier leaves the shutdown to ASR (the default); db and web
	// shut down through vCenter and wait for a newer recovery point.
	shutdowns := 0
	for _, st := range p.Steps {
		switch st.Kind {
		case planner.StepShutdown:
			shutdowns++
			if strings.HasPrefix(st.VM, "vm.app") {
				t.Errorf("%s: the app tier has no vCenter shutdown", st.ID)
			}
		case planner.StepUnplannedFailover:
			asr := strings.HasPrefix(st.VM, "vm.app")
			wantShutdown, wantRP := "false", planner.RecoveryPointAfterShutdown
			if asr {
				wantShutdown, wantRP = "true", planner.RecoveryPointLatest
			}
			if st.Inputs["perform_shutdown"] != wantShutdown || st.Inputs["recovery_point"] != wantRP {
				t.Errorf("%s: inputs %v", st.ID, st.Inputs)
			}
		}
	}
	s := p.Summarize()
	if s.Replicate != 5 || s.Failover != 5 || shutdowns == 0 || s.Disruptive != 5+shutdowns || s.NoReturn != 0 {
		t.Errorf("summary = %+v with %d shutdowns", s, shutdowns)
	}
	for _, st := range p.Steps {
		if st.Disruptive && st.Window != "sat-night" {
			t.Errorf("%s is disruptive but bound to window %q", st.ID, st.Window)
		}
	}
}

func TestSettingsDriftPlansAnUpdate(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "csv-wave")
	it := item("Protected", "None", false, "TestFailover", "UnplannedFailover")
	vnet := "/subscriptions/22222222-3333-4444-5555-666666666666/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/hub-vnet"
	it.Settings = map[string]string{"size": "Standard_D2s_v5", "resource_group": "/subscriptions/x/resourceGroups/WAVE1-RG", "subnet": "old",
		"name": "wave1-web01", "network": vnet, "test_network": strings.Replace(vnet, "hub-vnet", "test-vnet", 1), "test_subnet": "test", "license_type": "WindowsServer",
		`nic["00:50:56:a1:00:01"].primary`: "true", `nic["00:50:56:a1:00:01"].static_ip`: "10.20.2.99",
		`vm_tags["wave"]`: "1", `vm_tags["tier"]`: "Web"}
	live := liveAll(rb, planner.Live{Source: poweredOn(), Item: it})
	p, _ := planner.Build(rb, live, planner.Options{Targets: []string{`vm.wave["wave1-web01"]`}})
	if len(p.VMs) != 1 {
		t.Fatalf("--target kept %d VMs", len(p.VMs))
	}
	var upd *planner.Step
	for i := range p.Steps {
		if p.Steps[i].Kind == planner.StepUpdateReplication {
			upd = &p.Steps[i]
		}
	}
	if upd == nil {
		t.Fatalf("no update step: %s", kindsOf(p, `vm.wave["wave1-web01"]`))
	}
	var got []string
	for _, c := range upd.Changes {
		got = append(got, c.Attribute+":"+c.Old+"->"+c.New)
	}
	// size differs (web01 is Standard_D4s_v5 in the CSV), the resource group
	// matches by name, subnet differs, and so does the NIC's static IP; it
	// is already the primary NIC. Tag values are compared exactly: "Web"
	// is not "web".
	want := `target.nic["00:50:56:a1:00:01"].static_ip:10.20.2.99->10.20.2.11 target.size:Standard_D2s_v5->Standard_D4s_v5 target.subnet:old->web target.vm_tags["tier"]:Web->web`
	if strings.Join(got, " ") != want {
		t.Errorf("changes:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestFingerprintDiffNamesTheChange(t *testing.T) {
	t.Parallel()
	a := planner.FingerprintOf(planner.Live{Source: poweredOn()})
	off := poweredOn()
	off.PowerState = "poweredOff"
	b := planner.FingerprintOf(planner.Live{Source: off})
	d := a.Diff(b)
	if len(d) != 1 || !strings.Contains(d[0], `power_state "poweredOn" -> "poweredOff"`) {
		t.Errorf("diff = %v", d)
	}
	if a.Diff(planner.FingerprintOf(planner.Live{Source: poweredOn()})) != nil {
		t.Error("equal states differ")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestTestFailoverNeedsATestNetwork: the plan never sends a test failover
// into the production network: a VM without a test network is a problem
// (the schema refuses it first; this holds for runbooks built otherwise),
// and the test failover shows the network it lands in.
func TestTestFailoverNeedsATestNetwork(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, testNetwork string
		allow, shown      bool
		problem           string
		network           string
	}{
		{name: "none", problem: "names no target test_network"},
		{name: "isolated", testNetwork: "test-vnet", network: "test-vnet"},
		{name: "isolated, allowance unused", testNetwork: "test-vnet", allow: true, network: "test-vnet"},
		{name: "production, allowed", testNetwork: "prod-vnet", allow: true, shown: true, network: "prod-vnet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rb := loadExample(t, "quickstart")
			for _, vm := range rb.VMs {
				vm.Stage = schema.StageTested
				vm.Target.Network = "prod-vnet"
				vm.Target.TestNetwork = tc.testNetwork
				vm.Target.AllowTestInProduction = tc.allow
			}
			it := item("Protected", "None", false, "TestFailover")
			p, problems := planner.Build(rb, liveAll(rb, planner.Live{Source: poweredOn(), Item: it}), planner.Options{})
			if tc.problem != "" {
				if len(problems) != len(rb.VMs) || !strings.Contains(problems[0].Error(), tc.problem) {
					t.Fatalf("problems %v, want each VM refused with %q", problems, tc.problem)
				}
				for _, s := range p.Steps {
					if s.Kind == planner.StepTestFailover {
						t.Fatalf("planned %s anyway", s.ID)
					}
				}
				return
			}
			if len(problems) > 0 {
				t.Fatal(problems)
			}
			n := 0
			for _, s := range p.Steps {
				if s.Kind != planner.StepTestFailover {
					continue
				}
				n++
				if s.Inputs["network"] != tc.network || (s.Inputs["allow_test_in_production"] == "true") != tc.shown {
					t.Errorf("%s inputs %v", s.ID, s.Inputs)
				}
			}
			if n != len(rb.VMs) {
				t.Fatalf("%d test failovers for %d VMs", n, len(rb.VMs))
			}
		})
	}
}

// TestStepsThatCannotFitTheirWindow: a disruptive step estimated longer
// than its window lasts (the default for its kind, or the window's own
// estimate) could never start, so its VM is a problem naming the step,
// the window and the fix; a declared estimate that fits lets it plan.
func TestStepsThatCannotFitTheirWindow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		duration  string
		estimates map[string]string
		want      []string // in every VM's problem; none: plans
	}{
		{"the default does not fit", "20m", nil,
			[]string{"unplanned_failover is estimated at 30m0s (the default for unplanned_failover)", `window "sat-night" lasts 20m`, `estimates { unplanned_failover = "..." }`}},
		{"a declared estimate fits", "20m", map[string]string{"unplanned_failover": "15m"}, nil},
		{"a long enough window", "6h", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rb := loadExample(t, "quickstart") // every VM: stage migrated, window sat-night
			rb.Windows[0].Duration = tc.duration
			rb.Windows[0].Estimates = tc.estimates
			p, problems := planner.Build(rb, liveAll(rb, planner.Live{Source: poweredOn()}), planner.Options{})
			if tc.want == nil {
				if len(problems) > 0 || len(p.VMs) != len(rb.VMs) {
					t.Fatalf("problems %v, %d VMs planned", problems, len(p.VMs))
				}
				return
			}
			if len(problems) != len(rb.VMs) {
				t.Fatalf("problems %v, want one per VM", problems)
			}
			for _, pr := range problems {
				for _, w := range tc.want {
					if !strings.Contains(pr.Reason, w) {
						t.Errorf("%s: %q lacks %q", pr.VM, pr.Reason, w)
					}
				}
			}
		})
	}
}
