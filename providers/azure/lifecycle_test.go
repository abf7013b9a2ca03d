package azure

import (
	"slices"
	"testing"

	"cutover/providers/azure/azuresim"
)

func mustAllow(t *testing.T, step string, it *ProtectedItem, state, tfo string, allowed ...string) {
	t.Helper()
	if it == nil {
		t.Fatalf("%s: no item", step)
	}
	if it.ProtectionState != state {
		t.Fatalf("%s: protection state %q, want %q", step, it.ProtectionState, state)
	}
	if tfo != "" && it.TestFailoverState != tfo {
		t.Fatalf("%s: test failover state %q, want %q", step, it.TestFailoverState, tfo)
	}
	got := slices.Clone(it.AllowedOperations)
	slices.Sort(got)
	want := slices.Clone(allowed)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%s: allowedOperations %v, want %v", step, got, want)
	}
}

// TestLifecycle drives one VM from discovery to completed migration through
// the generated SDK over HTTPS, checking state and the gate after each step.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	w := newWorld(t, azuresim.DefaultSeed(3), azuresim.Options{})
	c := w.client(t)
	ctx := ctx(t)

	tg, err := c.Resolve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tg.FabricName != w.seed.Fabric || tg.ProcessServerID != w.seed.ProcessServerID || tg.ContainerName != w.seed.Containers[0] {
		t.Fatalf("resolved %+v", tg)
	}
	m, err := c.FindMachine(ctx, "VM-0002")
	if err != nil {
		t.Fatal(err)
	}
	pol, err := c.Policy(ctx, "24-hour-replication-policy")
	if err != nil {
		t.Fatal(err)
	}
	runas, err := c.FindRunAsAccount(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	logSA := "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/cache"
	var progressSeen int
	h, err := c.EnableReplication(ctx, EnableInput{
		Machine: m, PolicyID: pol.ID, RunAsAccountID: runas.ID,
		Target: TargetSettings{
			VMName: "app-az", VMSize: "Standard_D2s_v3", ResourceGroupID: "/subscriptions/x/resourceGroups/target",
			NetworkID: "/subscriptions/x/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/prod", Subnet: "default",
			TestNetworkID: "/subscriptions/x/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/test", TestSubnet: "test",
			SecurityType: "TrustedLaunch", Tags: map[string]string{"wave": "1"},
		},
		Disks: []DiskInput{{ID: m.Disks[0].ID, Type: "Premium_LRS", LogStorageAccountID: logSA}, {ID: m.Disks[1].ID, Type: "Standard_LRS", LogStorageAccountID: logSA}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if h.ResumeToken == "" || h.JobID == "" {
		t.Fatalf("handle lacks token or job: %+v", h)
	}
	it, err := c.Wait(ctx, h, func(Progress) { progressSeen++ })
	if err != nil {
		t.Fatal(err)
	}
	if progressSeen == 0 {
		t.Fatal("no progress reported while waiting for enable")
	}
	if it.ProtectionState != azuresim.StateInitialReplication && it.ProtectionState != azuresim.StateProtected {
		t.Fatalf("after enable: %s", it.ProtectionState)
	}
	if it.Target.VMName != "app-az" || it.Target.SecurityType != "TrustedLaunch" || it.Target.Tags["wave"] != "1" || len(it.Target.Disks) != 2 || it.Target.Subnet != "default" {
		t.Fatalf("target settings not kept: %+v", it.Target)
	}
	it, err = c.WaitForState(ctx, it.Name, nil, azuresim.StateProtected)
	if err != nil {
		t.Fatal(err)
	}
	mustAllow(t, "protected", it, azuresim.StateProtected, "None", "TestFailover", "UnplannedFailover", "DisableProtection")
	if len(it.HealthErrors) == 0 || it.HealthErrors[0].Code != "161011" {
		t.Fatalf("want the no-test-failover warning, got %+v", it.HealthErrors)
	}
	if it.LastRecoveryPointID == "" || it.InitialReplicationPercent == nil || *it.InitialReplicationPercent != 100 {
		t.Fatalf("replication telemetry missing: rp=%q ir=%v", it.LastRecoveryPointID, it.InitialReplicationPercent)
	}

	size, ip := "Standard_D4s_v3", "10.1.0.10"
	yes := true
	h, err = c.UpdateReplication(ctx, it, UpdateInput{VMSize: &size, NICs: []NICInput{{ID: it.Target.NICs[0].ID, Primary: &yes, Selected: &yes, TargetIP: &ip}}})
	if err != nil {
		t.Fatal(err)
	}
	it, err = c.Wait(ctx, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	if it.Target.VMSize != size || it.Target.NICs[0].TargetIP != ip || !it.Target.NICs[0].Primary {
		t.Fatalf("update not applied: %+v", it.Target)
	}
	mustAllow(t, "updated", it, azuresim.StateProtected, "None", "TestFailover", "UnplannedFailover", "DisableProtection")

	steps := []struct {
		name       string
		start      func(*ProtectedItem) (Handle, error)
		state, tfo string
		allowed    []string
	}{
		{"test failover", func(it *ProtectedItem) (Handle, error) { return c.TestFailover(ctx, it, TestFailoverInput{}) },
			azuresim.StateProtected, "WaitingForCompletion", []string{"TestFailoverCleanup"}},
		{"cleanup", func(it *ProtectedItem) (Handle, error) { return c.TestFailoverCleanup(ctx, it, "validated") },
			azuresim.StateProtected, "MarkedForDeletion", []string{"TestFailover", "UnplannedFailover", "DisableProtection"}},
		{"unplanned failover", func(it *ProtectedItem) (Handle, error) {
			return c.UnplannedFailover(ctx, it, UnplannedFailoverInput{PerformShutdown: true, RecoveryPointID: it.LastRecoveryPointID})
		}, azuresim.StateFailedOver, "", []string{"Commit", "CompleteMigration", "DisableProtection", "ChangePit", "SwitchProtection"}},
		{"commit", func(it *ProtectedItem) (Handle, error) { return c.FailoverCommit(ctx, it) },
			azuresim.StateCommitted, "", []string{"DisableProtection", "CompleteMigration", "Failback"}},
	}
	for _, st := range steps {
		h, err := st.start(it)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if h.JobID == "" {
			t.Fatalf("%s: no job ID in handle", st.name)
		}
		it, err = c.Wait(ctx, h, nil)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		mustAllow(t, st.name, it, st.state, st.tfo, st.allowed...)
		if st.name == "cleanup" {
			if len(it.HealthErrors) != 0 || it.LastTestFailover.IsZero() {
				t.Fatalf("after cleanup the test failover warning should be gone: %+v", it.HealthErrors)
			}
		}
	}

	before := len(w.sim.Requests())
	h, err = c.DisableReplication(ctx, it, DisableOptions{MigrationComplete: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Wait(ctx, h, nil); err != nil || got != nil {
		t.Fatalf("disable: item %v, err %v", got, err)
	}
	for _, r := range w.sim.Requests()[before:] {
		if r.Method == "DELETE" {
			t.Fatalf("disable sent a purge: %+v", r)
		}
	}
	if _, err := c.GetProtectedItem(ctx, it.Name); KindOf(err) != KindNotFound {
		t.Fatalf("item still there after disable: %v", err)
	}
}

// TestInitialReplicationProgress: waiting for Protected reports the initial
// replication percentage as it grows.
func TestInitialReplicationProgress(t *testing.T) {
	t.Parallel()
	w := newWorld(t, azuresim.DefaultSeed(1), azuresim.Options{TimeScale: 0.02})
	c := w.client(t)
	ctx := ctx(t)
	m, err := c.FindMachine(ctx, "vm-0001")
	if err != nil {
		t.Fatal(err)
	}
	pol, err := c.Policy(ctx, "12-hour-replication-policy")
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.EnableReplication(ctx, EnableInput{Machine: m, PolicyID: pol.ID, Target: TargetSettings{ResourceGroupID: "/subscriptions/x/resourceGroups/t"},
		DisksDefault: &DiskInput{Type: "StandardSSD_LRS", LogStorageAccountID: "/subscriptions/x/resourceGroups/t/providers/Microsoft.Storage/storageAccounts/c"}})
	if err != nil {
		t.Fatal(err)
	}
	var during []int
	it, err := c.WaitForState(ctx, h.Item, func(p Progress) {
		if p.Status == azuresim.StateInitialReplication && p.Percent != nil {
			during = append(during, *p.Percent)
		}
	}, azuresim.StateProtected)
	if err != nil {
		t.Fatal(err)
	}
	if len(during) < 2 || !slices.IsSorted(during) || during[len(during)-1] >= 100 {
		t.Fatalf("initial replication progress %v", during)
	}
	if it.PolicyName != "12-hour-replication-policy" || it.Target.Disks[0].Type != "StandardSSD_LRS" {
		t.Fatalf("item %+v", it)
	}
}
