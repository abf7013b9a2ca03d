package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestUsageErrorsExitOne checks that no mistake on the command line exits
// 2, which plan --detailed-exitcode reserves for "changes present": a CI
// job must not read a typo as a plan to review.
func TestUsageErrorsExitOne(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "quickstart")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", dir, "--outt", "x", "--detailed-exitcode"}, "unknown flag: --outt"},
		{[]string{"plan", dir, "--format", "markdwn", "--detailed-exitcode"}, "markdwn"},
		{[]string{"plan", dir, "-outt=x", "-detailed-exitcode"}, "unknown flag: --outt"},
		{[]string{"plan", dir, "-auto-approve"}, "unknown flag: --auto-approve"},
		{[]string{"graph", dir, "--format", "png"}, "png"},
		{[]string{"show"}, "accepts 1 arg"},
		{[]string{"validate", dir, dir}, "accepts at most 1 arg"},
		{[]string{"no-such-command"}, "unknown command"},
		{[]string{"apply", dir, "--parallelism", "many"}, "parallelism"},
	} {
		code, out, errOut := runCLI(t, tc.args...)
		if code != exitUsage || exitUsage != 1 {
			t.Errorf("%v: exit %d, want 1\n%s%s", tc.args, code, out, errOut)
		}
		if !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: stderr lacks %q:\n%s", tc.args, tc.want, errOut)
		}
	}
}

func TestTerraformStyleFlags(t *testing.T) {
	root := newRootCommand(&globals{}, strings.NewReader(""), nil, nil)
	for _, tc := range []struct{ in, want []string }{
		{[]string{"plan", "-out=x.plan", "-detailed-exitcode", "dir"}, []string{"plan", "--out=x.plan", "--detailed-exitcode", "dir"}},
		{[]string{"apply", "-auto-approve", "x.plan"}, []string{"apply", "--auto-approve", "x.plan"}},
		{[]string{"plan", "-var", "a=b", "-no-color"}, []string{"plan", "--var", "a=b", "--no-color"}},
		// unknown words and what follows "--" are left to pflag
		{[]string{"plan", "-outt=x", "--", "-out=y"}, []string{"plan", "-outt=x", "--", "-out=y"}},
		{[]string{"apply", "--parallelism", "-1"}, []string{"apply", "--parallelism", "-1"}},
	} {
		if got := terraformFlags(root, tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("terraformFlags(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// A one-dash long flag works end to end.
	dir := filepath.Join("..", "..", "examples", "quickstart")
	if code, out, errOut := runCLI(t, "validate", "-json", dir); code != 0 || !strings.Contains(out, `"valid": true`) {
		t.Errorf("validate -json: exit %d\n%s%s", code, out, errOut)
	}
}
