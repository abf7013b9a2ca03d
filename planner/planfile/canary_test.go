package planfile_test

import (
	"strings"
	"testing"
	"time"

	"cutover/planner"
	"cutover/planner/planfile"
	"cutover/schema"
)

// TestPlanFileHoldsNoSecrets plans a VM whose target settings come from a
// sensitive variable and env(), at a live stage that exercises enable,
// drift and failover inputs, and checks the encoded plan file for the
// canary.
func TestPlanFileHoldsNoSecrets(t *testing.T) {
	t.Parallel()
	const canary = "Canary7Secret"
	src := `
variable "name" {
  type      = string
  sensitive = true
  default   = "` + canary + `-vm"
}
variable "subnet" {
  type      = string
  sensitive = true
  default   = "` + canary + `-subnet"
}
vcenter "dc1" {
  url      = "https://vc.example.com/sdk"
  password = env("PW")
}
azure "az" {
  vault     = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1"
  appliance = "a1"
}
vm "db" {
  stage = "migrated"
  source {
    snapshot_before_cutover = true
  }
  replication {
    policy              = "p"
    max_rpo             = env("RPO")
    disk_type           = "Standard_LRS"
    log_storage_account = "logs"
  }
  target {
    name           = var.name
    size           = env("SIZE")
    resource_group = "rg"
    network        = "vnet"
    subnet         = var.subnet
    test_network   = "vnet-test"
    test_subnet    = var.subnet
  }
}
vm "app" {
  target {
    name           = "${var.name}-app"
    resource_group = "rg"
  }
  replication {
    policy              = "p"
    disk_type           = "Standard_LRS"
    log_storage_account = "logs"
  }
}
`
	env := map[string]string{"PW": canary, "RPO": "30m", "SIZE": "Standard_" + canary}
	rb, diags := schema.LoadSources("rb", map[string][]byte{"rb/main.hcl": []byte(src)}, schema.Options{
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	on := &planner.LiveSource{PowerState: "poweredOn", ChangeVersion: "1"}
	for _, live := range []map[string]planner.Live{
		{"vm.db": {Source: on}, "vm.app": {Source: on}},
		{"vm.db": {Source: on, Item: &planner.LiveItem{ProtectionState: "Protected", Tested: true,
			AllowedOperations: []string{"UnplannedFailover"}, Settings: map[string]string{"name": canary + "-old", "subnet": canary + "-old"}}},
			"vm.app": {Source: on, Item: &planner.LiveItem{ProtectionState: "Protected", Settings: map[string]string{"name": canary}}}},
	} {
		p, problems := planner.Build(rb, live, planner.Options{Now: time.Unix(0, 0)})
		if len(problems) > 0 {
			t.Fatal(problems)
		}
		if len(p.Steps) == 0 {
			t.Fatal("the plan does nothing, so the test proves nothing")
		}
		b, err := planfile.Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), canary) {
			t.Errorf("the plan file holds a sensitive value:\n%s", b)
		}
		if !strings.Contains(string(b), "(sensitive)") {
			t.Errorf("nothing was marked sensitive; is the canary reaching the plan at all?\n%s", b)
		}
	}
}
