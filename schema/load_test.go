package schema_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"cutover/schema"
)

func loadValid(t *testing.T, dir string, opts schema.Options) *schema.Runbook {
	t.Helper()
	rb, diags := schema.LoadDir(dir, opts)
	if diags.HasErrors() {
		t.Fatalf("unexpected errors:\n%s", describe(diags))
	}
	return rb
}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func vmByAddress(t *testing.T, rb *schema.Runbook, addr string) *schema.VM {
	t.Helper()
	for _, vm := range rb.VMs {
		if vm.Address == addr {
			return vm
		}
	}
	var have []string
	for _, vm := range rb.VMs {
		have = append(have, vm.Address)
	}
	t.Fatalf("no %s; have %v", addr, have)
	return nil
}

func TestLoadFull(t *testing.T) {
	t.Parallel()
	rb := loadValid(t, filepath.Join("testdata", "valid", "full"), schema.Options{
		LookupEnv: envOf(map[string]string{"VC_USER": "svc", "VC_PASSWORD": "pw"}),
	})

	var addrs []string
	for _, vm := range rb.VMs {
		addrs = append(addrs, vm.Address)
	}
	want := `vm.db vm.app["app01"] vm.app["app02"] vm.web[0] vm.web[1]`
	if got := strings.Join(addrs, " "); got != want {
		t.Errorf("addresses = %s, want %s", got, want)
	}

	db := vmByAddress(t, rb, "vm.db")
	if db.Source.VCenter != "dc2" || db.Source.Moref != "vm-42" || db.Source.Name != "" {
		t.Errorf("db source = %+v", db.Source)
	}
	if db.Target.Size != "Standard_E8s_v5" {
		t.Errorf("vm size should override the default, got %q", db.Target.Size)
	}
	if db.Target.ResourceGroup != "w1-rg" || db.Replication.DiskType != "StandardSSD_LRS" {
		t.Errorf("defaults not merged: rg %q disk type %q", db.Target.ResourceGroup, db.Replication.DiskType)
	}
	if db.Stage != schema.StageCompleted || db.Window != "w" {
		t.Errorf("db stage %q window %q", db.Stage, db.Window)
	}

	app2 := vmByAddress(t, rb, `vm.app["app02"]`)
	if app2.Source.VCenter != "dc2" || app2.Source.Name != "app02" || app2.Target.Name != "app02" {
		t.Errorf("for_each instance decoded wrong: source %+v target name %q", app2.Source, app2.Target.Name)
	}
	if app2.Target.Size != "Standard_D8s_v5" || app2.Replication.DiskType != "Premium_LRS" {
		t.Errorf("app02 size %q disk type %q", app2.Target.Size, app2.Replication.DiskType)
	}
	if got := app2.Target.VMTags["motd"]; got != "wave 1 is live" {
		t.Errorf("templatefile gave %q", got)
	}
	if !app2.Sensitive.Has("target.vm_tags") {
		t.Errorf("vm_tags holds a sensitive variable but is not marked sensitive: %v", app2.Sensitive)
	}
	if fmt.Sprint(app2.DependsOn) != "[vm.db]" {
		t.Errorf("app depends_on = %v", app2.DependsOn)
	}

	web1 := vmByAddress(t, rb, "vm.web[1]")
	if web1.Source.Name != "web-1" || web1.Key != "1" {
		t.Errorf("count instance: source name %q key %q", web1.Source.Name, web1.Key)
	}
	if fmt.Sprint(web1.DependsOn) != `[vm.app["app02"]]` {
		t.Errorf("web depends_on = %v", web1.DependsOn)
	}
	if web1.Stage != schema.StageReplicating {
		t.Errorf("default stage = %q, want replicating", web1.Stage)
	}

	dc1 := rb.VCenters[0]
	if dc1.Password.Reveal() != "pw" || !dc1.Sensitive.Has("password") || !dc1.Sensitive.Has("username") {
		t.Errorf("dc1 = %+v", dc1)
	}
	if az := rb.Azures[0]; az.SubscriptionID != "00000000-0000-0000-0000-000000000009" || az.Credential != "token" || az.WriteBurst != 100 || az.WritesPerSecond != 5 {
		t.Errorf("azure: subscription %q (should come from the vault ID), credential %q, write budget %d / %g per s", az.SubscriptionID, az.Credential, az.WriteBurst, az.WritesPerSecond)
	}
	if rb.Name != "full" || len(rb.Hash) != 64 {
		t.Errorf("name %q hash %q", rb.Name, rb.Hash)
	}
}

func TestVariablePrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, "main.hcl", `
variable "a" {
  default = "default"
}
variable "b" {
  default = "default"
}
variable "c" {
  default = "default"
}
variable "n" {
  type    = list(number)
  default = []
}
`)
	varFile := write(t, dir, "vars.tfvars", "b = \"file\"\nc = \"file\"\n")
	rb, diags := schema.LoadDir(dir, schema.Options{
		LookupEnv: envOf(map[string]string{"CUTOVER_VAR_a": "env", "CUTOVER_VAR_b": "env", "CUTOVER_VAR_n": "[1, 2]"}),
		VarFiles:  []string{varFile},
		Vars:      []string{"c=cli"},
	})
	if diags.HasErrors() {
		t.Fatal(describe(diags))
	}
	got := map[string]string{}
	for _, v := range rb.Variables {
		got[v.Name] = v.Source + ":" + v.Value.GoString()
	}
	want := map[string]string{
		"a": `env:cty.StringVal("env")`,
		"b": varFile + `:cty.StringVal("file")`,
		"c": `cli:cty.StringVal("cli")`,
		"n": `env:cty.ListVal([]cty.Value{cty.NumberIntVal(1), cty.NumberIntVal(2)})`,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("var %s = %s, want %s", k, got[k], w)
		}
	}
}

func TestVarErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, "main.hcl", "variable \"a\" {\n  type = number\n  default = 1\n}\n")
	tests := []struct {
		vars []string
		want string
	}{
		{[]string{"b=1"}, "Value for undeclared variable"},
		{[]string{"novalue"}, "Invalid --var option"},
		{[]string{"a=one"}, "Invalid value for variable"},
	}
	for _, tt := range tests {
		_, diags := schema.LoadDir(dir, schema.Options{Vars: tt.vars, LookupEnv: envOf(nil)})
		if len(diags) != 1 || diags[0].Summary != tt.want {
			t.Errorf("--var %v: got %s, want one %q", tt.vars, describe(diags), tt.want)
		}
	}
}

func TestNoFileAccess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, "data.txt", "x")
	write(t, dir, "main.hcl", "locals {\n  x = file(\"data.txt\")\n}\n")
	if _, diags := schema.LoadDir(dir, schema.Options{}); diags.HasErrors() {
		t.Fatalf("file access on: %s", describe(diags))
	}
	_, diags := schema.LoadDir(dir, schema.Options{NoFileAccess: true})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "file access is disabled") {
		t.Fatalf("file access off: got %s", describe(diags))
	}
}

func TestExamplesAreValid(t *testing.T) {
	t.Parallel()
	dirs, err := exampleRunbooks()
	if err != nil || len(dirs) < 4 {
		t.Fatalf("examples: %v %v", dirs, err)
	}
	for _, dir := range dirs {
		rb, diags := schema.LoadDir(dir, testOptions())
		for _, d := range diags {
			t.Errorf("%s: %s", dir, describe(hcl.Diagnostics{d}))
		}
		if rb == nil || len(rb.VMs) == 0 {
			t.Errorf("%s declares no VMs", dir)
		}
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	got, diags := schema.Format([]byte("vm \"a\" {\nstage=\"tested\"\n  window   = window.w\n}"), "a.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := "vm \"a\" {\n  stage  = \"tested\"\n  window = window.w\n}\n"
	if string(got) != want {
		t.Errorf("Format:\n%s\nwant:\n%s", got, want)
	}
	if _, diags := schema.Format([]byte("vm \"a\" {"), "b.hcl"); !diags.HasErrors() {
		t.Error("Format accepted a file that does not parse")
	}
}

func TestSecretNeverFormats(t *testing.T) {
	t.Parallel()
	s := schema.NewSecret("hunter2")
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s, s, s), fmt.Sprintf("%+v", struct{ P schema.Secret }{s})} {
		if strings.Contains(out, "hunter2") || strings.Contains(out, "68756e74657232") {
			t.Errorf("secret leaked: %s", out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Error("Reveal lost the value")
	}
}

// exampleRunbooks lists the example directories that hold runbooks
// (examples/workflows holds CI files instead).
func exampleRunbooks() ([]string, error) {
	files, err := filepath.Glob(filepath.Join("..", "examples", "*", "*.hcl"))
	seen := map[string]bool{}
	var dirs []string
	for _, f := range files {
		if d := filepath.Dir(f); !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	return dirs, err
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEmptyForEachHasNoInstances(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{"toset([])", "{}", "tomap({})"} {
		rb, diags := schema.LoadSources("rb", map[string][]byte{"rb/main.hcl": []byte(`
vcenter "dc1" {
  url = "https://vc.example.com/sdk"
}
azure "az" {
  vault     = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1"
  appliance = "a"
}
vm "none" {
  for_each = ` + expr + `
}
`)}, schema.Options{})
		if diags.HasErrors() || len(rb.VMs) != 0 {
			t.Errorf("for_each = %s: %d VMs, %s", expr, len(rb.VMs), describe(diags))
		}
	}
}

// TestInstanceDiagnosticsMerge: instances of one vm block that report the
// same problem, differing only in their address, are one diagnostic naming
// the others; a problem with a different value in each row is reported
// for each.
func TestInstanceDiagnosticsMerge(t *testing.T) {
	t.Parallel()
	_, diags := schema.LoadSources("rb", map[string][]byte{"rb/main.hcl": []byte(`
vcenter "dc1" {
  url = "https://vc.example.com/sdk"
}
azure "az" {
  vault     = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1"
  appliance = "a"
}
vm "wave" {
  for_each = { for i in range(8) : "app${i}" => "00:50:56:00:00:0${i}${i == 3 || i == 5 ? "x" : ""}" }
  stage    = "migrated"
  target {
    resource_group = "rg"
    network        = "vnet"
    subnet         = "app"
    nic {
      mac = each.value
    }
  }
  replication {
    policy = "p"
  }
}
`)}, schema.Options{})
	var window, mac []*hcl.Diagnostic
	for _, d := range diags {
		switch d.Summary {
		case "Disruptive stage without a window":
			window = append(window, d)
		case "Invalid MAC address":
			mac = append(mac, d)
		}
	}
	if len(window) != 1 || !strings.Contains(window[0].Detail, `The same holds for vm.wave["app1"], vm.wave["app2"], vm.wave["app3"], vm.wave["app4"], vm.wave["app5"] and 2 more.`) {
		t.Errorf("window warnings: %s", describe(window))
	}
	if len(mac) != 2 {
		t.Errorf("want one MAC error per bad row (2), got %s", describe(mac))
	}
}
