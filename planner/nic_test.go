package planner_test

import (
	"strings"
	"testing"

	"cutover/planner"
	"cutover/providers/azure"
	"cutover/schema"
)

func TestNICAttributeRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ key, field string }{
		{"00:50:56:aa:bb:cc", "static_ip"},
		{"4000-0001", "primary"},
		{`odd"key].x`, "test_subnet"},
	} {
		attr := planner.NICAttribute(tc.key, tc.field)
		for _, a := range []string{attr, strings.TrimPrefix(attr, "target.")} {
			key, field, ok := planner.ParseNICAttribute(a)
			if !ok || key != tc.key || field != tc.field {
				t.Errorf("%s parsed as %q %q %v", a, key, field, ok)
			}
		}
	}
	for _, a := range []string{"target.size", "target.subnet", `target.nic[00:50].ip`, "nic[\"x\"]"} {
		if _, _, ok := planner.ParseNICAttribute(a); ok {
			t.Errorf("%s parsed as a NIC attribute", a)
		}
	}
}

// TestNICSettings pairs nic blocks with replicated NICs by MAC (through
// the discovered machine, in any case and with dashes) or by NIC ID, and
// names the NICs there are when a block matches none.
func TestNICSettings(t *testing.T) {
	t.Parallel()
	yes := true
	m := &azure.Machine{NICs: []azure.MachineNIC{{ID: "nic-1", MAC: "00:50:56:aa:bb:01"}, {ID: "nic-2", MAC: "00:50:56:aa:bb:02"}}}
	it := &azure.ProtectedItem{VM: "web01", Target: azure.TargetSettings{NICs: []azure.NIC{
		{ID: "nic-1", Primary: true, TargetSubnet: "front", TargetIP: "10.0.0.4"},
		{ID: "nic-2", TargetSubnet: "back"},
	}}}
	vm := &schema.VM{Target: schema.Target{NICs: []schema.NIC{
		{MAC: "00-50-56-AA-BB-01", StaticIP: "10.0.0.5", Primary: &yes},
		{NICID: "nic-2", Subnet: "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v/subnets/back"},
	}}}
	want, have, err := planner.NICSettings(vm, m, it)
	if err != nil {
		t.Fatal(err)
	}
	k1, k2 := planner.NICAttribute("00-50-56-AA-BB-01", "static_ip"), planner.NICAttribute("nic-2", "subnet")
	if want[k1] != "10.0.0.5" || have[k1] != "10.0.0.4" {
		t.Errorf("static ip: want %q have %q", want[k1], have[k1])
	}
	if p := planner.NICAttribute("00-50-56-AA-BB-01", "primary"); want[p] != "true" || have[p] != "true" {
		t.Errorf("primary: want %q have %q", want[p], have[p])
	}
	if !planner.SameNICValue("subnet", want[k2], have[k2]) {
		t.Errorf("a subnet ID and its name differ: %q %q", want[k2], have[k2])
	}
	if len(want) != 3 || len(have) != 3 {
		t.Errorf("fields the runbook leaves unset were paired: %v %v", want, have)
	}

	vm.Target.NICs = append(vm.Target.NICs, schema.NIC{MAC: "00:50:56:ff:ff:ff", StaticIP: "10.0.0.9"})
	if _, _, err := planner.NICSettings(vm, m, it); err == nil || !strings.Contains(err.Error(), `nic "00:50:56:ff:ff:ff" is not a replicated NIC of web01`) ||
		!strings.Contains(err.Error(), "00:50:56:aa:bb:02") {
		t.Errorf("unknown NIC: %v", err)
	}
}

// TestNICSettingsFollowEnable: enabling takes no per-NIC settings, so a VM
// with nic blocks gets an update right after its enable, which the next
// step waits for.
func TestNICSettingsFollowEnable(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "multi-tier")
	p, problems := planner.Build(rb, liveAll(rb, planner.Live{Source: poweredOn()}), planner.Options{})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if got := kindsOf(p, "vm.db"); !strings.HasPrefix(got, "enable_replication update_replication wait_protected ") {
		t.Fatalf("vm.db steps: %s", got)
	}
	for _, s := range p.Steps {
		if s.VM != "vm.db" || s.Kind != planner.StepUpdateReplication {
			continue
		}
		var got []string
		for _, c := range s.Changes {
			got = append(got, c.Attribute+"="+c.New)
		}
		want := `target.nic["00:50:56:9a:10:01"].primary=true target.nic["00:50:56:9a:10:01"].static_ip=10.30.3.10`
		if strings.Join(got, " ") != want {
			t.Errorf("changes %s, want %s", strings.Join(got, " "), want)
		}
	}
	if got := kindsOf(p, `vm.app["orders-app01"]`); strings.Contains(got, "update_replication") {
		t.Errorf("a VM without nic blocks gets an update: %s", got)
	}
}

// TestEnableNeedsDiskSettings: a plan that would enable replication ASR
// refuses (no disk type or no log storage account for some disk) is a
// problem at plan time, naming what is missing.
func TestEnableNeedsDiskSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		repl    schema.Replication
		disks   []schema.Disk
		missing string
	}{
		{"defaults", schema.Replication{DiskType: "Premium_LRS", LogStorageAccount: "logs"}, nil, ""},
		{"every disk block", schema.Replication{DiskType: "Premium_LRS"}, []schema.Disk{{Label: "Hard disk 1", LogStorageAccount: "logs"}}, ""},
		{"no log storage", schema.Replication{DiskType: "Premium_LRS"}, nil, "replication.log_storage_account"},
		{"one disk block lacks it", schema.Replication{LogStorageAccount: "logs"}, []schema.Disk{{Label: "a", Type: "Premium_LRS"}, {Label: "b"}}, "replication.disk_type"},
		{"nothing", schema.Replication{}, nil, "replication.disk_type and replication.log_storage_account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rb := loadExample(t, "quickstart")
			for _, vm := range rb.VMs {
				vm.Replication.DiskType, vm.Replication.LogStorageAccount = tc.repl.DiskType, tc.repl.LogStorageAccount
				vm.Target.Disks = tc.disks
			}
			_, problems := planner.Build(rb, liveAll(rb, planner.Live{Source: poweredOn()}), planner.Options{})
			if tc.missing == "" {
				if len(problems) > 0 {
					t.Fatal(problems)
				}
				return
			}
			if len(problems) != len(rb.VMs) || !strings.Contains(problems[0].Reason, "enabling replication needs "+tc.missing+" (") {
				t.Fatalf("problems %v, want one per VM naming %s", problems, tc.missing)
			}
		})
	}
}

// TestInverseSkipsUpdateOfDisabledItem: rolling back an enable and the
// NIC update after it disables replication only; restoring settings on an
// item about to go would cost a job for nothing. An update alone is undone.
func TestInverseSkipsUpdateOfDisabledItem(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "multi-tier")
	before := []byte(`{"item":"machine-0001","settings":{"target.nic[\"00:50:56:9a:10:01\"].static_ip":""}}`)
	both := []planner.Applied{{ID: "vm.db.enable_replication", Before: []byte(`{"item":"machine-0001"}`)}, {ID: "vm.db.update_replication", Before: before}}
	p, notes := planner.Inverse(rb, both, nil, planner.Options{})
	if got := kindsOf(p, "vm.db"); got != "disable_replication" || len(notes) > 0 {
		t.Errorf("rollback of enable and update: %s %v", got, notes)
	}
	p, _ = planner.Inverse(rb, both[1:], nil, planner.Options{})
	if got := kindsOf(p, "vm.db"); got != "update_replication" {
		t.Errorf("rollback of an update alone: %s", got)
	}
}

// TestEnableOnlySettingsWarn: a runbook setting that differs from what
// the item was enabled with, where ASR takes no change, is a warning on
// the VM (no step); disk defaults are not compared for a VM with disk
// blocks, and a sensitive value is not shown.
func TestEnableOnlySettingsWarn(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "quickstart")
	fixed := map[string]string{"replication.policy": "24-hour-replication-policy", "replication.disk_type": "Standard_LRS",
		"replication.log_storage_account": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/migrate-rg/providers/Microsoft.Storage/storageAccounts/MIGRATELOGS01"}
	it := item("Protected", "None", true, "UnplannedFailover")
	it.EnableOnly = fixed
	p, problems := planner.Build(rb, liveAll(rb, planner.Live{Source: poweredOn(), Item: it}), planner.Options{})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	for _, vm := range p.VMs {
		// The quickstart asks for Premium_LRS; the log storage account
		// matches, in another case.
		if len(vm.Warnings) != 1 || !strings.HasPrefix(vm.Warnings[0], `replication.disk_type is "Premium_LRS" in the runbook but "Standard_LRS" in ASR`) {
			t.Errorf("%s: warnings %q", vm.Address, vm.Warnings)
		}
	}

	db := rb.VMs[0]
	db.Target.Disks = []schema.Disk{{Label: "Hard disk 1", Type: "Premium_LRS", LogStorageAccount: "x"}}
	other := rb.VMs[1]
	other.Sensitive = schema.Attrs{"replication.disk_type": true}
	p, _ = planner.Build(rb, liveAll(rb, planner.Live{Source: poweredOn(), Item: it}), planner.Options{})
	for _, vm := range p.VMs {
		switch vm.Address {
		case db.Address:
			if len(vm.Warnings) != 0 {
				t.Errorf("a VM with disk blocks is compared on its disk defaults: %q", vm.Warnings)
			}
		case other.Address:
			if len(vm.Warnings) != 1 || strings.Contains(vm.Warnings[0], "LRS") {
				t.Errorf("a sensitive disk type is shown: %q", vm.Warnings)
			}
		}
	}
}
