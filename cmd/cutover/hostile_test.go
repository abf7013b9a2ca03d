//go:build unix

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"cutover/executor/journal"
	"cutover/planner"
	"cutover/planner/planfile"
)

// The hostile corpus: runbooks, plan files and state an attacker or a
// careless operator could hand the real command line. Every case must end
// in exit status 1 with a message that names the problem, no Go stack
// trace, no raw control or bidirectional-override character on the
// terminal, within seconds, and nothing created or changed under
// DIR/.cutover (the simulated world's own files in .cutover/sim, which
// every --sim command keeps, aside). testdata/hostile/runbooks holds the
// cases small enough to keep as files (each directory is laid over a copy
// of the quickstart; WANT holds a line of the expected message); the
// others are built here.

// rawControl is what must never reach a terminal unescaped: C0 and C1
// controls other than newline and tab, DEL, bidirectional overrides and
// isolates, and line/paragraph separators.
var rawControl = regexp.MustCompile("[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]")

// hostileTimeout bounds one case: all of them finish in well under a
// second; a case that hangs fails here instead of at go test's timeout.
const hostileTimeout = 20 * time.Second

// stateSnapshot hashes what DIR/.cutover holds, leaving out the simulated
// world (sim/), which --sim commands maintain themselves.
func stateSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	root := filepath.Join(dir, journal.DefaultDir)
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() && d.Name() == "sim" {
			return filepath.SkipDir
		}
		switch {
		case d.IsDir():
			out[rel] = "dir"
		case d.Type().IsRegular():
			b, _ := os.ReadFile(p)
			sum := sha256.Sum256(b)
			out[rel] = hex.EncodeToString(sum[:])
		default:
			out[rel] = d.Type().String()
		}
		return nil
	})
	return out
}

// runHostile runs one command line against dir and checks everything a
// hostile case must hold; want is a piece of the expected message.
func runHostile(t *testing.T, dir, want string, args ...string) {
	t.Helper()
	before := stateSnapshot(t, dir)
	type result struct {
		code        int
		out, errOut string
	}
	done := make(chan result, 1)
	go func() {
		var stdout, stderr bytes.Buffer
		code := run(args, strings.NewReader(""), &stdout, &stderr)
		done <- result{code, stdout.String(), stderr.String()}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(hostileTimeout):
		t.Fatalf("%v: no answer within %s", args, hostileTimeout)
	}
	all := r.out + r.errOut
	// Messages are wrapped to the terminal's width: compare words.
	words := strings.Join(strings.Fields(all), " ")
	if r.code != exitError {
		t.Errorf("%v: exit %d, want %d\n%s", args, r.code, exitError, all)
	}
	if !strings.Contains(words, want) {
		t.Errorf("%v: output lacks %q:\n%s", args, want, all)
	}
	for _, crash := range []string{"goroutine ", "panic:", "runtime error"} {
		if strings.Contains(all, crash) {
			t.Errorf("%v: output holds %q:\n%s", args, crash, all)
		}
	}
	if loc := rawControl.FindStringIndex(all); loc != nil {
		t.Errorf("%v: raw control character %q in the output:\n%s", args, all[loc[0]:loc[1]], all)
	}
	after := stateSnapshot(t, dir)
	for k, v := range after {
		if before[k] != v {
			t.Errorf("%v: %s was created or changed", args, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			t.Errorf("%v: %s was removed", args, k)
		}
	}
}

// layCase copies the quickstart and lays the files of case dir over it.
func layCase(t *testing.T, caseDir string) string {
	t.Helper()
	dir := copyExample(t, "quickstart")
	entries, err := os.ReadDir(caseDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "WANT" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(caseDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, e.Name(), string(b))
	}
	return dir
}

// TestHostileRunbookCorpus runs validate and plan --sim over every case of
// testdata/hostile/runbooks.
func TestHostileRunbookCorpus(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	cases, err := filepath.Glob(filepath.Join("testdata", "hostile", "runbooks", "*"))
	if err != nil || len(cases) < 10 {
		t.Fatalf("corpus: %v %v", cases, err)
	}
	for _, c := range cases {
		want, err := os.ReadFile(filepath.Join(c, "WANT"))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(c), func(t *testing.T) {
			dir := layCase(t, c)
			for _, args := range [][]string{{"validate", dir}, {"plan", dir, "--sim"}} {
				runHostile(t, dir, strings.TrimSpace(string(want)), args...)
			}
			if _, err := os.Stat(filepath.Join(dir, journal.DefaultDir)); err == nil {
				t.Errorf("a refused runbook made %s", journal.DefaultDir)
			}
		})
	}
}

// TestHostileInputs covers what cannot be a small file in the corpus:
// special files, input generated at size, loops and plan files and state
// that only exist after a plan.
func TestHostileInputs(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	mkfifo := func(t *testing.T, p string) {
		t.Helper()
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	overlay := func(t *testing.T, files map[string]string) string {
		t.Helper()
		dir := copyExample(t, "quickstart")
		for n, c := range files {
			if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(n)), 0o700); err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, n, c)
		}
		return dir
	}
	for _, tc := range []struct {
		name string
		// setup returns the runbook directory and the command lines to
		// run in it; want is in every one's output.
		setup func(t *testing.T) (string, [][]string)
		want  string
	}{
		{"file() of a named pipe", func(t *testing.T) (string, [][]string) {
			dir := overlay(t, map[string]string{"extra.hcl": "locals {\n  x = file(\"pipe\")\n}\n"})
			mkfifo(t, filepath.Join(dir, "pipe"))
			return dir, [][]string{{"validate", dir}, {"apply", dir, "--sim", "--auto-approve"}}
		}, "not a regular file (a named pipe)"},
		{"file() of /dev/zero", func(t *testing.T) (string, [][]string) {
			dir := overlay(t, map[string]string{"extra.hcl": "locals {\n  x = file(\"/dev/zero\")\n}\n"})
			return dir, [][]string{{"validate", dir}}
		}, "not a regular file (a character device)"},
		{"a runbook file that is a named pipe", func(t *testing.T) (string, [][]string) {
			dir := copyExample(t, "quickstart")
			mkfifo(t, filepath.Join(dir, "extra.hcl"))
			return dir, [][]string{{"validate", dir}, {"status", dir, "--sim"}}
		}, "not a regular file (a named pipe)"},
		{"a var-file that is a named pipe", func(t *testing.T) (string, [][]string) {
			dir := copyExample(t, "quickstart")
			mkfifo(t, filepath.Join(dir, "v.tfvars"))
			return dir, [][]string{{"validate", dir, "--var-file", filepath.Join(dir, "v.tfvars")}}
		}, "not a regular file (a named pipe)"},
		{"a million unary operators", func(t *testing.T) (string, [][]string) {
			dir := overlay(t, map[string]string{"extra.hcl": "locals {\n  x = " + strings.Repeat("!", 1_000_000) + "true\n}\n"})
			return dir, [][]string{{"validate", dir}}
		}, "operators are chained"},
		{"fmt of a million unary operators", func(t *testing.T) (string, [][]string) {
			dir := overlay(t, map[string]string{"extra.hcl": "locals {\n  x = " + strings.Repeat("!", 1_000_000) + "true\n}\n"})
			return dir, [][]string{{"fmt", "--check", dir}}
		}, "operators are chained"},
		{"--target naming no VM", func(t *testing.T) (string, [][]string) {
			dir := copyExample(t, "quickstart")
			return dir, [][]string{{"plan", dir, "--sim", "--target", "vm.nope"}, {"apply", dir, "--sim", "--auto-approve", "--target", "vm.nope"}, {"rollback", dir, "--sim", "--target", "vm.nope"}}
		}, "--target vm.nope names no VM of the runbook"},
		{"flags out of range", func(t *testing.T) (string, [][]string) {
			dir := copyExample(t, "quickstart")
			return dir, [][]string{{"plan", dir, "--sim", "--throughput", "NaN"}, {"apply", dir, "--sim", "--auto-approve", "--parallelism", "0"}, {"apply", dir, "--sim", "--auto-approve", "--azure-writes-per-second", "NaN"}}
		}, "must be"},
		{"a list variable of a million unary operators", func(t *testing.T) (string, [][]string) {
			dir := overlay(t, map[string]string{"extra.hcl": "variable \"l\" {\n  type = list(bool)\n  default = []\n}\n"})
			return dir, [][]string{{"validate", dir, "--var", "l=[" + strings.Repeat("!", 1_000_000) + "true]"}}
		}, "nests more than"},
		{"for expressions computing for ever", func(t *testing.T) (string, [][]string) {
			old := loadBudget
			loadBudget = 200 * time.Millisecond
			t.Cleanup(func() { loadBudget = old })
			dir := overlay(t, map[string]string{"extra.hcl": "locals {\n  x = length([for a in range(200): [for b in range(200): [for c in range(200): a + b + c]]])\n}\nvm \"q\" {\n  target {\n    size = tostring(local.x)\n  }\n}\n"})
			return dir, [][]string{{"validate", dir}}
		}, "Runbook takes too long to evaluate"},
		{"journal that is a named pipe", func(t *testing.T) (string, [][]string) {
			dir := copyExample(t, "quickstart")
			if err := os.MkdirAll(filepath.Join(dir, journal.DefaultDir), 0o700); err != nil {
				t.Fatal(err)
			}
			mkfifo(t, filepath.Join(dir, journal.DefaultDir, "state.journal"))
			return dir, [][]string{{"apply", dir, "--sim", "--auto-approve"}, {"rollback", dir, "--sim"}, {"status", dir, "--sim"}}
		}, "not a regular file"},
		{"journal record of negative length", func(t *testing.T) (string, [][]string) {
			dir := overlay(t, map[string]string{filepath.Join(journal.DefaultDir, "state.journal"): "4b6ee919 -5 {}\n"})
			return dir, [][]string{{"apply", dir, "--sim", "--auto-approve"}, {"rollback", dir, "--sim"}}
		}, "malformed length field"},
		{"journal record longer than any", func(t *testing.T) (string, [][]string) {
			dir := overlay(t, map[string]string{filepath.Join(journal.DefaultDir, "state.journal"): "4b6ee919 99999999999 {}\n"})
			return dir, [][]string{{"apply", dir, "--sim", "--auto-approve"}, {"rollback", dir, "--sim"}}
		}, "malformed length field"},
		{"lock record with control characters", func(t *testing.T) (string, [][]string) {
			dir := overlay(t, map[string]string{filepath.Join(journal.DefaultDir, "state.lock"): `{"id":"x\u001b[2J","who":"ev\u001bil","host":"h\nforged line","pid":1,"operation":"apply\u0007","created":"2026-01-01T00:00:00Z"}`})
			return dir, [][]string{{"apply", dir, "--sim", "--auto-approve"}}
		}, `h\nforged line`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, cmds := tc.setup(t)
			for _, args := range cmds {
				runHostile(t, dir, tc.want, args...)
			}
		})
	}
}

// TestHostilePlanFiles edits a saved --sim plan in ways the planner never
// writes, keeping the file otherwise as cutover writes it (decoded and
// encoded again) so that each check is reached on its own, and applies it.
func TestHostilePlanFiles(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	dir := copyExample(t, "quickstart")
	planPath := filepath.Join(t.TempDir(), "base.plan")
	if code, out, errOut := runCLI(t, "plan", dir, "--sim", "--out", planPath); code != 0 {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	raw, err := os.ReadFile(planPath)
	if err != nil {
		t.Fatal(err)
	}
	reencode := func(t *testing.T, edit func(s string) string) string {
		t.Helper()
		// Decoded without Decode's checks, which would refuse it.
		var p planner.Plan
		if err := json.Unmarshal([]byte(edit(string(raw))), &p); err != nil {
			t.Fatal(err)
		}
		b, err := planfile.Encode(&p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tc := range []struct {
		name string
		file func(t *testing.T) string
		want string
	}{
		{"a repeated key", func(*testing.T) string {
			return strings.Replace(string(raw), `"format_version": 1,`, `"format_version": 1, "steps": [],`, 1)
		}, "not as cutover wrote it"},
		{"an escaped NUL in the runbook name", func(*testing.T) string {
			return strings.Replace(string(raw), `"runbook": "quickstart"`, `"runbook": "quick\u0000start"`, 1)
		}, "holds a control character"},
		{"a bidirectional override in a step ID", func(*testing.T) string {
			return strings.Replace(string(raw), `"id": "vm.app01.enable_replication"`, `"id": "vm.app01.enable\u202ereplication"`, 1)
		}, "holds a control character"},
		{"an expiry far in the future", func(t *testing.T) string {
			return reencode(t, func(s string) string {
				return regexp.MustCompile(`"expires_at": "[^"]*"`).ReplaceAllString(s, `"expires_at": "9999-12-31T23:59:59Z"`)
			})
		}, "more than 168h0m0s after created_at"},
		{"dates moved into the future", func(t *testing.T) string {
			return reencode(t, func(s string) string {
				s = regexp.MustCompile(`"created_at": "[^"]*"`).ReplaceAllString(s, `"created_at": "2090-01-01T00:00:00Z"`)
				return regexp.MustCompile(`"expires_at": "[^"]*"`).ReplaceAllString(s, `"expires_at": "2090-01-08T00:00:00Z"`)
			})
		}, "created_at: 2090-01-01T00:00:00Z is in the future"},
		{"a runbook hash that is not one", func(t *testing.T) string {
			return regexp.MustCompile(`"runbook_hash": "[^"]*"`).ReplaceAllString(string(raw), `"runbook_hash": "\u001b[2J"`)
		}, "not a SHA-256 in hex"},
		{"no VMs and no steps", func(t *testing.T) string {
			return reencode(t, func(s string) string {
				s = regexp.MustCompile(`(?s)"vms": \[.*?\n  \],`).ReplaceAllString(s, `"vms": [],`)
				return regexp.MustCompile(`(?s)"steps": \[.*?\n  \],`).ReplaceAllString(s, `"steps": [],`)
			})
		}, "the plan holds no VM"},
		{"a variable added", func(t *testing.T) string {
			return reencode(t, func(s string) string {
				return strings.Replace(s, `"simulated": true,`, `"simulated": true, "variables": {"x": "1"},`, 1)
			})
		}, "variables differ"},
		{"an input edited", func(t *testing.T) string {
			return reencode(t, func(s string) string {
				return strings.Replace(s, `"target.size": "Standard_D2s_v5"`, `"target.size": "Standard_M416ms_v2"`, 1)
			})
		}, "its inputs differ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Beside the original: the plan's runbook_dir is relative
			// to the plan file.
			edited := filepath.Join(filepath.Dir(planPath), strings.ReplaceAll(tc.name, " ", "-")+".plan")
			if err := os.WriteFile(edited, []byte(tc.file(t)), 0o600); err != nil {
				t.Fatal(err)
			}
			runHostile(t, dir, tc.want, "apply", edited, "--sim")
		})
	}
	t.Run("a plan file that is a named pipe", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "pipe.plan")
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
		runHostile(t, dir, "is neither a plan file nor a runbook directory: it is a named pipe", "apply", p, "--sim")
		runHostile(t, dir, "not a regular file (a named pipe)", "show", p)
	})
}
