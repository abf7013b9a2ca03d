package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMessagesSayWhatToDo checks the messages an operator meets after a
// mistake: they name the cause and the next thing to type.
func TestMessagesSayWhatToDo(t *testing.T) {
	t.Run("missing credential", func(t *testing.T) {
		dir := copyExample(t, "quickstart")
		t.Setenv("VC_PASSWORD", "")
		os.Unsetenv("VC_PASSWORD") // t.Setenv restores it afterwards
		code, _, errOut := runCLI(t, "plan", dir)
		for _, want := range []string{`vcenter "dc1": password is empty`, "environment variable VC_PASSWORD", "--sim"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("lacks %q:\n%s", want, errOut)
			}
		}
		if code != 1 || strings.Contains(errOut, "no such host") {
			t.Errorf("exit %d, or it tried to connect:\n%s", code, errOut)
		}
	})
	t.Run("window typo", func(t *testing.T) {
		dir := copyExample(t, "quickstart")
		main := filepath.Join(dir, "main.hcl")
		b, _ := os.ReadFile(main)
		if !strings.Contains(string(b), "window.sat-night") {
			t.Fatal("the quickstart no longer names window.sat-night")
		}
		if err := os.WriteFile(main, []byte(strings.ReplaceAll(string(b), "window.sat-night", "window.sat-nigth")), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runCLI(t, "validate", dir)
		if code != 1 || !strings.Contains(errOut, `Did you mean "sat-night"?`) {
			t.Errorf("exit %d, no suggestion:\n%s", code, errOut)
		}
		if strings.Contains(errOut, "names no window") {
			t.Errorf("a contradictory warning follows the error:\n%s", errOut)
		}
		if !strings.Contains(errOut, "The runbook is invalid: 3 errors, 0 warnings.") {
			t.Errorf("counts:\n%s", errOut)
		}
	})
	t.Run("plurals", func(t *testing.T) {
		code, out, _ := runCLI(t, "validate", filepath.Join("..", "..", "examples", "quickstart"))
		if code != 0 || !strings.Contains(out, "3 VMs, 1 vCenter, 1 vault, 1 window.") {
			t.Errorf("exit %d: %s", code, out)
		}
	})
}
