package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command line in-process and returns exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestValidateExamples(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*/*.hcl")
	seen := map[string]bool{}
	var dirs []string
	for _, f := range files {
		if d := filepath.Dir(f); !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	if len(dirs) < 4 {
		t.Fatalf("examples: %v", dirs)
	}
	for _, dir := range dirs {
		code, out, errOut := runCLI(t, "validate", dir)
		if code != 0 || !strings.Contains(out, "Success!") {
			t.Errorf("validate %s: exit %d\n%s%s", dir, code, out, errOut)
		}
	}
}

func TestValidateInvalidExitsOneWithPosition(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", "vm \"a\" {\n  stage = \"gone\"\n}\n")
	code, _, errOut := runCLI(t, "validate", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{"main.hcl line 2", `stage = "gone"`, "Invalid value for stage"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("output lacks %q:\n%s", want, errOut)
		}
	}

	code, out, _ := runCLI(t, "validate", "--json", dir)
	var res validateResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if code != 1 || res.Valid || res.ErrorCount == 0 {
		t.Fatalf("exit %d, result %+v", code, res)
	}
	var found bool
	for _, d := range res.Diagnostics {
		if d.Summary == "Invalid value for stage" && d.Range != nil && d.Range.Start.Line == 2 && d.Range.Start.Column == 11 &&
			d.Snippet != nil && strings.Contains(d.Snippet.Code, `"gone"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no positioned stage diagnostic in %s", out)
	}
}

func TestValidateJSONSummary(t *testing.T) {
	code, out, _ := runCLI(t, "validate", "--json", "../../examples/csv-wave")
	var res validateResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 {
		t.Fatalf("exit %d err %v\n%s", code, err, out)
	}
	if !res.Valid || res.Runbook == nil || res.Runbook.VMs != 20 || res.Runbook.Name != "wave1" {
		t.Errorf("summary = %+v", res.Runbook)
	}
}

// TestSecretsNeverReachOutput feeds a password through env() and through a
// sensitive variable (from the environment and from --var) into attributes
// that fail validation, and checks that neither value appears anywhere in
// the human or JSON output.
func TestSecretsNeverReachOutput(t *testing.T) {
	const envSecret = "Env-Pa55word-XYZ"
	const varSecret = "Var-Pa55word-QRS"
	const pinSecret = "4242"
	t.Setenv("LEAK_VC_PASSWORD", envSecret)
	t.Setenv("CUTOVER_VAR_pw", varSecret)

	varFile := filepath.Join(t.TempDir(), "secrets.tfvars")
	writeFile(t, filepath.Dir(varFile), "secrets.tfvars", "pin = "+pinSecret+"\n")

	for _, args := range [][]string{
		{"validate", "testdata/leak"},
		{"validate", "--json", "testdata/leak"},
		{"validate", "--var-file", varFile, "testdata/leak"},
		{"validate", "--json", "--var-file", varFile, "testdata/leak"},
		{"validate", "--json", "--var", "pw=" + varSecret, "--var", "pin=" + pinSecret, "testdata/leak"},
		{"validate", "--var", "pw=" + varSecret, "--var", "pin=" + pinSecret + "x", "testdata/leak"},
		{"validate", "--var", "pw" + varSecret, "testdata/leak"},
	} {
		code, out, errOut := runCLI(t, args...)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1", args, code)
		}
		all := out + errOut
		if len(all) < 200 {
			t.Errorf("%v: suspiciously short output:\n%s", args, all)
		}
		for _, secret := range []string{envSecret, varSecret, "Pa55word"} {
			if strings.Contains(all, secret) {
				t.Errorf("%v: output contains a secret:\n%s", args, all)
			}
		}
		if strings.Contains(strings.Join(args, " "), "pin=") || strings.Contains(strings.Join(args, " "), "var-file") {
			if strings.Contains(all, pinSecret) {
				t.Errorf("%v: output contains the sensitive pin:\n%s", args, all)
			}
		}
	}
}

func TestFmtCheck(t *testing.T) {
	code, out, errOut := runCLI(t, "fmt", "--check", "../../examples")
	if code != 0 {
		t.Fatalf("examples are not formatted (exit %d):\n%s%s", code, out, errOut)
	}

	dir := t.TempDir()
	messy := "vm \"a\" {\nstage=\"tested\"\n}\n"
	p := writeFile(t, dir, "main.hcl", messy)
	writeFile(t, dir, "tidy.hcl", "vm \"b\" {\n  stage = \"tested\"\n}\n")
	code, out, _ = runCLI(t, "fmt", "--check", "--diff", dir)
	if code != 1 || !strings.Contains(out, "main.hcl") || strings.Contains(out, "tidy.hcl") ||
		!strings.Contains(out, "+  stage = \"tested\"") || !strings.Contains(out, "-stage=\"tested\"") {
		t.Fatalf("fmt --check: exit %d\n%s", code, out)
	}
	if b, _ := os.ReadFile(p); string(b) != messy {
		t.Fatal("fmt --check wrote the file")
	}
	if code, out, _ = runCLI(t, "fmt", dir); code != 0 {
		t.Fatalf("fmt: exit %d\n%s", code, out)
	}
	if code, out, _ = runCLI(t, "fmt", "--check", dir); code != 0 {
		t.Fatalf("after fmt, --check still fails: %s", out)
	}
}

func TestVersionAndUsage(t *testing.T) {
	code, out, _ := runCLI(t, "version", "--json")
	var v versionInfo
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil || v.Version == "" || v.GoVersion == "" {
		t.Errorf("version: exit %d %v %q", code, err, out)
	}
	if code, _, errOut := runCLI(t, "validate", "--no-such-flag"); code != 1 || !strings.Contains(errOut, "no-such-flag") {
		t.Errorf("bad flag: exit %d %q", code, errOut)
	}
}

func TestChdirAndVar(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", `
variable "stage" {
  type = string
}
vcenter "dc1" {
  url = "https://vc.example.com/sdk"
}
azure "az" {
  vault     = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1"
  appliance = "a"
}
vm "a" {
  stage = var.stage
  replication {
    policy = "p"
  }
  target {
    resource_group = "rg"
  }
}
`)
	wd, _ := os.Getwd()
	t.Cleanup(func() { _ = os.Chdir(wd) })
	if code, _, errOut := runCLI(t, "--chdir", dir, "validate"); code != 1 || !strings.Contains(errOut, "No value for required variable") {
		t.Fatalf("without var: exit %d %s", code, errOut)
	}
	_ = os.Chdir(wd)
	if code, out, errOut := runCLI(t, "--chdir", dir, "validate", "--var", "stage=replicating"); code != 0 {
		t.Fatalf("with --var: exit %d %s %s", code, out, errOut)
	}
	_ = os.Chdir(wd)
	t.Setenv("CUTOVER_VAR_stage", "replicating")
	if code, out, errOut := runCLI(t, "--chdir", dir, "validate"); code != 0 {
		t.Fatalf("with CUTOVER_VAR_stage: exit %d %s %s", code, out, errOut)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
