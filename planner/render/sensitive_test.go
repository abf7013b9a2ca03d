package render_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"cutover/planner"
	"cutover/planner/render"
	"cutover/schema"
)

// canaryRunbook feeds sensitive inputs (a sensitive variable, env()) into
// the target name, size, subnet, test subnet, tags, the RPO bound and the
// rehearsal clone, each marked with a canary string that must never be
// rendered.
const canaryRunbook = `
runbook { name = "canary" }

variable "secret_name" {
  type      = string
  sensitive = true
}

variable "secret_rpo" {
  type      = string
  sensitive = true
  default   = "45m"
}

vcenter "dc1" {
  url      = "https://vc01.corp.example/sdk"
  username = "svc"
  password = env("VC_PASSWORD")
}

azure "migrate" {
  subscription_id = "11111111-2222-3333-4444-555555555555"
  vault           = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v"
  appliance       = "appliance-01"
}

window "night" {
  schedule = "0 22 * * SAT"
  duration = "6h"
}

vm "db01" {
  stage  = "completed"
  window = window.night
  source {
    snapshot_before_cutover = true
  }
  replication {
    policy              = "24-hour-replication-policy"
    max_rpo             = var.secret_rpo
    disk_type           = "Standard_LRS"
    log_storage_account = "logs"
  }
  target {
    name           = var.secret_name
    size           = env("CANARY_SIZE")
    resource_group = "rg"
    network        = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet"
    subnet         = env("CANARY_SUBNET")
    test_network   = "vnet-test"
    test_subnet    = env("CANARY_TEST_SUBNET")
    vm_tags = {
      owner = env("CANARY_TAG")
    }
  }
  rehearsal {
    name          = "db01-rehearsal"
    resource_pool = "/DC0/host/H0/Resources/rehearsal"
    customization {
      os       = "linux"
      hostname = env("CANARY_HOSTNAME")
    }
  }
}
`

// canary is a prefix every secret value shares, so one search finds any.
const canary = "CANARY7f3a"

var canaryEnv = map[string]string{
	"VC_PASSWORD":             canary + "-password",
	"CUTOVER_VAR_secret_name": canary + "-name",
	"CUTOVER_VAR_secret_rpo":  "17m13s", // the RPO bound: not canary-shaped, checked on its own (seconds, which no timeline figure shows)
	"CANARY_SIZE":             "Standard_" + canary + "_size",
	"CANARY_SUBNET":           canary + "-subnet",
	"CANARY_TEST_SUBNET":      canary + "-testsubnet",
	"CANARY_TAG":              canary + "-tag",
	"CANARY_HOSTNAME":         canary + "-host",
}

func canaryPlans(t *testing.T) []*planner.Plan {
	t.Helper()
	rb, diags := schema.LoadSources(t.TempDir(), map[string][]byte{"main.hcl": []byte(canaryRunbook)}, schema.Options{
		LookupEnv: func(k string) (string, bool) { v, ok := canaryEnv[k]; return v, ok },
	})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	vm := rb.VMs[0]
	for _, attr := range []string{"target.name", "target.size", "target.subnet", "target.test_subnet", "replication.max_rpo"} {
		if !vm.Sensitive.Has(attr) {
			t.Fatalf("the schema did not mark %s sensitive; the test would prove nothing", attr)
		}
	}
	// Drift where the live values are the secrets too: an update must not
	// show them as old values either.
	drift := protected()
	drift.Item.Settings = map[string]string{"name": canary + "-live-name", "size": canary + "-live-size", "subnet": canary + "-live-subnet", "resource_group": "rg"}
	lives := []planner.Live{discovered(), drift, tested(), failedOver()}
	var plans []*planner.Plan
	for _, l := range lives {
		plans = append(plans, build(t, rb, map[string]planner.Live{vm.Address: l}))
	}
	return plans
}

func TestSensitiveValuesAreNeverRendered(t *testing.T) {
	t.Parallel()
	plans := canaryPlans(t)
	var all bytes.Buffer
	for i, p := range plans {
		for _, name := range render.Formats {
			for _, colour := range []bool{false, true} {
				f, err := render.ByName(name, render.HumanOptions{Color: colour})
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if err := f(&buf, p); err != nil {
					t.Fatal(err)
				}
				all.Write(buf.Bytes())
				if strings.Contains(buf.String(), canary) {
					t.Errorf("plan %d, %s: a canary leaked:\n%s", i, name, buf.String())
				}
				if strings.Contains(buf.String(), "17m13s") {
					t.Errorf("plan %d, %s: the sensitive RPO bound leaked", i, name)
				}
			}
		}
		// Summarised comments, at every level down to the smallest.
		for _, max := range []int{4000, 3000, 2000, 1} {
			var buf bytes.Buffer
			if err := render.MarkdownWith(&buf, p, render.MarkdownOptions{MaxBytes: max}); err != nil {
				t.Fatal(err)
			}
			all.Write(buf.Bytes())
			if strings.Contains(buf.String(), canary) || strings.Contains(buf.String(), "17m13s") {
				t.Errorf("plan %d, markdown within %d bytes: a secret leaked:\n%s", i, max, buf.String())
			}
		}
		for _, q := range plans {
			var buf bytes.Buffer
			if err := render.Diff(&buf, p, q); err != nil {
				t.Fatal(err)
			}
			all.Write(buf.Bytes())
			if strings.Contains(buf.String(), canary) {
				t.Errorf("diff from plan %d: a canary leaked:\n%s", i, buf.String())
			}
		}
	}
	// The redaction must be visible, or the test would pass on a renderer
	// that silently dropped the fields.
	for _, want := range []string{
		`target_name = \(sensitive\)`,                                // human VM block
		`~ target\.size +?= \(sensitive\) -> \(sensitive\)`,          // human drift
		`"target\.size": "\(sensitive\)"`,                            // json inputs
		`RPO <= \(sensitive\)`,                                       // gate
		`\| \*\(sensitive\)\* \|`,                                    // markdown table cell
		`\n@@ -\d+(,\d+)? \+\d+(,\d+)? @@\n`,                         // diff: the line diff of renderings ran
		`> \[!NOTE\]\n> This plan, 1 VM and \d+ steps, is too large`, // a summarised comment
	} {
		if !regexp.MustCompile(want).MatchString(all.String()) {
			t.Errorf("no %q in any rendering", want)
		}
	}
}

func TestDiffHidesLivePlacementFedBySecrets(t *testing.T) {
	t.Parallel()
	vm := planner.VMPlan{Address: "vm.a", Sensitive: []string{"source.host"}}
	a := &planner.Plan{VMs: []planner.VMPlan{vm}}
	b := &planner.Plan{VMs: []planner.VMPlan{vm}}
	a.VMs[0].Fingerprint = planner.FingerprintOf(planner.Live{Source: &planner.LiveSource{Host: "/DC0/host/" + canary + "-old"}})
	b.VMs[0].Fingerprint = planner.FingerprintOf(planner.Live{Source: &planner.LiveSource{Host: "/DC0/host/" + canary + "-new"}})
	var buf bytes.Buffer
	if err := render.Diff(&buf, a, b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), canary) || !strings.Contains(buf.String(), "placement (sensitive) -> (sensitive)") {
		t.Errorf("diff:\n%s", buf.String())
	}
}

// A multi-line value of a sensitive attribute is shown as the placeholder,
// never as a line diff, in every rendering and in both parts of a diff:
// whether the planner flagged the change or only the VM's list of
// sensitive attributes covers it.
func TestMultilineSensitiveChangesStayHidden(t *testing.T) {
	t.Parallel()
	plan := func(suffix string) *planner.Plan {
		return &planner.Plan{
			VMs: []planner.VMPlan{{Address: "vm.a", Live: planner.LiveProtected, Desired: "protected", Sensitive: []string{"target.vm_tags"}}},
			Steps: []planner.Step{{ID: "vm.a.update_replication", VM: "vm.a", Kind: planner.StepUpdateReplication,
				Changes: []planner.Change{
					{Attribute: "target.vm_tags.motd", Old: "hello\n" + canary + "-old\nbye\n", New: "hello\n" + canary + "-new" + suffix + "\nbye\n"},
					{Attribute: "target.custom_data", Sensitive: true, Old: "#!/bin/sh\n" + canary + "-a\n", New: "#!/bin/sh\n" + canary + "-b" + suffix + "\n"},
				}}},
		}
	}
	a, b := plan(""), plan("-2")
	var all bytes.Buffer
	for _, name := range render.Formats {
		f, _ := render.ByName(name, render.HumanOptions{Color: true})
		if err := f(&all, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := render.Diff(&all, a, b); err != nil {
		t.Fatal(err)
	}
	if err := render.MarkdownWith(&all, a, render.MarkdownOptions{MaxBytes: -1}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(all.String(), canary) || strings.Contains(all.String(), "EOT") || strings.Contains(all.String(), "```diff") {
		t.Errorf("a sensitive multi-line value leaked or was diffed:\n%s", all.String())
	}
	if !strings.Contains(all.String(), "target.vm_tags.motd = (sensitive) -> (sensitive)") {
		t.Errorf("the change is not shown as hidden:\n%s", all.String())
	}
}
