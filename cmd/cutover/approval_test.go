package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noJournal fails the test if apply wrote a journal or a lock under dir.
func noJournal(t *testing.T, dir string) {
	t.Helper()
	for _, name := range []string{"state.journal", "state.lock"} {
		if _, err := os.Stat(filepath.Join(dir, ".cutover", name)); err == nil {
			t.Fatalf("a refused apply wrote .cutover/%s", name)
		}
	}
}

// TestExpectDigestBinds checks that --expect-digest is an approval in
// every form of apply: an empty or malformed value is a usage error that
// exits 1 (never 2, which --detailed-exitcode means "changes"), a DIR apply
// succeeds only if the fresh plan's digest is the approved one, and a saved
// plan applies only with its own digest.
func TestExpectDigestBinds(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.001")
	dir := copyExample(t, "quickstart")
	planPath := filepath.Join(t.TempDir(), "q.plan")
	if code, out, errOut := runCLI(t, "plan", dir, "--sim", "--out", planPath); code != 0 {
		t.Fatalf("plan: exit %d %s %s", code, out, errOut)
	}
	_, digestOut, _ := runCLI(t, "show", "--digest", planPath)
	digest := strings.TrimSpace(digestOut)
	if len(digest) != 64 {
		t.Fatalf("show --digest printed %q", digestOut)
	}
	other := strings.Repeat("ab", 32)

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"empty with plan", []string{"apply", planPath, "--expect-digest", ""}, "--expect-digest: is empty"},
		{"empty with dir", []string{"apply", dir, "--sim", "--auto-approve", "--expect-digest="}, "--expect-digest: is empty"},
		{"blank", []string{"apply", planPath, "--expect-digest", "  "}, "--expect-digest: is empty"},
		{"short", []string{"apply", planPath, "--expect-digest", digest[:12]}, "is not a SHA-256"},
		{"not hex", []string{"apply", planPath, "--expect-digest", strings.Repeat("zz", 32)}, "is not a SHA-256"},
		{"control characters", []string{"apply", planPath, "--expect-digest", "\x1b[2J"}, `\x1b[2J`},
		{"wrong digest with plan", []string{"apply", planPath, "--expect-digest", other}, "not the approved " + other},
		{"dir with any digest", []string{"apply", dir, "--sim", "--auto-approve", "--expect-digest", other}, "not the approved " + other},
		{"dir with the saved plan's digest", []string{"apply", dir, "--sim", "--auto-approve", "--expect-digest", digest}, "not the approved " + digest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, want 1 and %q:\n%s%s", code, tc.want, out, errOut)
			}
			if strings.Contains(errOut, "\x1b") {
				t.Fatalf("raw escape in the message: %q", errOut)
			}
			if strings.Contains(out, "succeeded") {
				t.Fatalf("refused apply ran steps:\n%s", out)
			}
			noJournal(t, dir)
		})
	}

	// The approved digest, in upper case as some tools print it, applies.
	code, out, errOut := runCLI(t, "apply", planPath, "--expect-digest", strings.ToUpper(digest))
	if code != 0 || !strings.Contains(out, "succeeded") {
		t.Fatalf("approved plan: exit %d\n%s%s", code, out, errOut)
	}
}
