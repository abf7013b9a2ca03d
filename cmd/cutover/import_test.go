package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// importWorld seeds the csv-wave's simulated world (20 VMs in vCenter,
// discovered by the appliance) and returns a runbook directory that shares
// it but declares no VMs: vcenter, azure, window and defaults only.
func importWorld(t *testing.T) string {
	t.Helper()
	seed := copyExample(t, "csv-wave")
	if code, out, errOut := runCLI(t, "plan", seed, "--sim"); code != 0 {
		t.Fatalf("seeding the world: exit %d\n%s%s", code, out, errOut)
	}
	src, err := os.ReadFile(filepath.Join(seed, "main.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	i := strings.Index(text, `vm "wave" {`)
	if i < 0 {
		t.Fatal("csv-wave has no vm \"wave\" block; update this test")
	}
	dir := filepath.Join(t.TempDir(), "imp")
	if err := os.MkdirAll(filepath.Join(dir, ".cutover", "sim"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "main.hcl", strings.TrimRight(text[:i], "\n")+"\n")
	writeFile(t, dir, "wave1.csv", mustRead(t, filepath.Join(seed, "wave1.csv")))
	for _, f := range []string{"vcenter.json", "azure-migrate.json"} {
		writeFile(t, filepath.Join(dir, ".cutover", "sim"), f, mustRead(t, filepath.Join(seed, ".cutover", "sim", f)))
	}
	return dir
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readRows(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// TestImportFromInventory imports the simulated world and checks that the
// result validates and plans with no edits, that rows carry identity and
// proposals, and that nothing is overwritten without --force.
func TestImportFromInventory(t *testing.T) {
	dir := importWorld(t)
	csvPath := filepath.Join(dir, "vms.csv")
	code, out, errOut := runCLI(t, "import", dir, "--sim", "--csv", csvPath, "--map-network", "VM Network=web", "--match", "wave1-*")
	if code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	rows := readRows(t, csvPath)
	if len(rows) != 20 || !strings.Contains(out, "Wrote 20 VMs") {
		t.Fatalf("%d rows\n%s", len(rows), out)
	}
	for _, r := range rows {
		if r["instance_uuid"] == "" || !strings.HasPrefix(r["source_path"], "/") || r["discovered"] != "true" ||
			r["size"] == "" || r["subnet"] != "web" || r["cpus"] == "0" || !strings.Contains(r["nics"], "=VM Network") || r["target_name"] != r["key"] {
			t.Errorf("row %+v", r)
		}
	}
	if code, out, errOut := runCLI(t, "validate", dir); code != 0 {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "fmt", "--check", filepath.Join(dir, importName)); code != 0 {
		t.Errorf("fmt --check %s: exit %d\n%s%s", importName, code, out, errOut)
	}
	code, out, errOut = runCLI(t, "plan", dir, "--sim", "--detailed-exitcode")
	if code != exitChanges || !strings.Contains(out, "Plan: 20 to replicate") {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}

	// Again: refused without --force, then overwritten with it.
	code, _, errOut = runCLI(t, "import", dir, "--sim", "--csv", csvPath)
	if code != 1 || !strings.Contains(errOut, "--force") {
		t.Errorf("second import without --force: exit %d %s", code, errOut)
	}
	code, out, errOut = runCLI(t, "import", dir, "--sim", "--csv", csvPath, "--match", "wave1-web*", "--force")
	if code != 0 || len(readRows(t, csvPath)) >= 20 {
		t.Errorf("import --force --match: exit %d\n%s%s", code, out, errOut)
	}
	// Outside the runbook directory: a usage error.
	if code, _, errOut := runCLI(t, "import", dir, "--sim", "--csv", filepath.Join(t.TempDir(), "x.csv")); code != 1 || !strings.Contains(errOut, "outside") {
		t.Errorf("csv outside DIR: exit %d %s", code, errOut)
	}
}

// TestImportFromASRCSV converts both templates of Microsoft's at-scale
// CSV: targets come from the CSV, the source is resolved to its instance
// UUID, unmapped columns and unknown machines are listed, and the result
// validates and plans.
func TestImportFromASRCSV(t *testing.T) {
	const sub = "22222222-3333-4444-5555-666666666666"
	for _, tc := range []struct {
		name, header string
		row          func(src, target string) string
	}{
		{"current template",
			"VAULT_SUBSCRIPTION_ID, VAULT_NAME, SOURCE_MACHINE_NAME, TARGET_MACHINE_NAME, CONFIGURATION_SERVER, PROCESS_SERVER, TARGET_RESOURCE_GROUP, TARGET_STORAGE_ACCOUNT, TARGET_STORAGE_ACCOUNT_RG, TARGET_LOGSTORAGE_ACCOUNT, TARGET_LOGSTORAGE_ACCOUNT_RG, TARGET_VNET, TARGET_VNET_RG, TARGET_SUBNET, REPLICATION_POLICY, ACCOUNT_NAME, AVAILABILITY_SET, PRIVATE_IP, MACHINE_SIZE, TESTFAILOVER_RESOURCE_GROUP, TESTFAILOVER_VNET, TARGET_NSG_NAME, TARGET_NSG_RESOURCE_GROUP",
			func(src, target string) string {
				return sub + ",wave-MigrateVault-7," + src + "," + target + ",cs01,ps01,asr-rg,,,wavelogs02,migrate-rg,hub-vnet,net-rg,app,24-hour-replication-policy,runas,,10.0.0.5,Standard_D4s_v5,test-rg,test-vnet,,"
			}},
		{"older template without LOGSTORAGE",
			"VAULT_SUBSCRIPTION_ID,VAULT_NAME,SOURCE_MACHINE_NAME,TARGET_MACHINE_NAME,CONFIGURATION_SERVER,PROCESS_SERVER,TARGET_RESOURCE_GROUP,TARGET_STORAGE_ACCOUNT,TARGET_STORAGE_ACCOUNT_RG,TARGET_VNET,TARGET_VNET_RG,TARGET_SUBNET,REPLICATION_POLICY,ACCOUNT_NAME,AVAILABILITY_SET,PRIVATE_IP,MACHINE_SIZE,TESTFAILOVER_RESOURCE_GROUP,TESTFAILOVER_VNET,TARGET_NSG_NAME,TARGET_NSG_RESOURCE_GROUP",
			func(src, target string) string {
				return sub + ",wave-MigrateVault-7," + src + "," + target + ",cs01,ps01,asr-rg,,,hub-vnet,net-rg,app,24-hour-replication-policy,runas,,,Standard_D4s_v5,test-rg,test-vnet,,"
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := importWorld(t)
			asr := filepath.Join(t.TempDir(), "asr.csv")
			body := tc.header + "\n" + tc.row("wave1-web01", "web01-az") + "\n" + tc.row("WAVE1-APP03", "app03-az") + "\n" + tc.row("no-such-vm", "x") + "\n"
			if err := os.WriteFile(asr, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			csvPath := filepath.Join(dir, "vms.csv")
			code, out, errOut := runCLI(t, "import", dir, "--sim", "--csv", csvPath, "--from-asr-csv", asr)
			if code != 0 {
				t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
			}
			for _, want := range []string{"Wrote 2 VMs", "no-such-vm: line 4: no VM of that name in vCenter",
				"VAULT_NAME: the vault is the runbook's azure block", "PRIVATE_IP: a static IP belongs to a NIC", "TARGET_NSG_NAME"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "TARGET_LOGSTORAGE_ACCOUNT:") || strings.Contains(out, "TARGET_VNET:") {
				t.Errorf("a mapped column is listed as unmapped:\n%s", out)
			}
			rows := readRows(t, csvPath)
			if len(rows) != 2 {
				t.Fatalf("rows %v", rows)
			}
			r := rows[1]
			if rows[0]["target_name"] == "app03-az" {
				r = rows[0]
			}
			if r["target_name"] != "app03-az" || r["name"] != "wave1-app03" || r["instance_uuid"] == "" || r["size"] != "Standard_D4s_v5" ||
				r["resource_group"] != "asr-rg" || r["subnet"] != "app" || r["policy"] != "24-hour-replication-policy" ||
				r["network"] != "/subscriptions/"+sub+"/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/hub-vnet" ||
				r["test_network"] != "/subscriptions/"+sub+"/resourceGroups/test-rg/providers/Microsoft.Network/virtualNetworks/test-vnet" {
				t.Errorf("row %+v", r)
			}
			wantLog := ""
			if strings.Contains(tc.header, "LOGSTORAGE") {
				wantLog = "/subscriptions/" + sub + "/resourceGroups/migrate-rg/providers/Microsoft.Storage/storageAccounts/wavelogs02"
			}
			if r["log_storage_account"] != wantLog {
				t.Errorf("log_storage_account %q, want %q", r["log_storage_account"], wantLog)
			}
			if code, out, errOut := runCLI(t, "validate", dir); code != 0 {
				t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
			}
			code, out, errOut = runCLI(t, "plan", dir, "--sim", "--detailed-exitcode")
			if code != exitChanges || !strings.Contains(out, "Plan: 2 to replicate") || !strings.Contains(out, "app03-az") {
				t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

// A directory that declares its own VMs gets the CSV only.
func TestImportKeepsExistingVMBlocks(t *testing.T) {
	dir := copyExample(t, "csv-wave")
	if code, out, errOut := runCLI(t, "plan", dir, "--sim"); code != 0 {
		t.Fatalf("seeding: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, "import", dir, "--sim", "--csv", filepath.Join(dir, "inventory.csv"))
	if code != 0 || !strings.Contains(out, "already declares vm blocks") {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, importName)); !os.IsNotExist(err) {
		t.Errorf("%s was written next to existing vm blocks", importName)
	}
	if code, _, errOut := runCLI(t, "validate", dir); code != 0 {
		t.Errorf("validate after import: %s", errOut)
	}
}
