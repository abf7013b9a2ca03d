package action_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"cutover/executor/action"
	"cutover/planner"
	"cutover/providers/azure"
	"cutover/schema"
)

const sub = "aaaaaaaa-0000-0000-0000-000000000001"

// webRunbook names its target resources by bare name and maps one disk.
const webRunbook = `
variable "size" {
  type      = string
  default   = "Standard_D2s_v5"
  sensitive = true
}

vcenter "dc1" {
  url      = "https://vc.example/sdk"
  username = "administrator@vsphere.local"
}

azure "az" {
  subscription_id = "` + sub + `"
  vault           = "/subscriptions/` + sub + `/resourceGroups/mig-rg/providers/Microsoft.RecoveryServices/vaults/vault-1"
  appliance       = "appliance-01"
}

vm "web01" {
  stage = "replicating"
  replication {
    policy              = "24-hour-replication-policy"
    run_as_account      = "vcenter-runas"
    disk_type           = "Standard_LRS"
    log_storage_account = "cachesa"
  }
  target {
    name             = "web01-az"
    resource_group   = "web-rg"
    network          = "web-vnet"
    subnet           = "front"
    availability_set = "web-as"
    size             = var.size
    vm_tags          = { wave = "1" }
    disk {
      id   = "6000C290-0001-0001-0000-000000000000"
      type = "Premium_LRS"
    }
  }
}
`

func loadWeb(t *testing.T) *schema.Runbook {
	t.Helper()
	rb, diags := schema.LoadSources(t.TempDir(), map[string][]byte{"main.hcl": []byte(webRunbook)}, schema.Options{
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return rb
}

// TestEnableThenUpdate checks the enable input built from the runbook
// (bare names expanded to IDs, policy and run-as account resolved, the
// mapped disk overriding the default) and an update planned from drift.
func TestEnableThenUpdate(t *testing.T) {
	t.Parallel()
	rb := loadWeb(t)
	f := openWorld(t, rb, 0.001)
	r, env := f.runner(t)
	ctx := ctxT(t)
	az := env.Azures["az"]

	p := f.plan(t, env)
	enable := step(t, p, "vm.web01", planner.StepEnableReplication)
	st, err := r.Start(ctx, enable)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Wait(ctx, enable, st.Handle, nil); err != nil {
		t.Fatal(err)
	}
	var h action.Handle
	if err := json.Unmarshal(st.Handle, &h); err != nil || h.Azure == nil {
		t.Fatalf("enable handle %s", st.Handle)
	}
	it, err := az.GetProtectedItem(ctx, h.Azure.Item)
	if err != nil {
		t.Fatal(err)
	}
	rg := "/subscriptions/" + sub + "/resourceGroups/web-rg"
	tg := it.Target
	for _, c := range []struct{ name, got, want string }{
		{"vm name", tg.VMName, "web01-az"},
		{"resource group", tg.ResourceGroupID, rg},
		{"network", tg.NetworkID, rg + "/providers/Microsoft.Network/virtualNetworks/web-vnet"},
		{"subnet", tg.Subnet, "front"},
		{"availability set", tg.AvailabilitySetID, rg + "/providers/Microsoft.Compute/availabilitySets/web-as"},
		{"size", tg.VMSize, "Standard_D2s_v5"},
		{"tag", tg.Tags["wave"], "1"},
		{"policy", it.PolicyName, "24-hour-replication-policy"},
	} {
		if !strings.EqualFold(c.got, c.want) {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if it.RunAsAccountID == "" {
		t.Error("no run-as account sent")
	}
	if len(tg.Disks) != 2 {
		t.Fatalf("disks %+v, want both", tg.Disks)
	}
	for _, d := range tg.Disks {
		want := "Standard_LRS"
		if strings.EqualFold(d.ID, "6000C290-0001-0001-0000-000000000000") {
			want = "Premium_LRS"
		}
		if d.Type != want || d.LogStorageAccountID != rg+"/providers/Microsoft.Storage/storageAccounts/cachesa" {
			t.Errorf("disk %s: %s %s", d.ID, d.Type, d.LogStorageAccountID)
		}
	}

	// Change the runbook: a bigger size and another subnet.
	vm := vmOf(t, rb, "vm.web01")
	vm.Target.Size, vm.Target.Subnet = "Standard_D4s_v5", "back"
	p = f.plan(t, env)
	up := step(t, p, "vm.web01", planner.StepUpdateReplication)
	for _, c := range up.Changes {
		if c.Attribute == "target.size" && (!c.Sensitive || c.New != "(sensitive)") {
			t.Fatalf("the plan shows a sensitive size: %+v", c)
		}
	}
	if done, err := r.Done(ctx, up); err != nil || done {
		t.Fatalf("update done before start (%v)", err)
	}
	st, err = r.Start(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	var before action.TargetBefore
	// The size comes from a sensitive variable: the plan shows it
	// redacted, the update still sends the runbook's value, and the
	// before-image keeps only the subnet.
	if err := json.Unmarshal(st.Before, &before); err != nil || before.Settings["target.subnet"] != "front" {
		t.Fatalf("update before-image %s (%v)", st.Before, err)
	}
	if _, ok := before.Settings["target.size"]; ok || strings.Contains(string(st.Before)+string(st.Handle), "Standard_D") {
		t.Fatalf("a sensitive value reached the journal: %s %s", st.Before, st.Handle)
	}
	if err := r.Wait(ctx, up, st.Handle, nil); err != nil {
		t.Fatal(err)
	}
	if done, err := r.Done(ctx, up); err != nil || !done {
		t.Fatalf("update not done after wait (%v)", err)
	}
	it, err = az.GetProtectedItem(ctx, h.Azure.Item)
	if err != nil {
		t.Fatal(err)
	}
	if it.Target.VMSize != "Standard_D4s_v5" || it.Target.Subnet != "back" {
		t.Fatalf("after update: size %s subnet %s", it.Target.VMSize, it.Target.Subnet)
	}

	// Roll the update back as `cutover rollback` plans it: the inverse
	// sends the before-image's subnet, not the runbook's, and leaves the
	// sensitive size (which the before-image does not hold) alone.
	inv, _ := planner.Inverse(rb, []planner.Applied{{ID: up.ID, Before: st.Before}}, nil, planner.Options{Now: time.Now()})
	if len(inv.Steps) != 1 || inv.Steps[0].Kind != planner.StepUpdateReplication {
		t.Fatalf("inverse of the update: %+v", inv.Steps)
	}
	undo := inv.Steps[0]
	if done, err := r.Done(ctx, undo); err != nil || done {
		t.Fatalf("the inverse update is done before it ran (%v): it compares with the runbook, not the before-image", err)
	}
	st, err = r.Start(ctx, undo)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Wait(ctx, undo, st.Handle, nil); err != nil {
		t.Fatal(err)
	}
	if done, err := r.Done(ctx, undo); err != nil || !done {
		t.Fatalf("inverse update not done after wait (%v)", err)
	}
	if it, err = az.GetProtectedItem(ctx, h.Azure.Item); err != nil {
		t.Fatal(err)
	}
	if it.Target.Subnet != "front" || it.Target.VMSize != "Standard_D4s_v5" {
		t.Fatalf("after rollback: subnet %s (want front), size %s (want the runbook's, untouched)", it.Target.Subnet, it.Target.VMSize)
	}
}

// TestNICSettingsAfterEnable runs the update a nic block plans after the
// enable: the NIC the block's MAC names gets its static IP, is sent with
// isPrimaryNic (which ASR requires), and the inverse puts the Azure-chosen
// address back.
func TestNICSettingsAfterEnable(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "multi-tier")
	f := openWorld(t, rb, 0.001)
	r, env := f.runner(t)
	ctx := ctxT(t)
	az := env.Azures["migrate"]
	p := f.plan(t, env)

	run := func(s planner.Step) action.Started { return runToDone(t, ctx, r, s) }
	enabled := run(step(t, p, "vm.db", planner.StepEnableReplication))
	var h action.Handle
	if err := json.Unmarshal(enabled.Handle, &h); err != nil || h.Azure == nil {
		t.Fatalf("enable handle %s", enabled.Handle)
	}
	nicOf := func() azure.NIC {
		t.Helper()
		it, err := az.GetProtectedItem(ctx, h.Azure.Item)
		if err != nil || len(it.Target.NICs) != 1 {
			t.Fatalf("item NICs: %+v %v", it, err)
		}
		return it.Target.NICs[0]
	}
	if n := nicOf(); n.TargetIP != "" {
		t.Fatalf("enable set a static IP already: %+v", n)
	}

	up := step(t, p, "vm.db", planner.StepUpdateReplication)
	if done, err := r.Done(ctx, up); err != nil || done {
		t.Fatalf("the NIC update is done before it ran (%v)", err)
	}
	st := run(up)
	if n := nicOf(); n.TargetIP != "10.30.3.10" || !n.Primary || n.TargetSubnet != "data" {
		t.Fatalf("after the update the NIC is %+v, want 10.30.3.10, primary, subnet data", n)
	}

	inv, _ := planner.Inverse(rb, []planner.Applied{{ID: up.ID, Before: st.Before}}, nil, planner.Options{Now: time.Now()})
	if len(inv.Steps) != 1 {
		t.Fatalf("inverse: %+v", inv.Steps)
	}
	run(inv.Steps[0])
	if n := nicOf(); n.TargetIP != "" || !n.Primary {
		t.Fatalf("after the inverse the NIC is %+v, want no static IP, still primary", n)
	}
}

// TestPrimaryNICMovesAndBack: a nic block that makes the second NIC
// primary demotes the first in the same request, and the inverse promotes
// the first again.
func TestPrimaryNICMovesAndBack(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "multi-tier")
	yes := true
	vmOf(t, rb, "vm.db").Target.NICs = []schema.NIC{
		{MAC: "00:50:56:9a:10:01", StaticIP: "10.30.3.10"},
		{MAC: "00:50:56:9a:10:02", Primary: &yes},
	}
	f := openWorld(t, rb, 0.001)
	r, env := f.runner(t)
	ctx := ctxT(t)
	az := env.Azures["migrate"]
	p := f.plan(t, env)

	run := func(s planner.Step) action.Started { return runToDone(t, ctx, r, s) }
	var h action.Handle
	if err := json.Unmarshal(run(step(t, p, "vm.db", planner.StepEnableReplication)).Handle, &h); err != nil || h.Azure == nil {
		t.Fatal("no enable handle")
	}
	primaries := func() string {
		t.Helper()
		it, err := az.GetProtectedItem(ctx, h.Azure.Item)
		if err != nil || len(it.Target.NICs) != 2 {
			t.Fatalf("item NICs: %+v %v", it, err)
		}
		return fmt.Sprintf("%v %v %s", it.Target.NICs[0].Primary, it.Target.NICs[1].Primary, it.Target.NICs[0].TargetIP)
	}
	if got := primaries(); got != "true false " {
		t.Fatalf("after enable: %s", got)
	}
	up := step(t, p, "vm.db", planner.StepUpdateReplication)
	st := run(up)
	if got := primaries(); got != "false true 10.30.3.10" {
		t.Fatalf("after the update: primary flags and first IP %s, want false true 10.30.3.10", got)
	}
	inv, _ := planner.Inverse(rb, []planner.Applied{{ID: up.ID, Before: st.Before}}, nil, planner.Options{Now: time.Now()})
	run(inv.Steps[0])
	if got := primaries(); got != "true false " {
		t.Fatalf("after the inverse: %s, want the first NIC primary again and no static IP", got)
	}
}

// TestTagsEndToEnd: vm_tags, nic_tags and disk_tags (and the security
// profile and multi-VM group) reach ASR at enable; a
// changed tag is planned as a change of that one tag and updated with the
// others kept; the inverse puts the old value back and removes a tag that
// was not there.
func TestTagsEndToEnd(t *testing.T) {
	t.Parallel()
	rb := loadWeb(t)
	vm := vmOf(t, rb, "vm.web01")
	vm.Target.NICTags = map[string]string{"team": "net"}
	vm.Target.DiskTags = map[string]string{"backup": "daily"}
	yes, no := true, false
	vm.Target.SecurityType, vm.Target.SecureBoot, vm.Target.TPM = "TrustedLaunch", &yes, &no
	vm.Replication.MultiVMGroup = "web-tier"
	f := openWorld(t, rb, 0.001)
	r, env := f.runner(t)
	ctx := ctxT(t)
	az := env.Azures["az"]

	run := func(s planner.Step) action.Started { return runToDone(t, ctx, r, s) }
	var h action.Handle
	if err := json.Unmarshal(run(step(t, f.plan(t, env), "vm.web01", planner.StepEnableReplication)).Handle, &h); err != nil || h.Azure == nil {
		t.Fatal("no enable handle")
	}
	tags := func() string {
		t.Helper()
		it, err := az.GetProtectedItem(ctx, h.Azure.Item)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(it.Target.Tags, it.Target.NICTags, it.Target.DiskTags)
	}
	if got := tags(); got != "map[wave:1] map[team:net] map[backup:daily]" {
		t.Fatalf("after enable: %s", got)
	}
	it, err := az.GetProtectedItem(ctx, h.Azure.Item)
	if err != nil {
		t.Fatal(err)
	}
	if tg := it.Target; tg.SecurityType != "TrustedLaunch" || tg.SecureBoot == nil || !*tg.SecureBoot || tg.TPM == nil || *tg.TPM || it.MultiVMGroup != "web-tier" {
		t.Fatalf("after enable: security %s secure boot %v tpm %v, group %q", tg.SecurityType, tg.SecureBoot, tg.TPM, it.MultiVMGroup)
	}

	vm.Target.VMTags = map[string]string{"wave": "2", "owner": "ops"}
	up := step(t, f.plan(t, env), "vm.web01", planner.StepUpdateReplication)
	var changes []string
	for _, c := range up.Changes {
		changes = append(changes, c.Attribute+"="+c.Old+"->"+c.New)
	}
	if got := strings.Join(changes, " "); got != `target.vm_tags["owner"]=->ops target.vm_tags["wave"]=1->2` {
		t.Fatalf("planned changes: %s", got)
	}
	st := run(up)
	if got := tags(); got != "map[owner:ops wave:2] map[team:net] map[backup:daily]" {
		t.Fatalf("after the update: %s", got)
	}
	inv, _ := planner.Inverse(rb, []planner.Applied{{ID: up.ID, Before: st.Before}}, nil, planner.Options{Now: time.Now()})
	run(inv.Steps[0])
	if got := tags(); got != "map[wave:1] map[team:net] map[backup:daily]" {
		t.Fatalf("after the inverse: %s", got)
	}
}
