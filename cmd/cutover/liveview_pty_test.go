//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"
)

// TestLiveViewInATerminal runs a quickstart --sim apply on a pseudo-terminal
// of 80 columns, with app01's test failover armed to fail, and reads the
// screen: the block is redrawn in place and shows the window's closing time
// in its own zone, the ETA, the next steps and a failure panel with the VM,
// the step, the service's message and the commands that resume and roll
// back; no line of the block is wider than the terminal.
func TestLiveViewInATerminal(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.3")
	dir := copyExample(t, "quickstart")
	if code, out, errOut := runCLI(t, "sim", "fault", "add", dir, "--vm", "app01", "--step", "test_failover", "--code", "InternalError",
		"--message", "An internal error occurred in the rehearsal."); code != 0 {
		t.Fatalf("sim fault add: exit %d %s %s", code, out, errOut)
	}
	// From the runbook's parent, so that the commands fit the terminal.
	args, _ := json.Marshal([]string{"--chdir", filepath.Dir(dir), "apply", filepath.Base(dir), "--sim", "--auto-approve"})
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCLI$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperArgsEnv+"="+string(args), "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: viewWidth, Rows: 40})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var screen bytes.Buffer
	copied := make(chan struct{})
	go func() {
		// Reading ends with EIO once the child has exited.
		_, _ = io.Copy(&screen, tty)
		close(copied)
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("apply did not end:\n%s", screen.String())
	}
	<-copied
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("apply with a failing step: %v\n%s", err, screen.String())
	}
	out := strings.ReplaceAll(screen.String(), "\r\n", "\n")
	if !strings.Contains(out, "\x1b[") {
		t.Fatal("nothing is redrawn in place on a terminal")
	}
	last := out[strings.LastIndex(out, "── quickstart"):]
	if i := strings.Index(last, "\n\n"); i >= 0 {
		last = last[:i] // the summary follows the last block
	}
	for _, re := range []string{
		`window sat-night: open, closes Sun 04:00 CES?T \(\+0[12]:00\)`,
		`FAILED vm\.app01 test_failover`,
		`An internal error occurred in the\s+rehearsal\.`,
		`resume:    cutover apply quickstart --sim\n`,
		`roll back: cutover rollback quickstart --sim --out rollback\.plan`,
		`[1-9]\d* pending \([1-9]\d* behind a failure\)`,
	} {
		if !regexp.MustCompile(re).MatchString(last) {
			t.Errorf("the last block lacks %s:\n%s", re, last)
		}
	}
	// While the run has steps to start, blocks name them and the ETAs.
	for _, re := range []string{
		`(?m)^   next: vm\.\w+\.\w+`,
		`(?m)^   ETA \d\d:\d\d:\d\dZ \(in [0-9hms]+\)$`,
		`(?m)^     disruptive steps done by Sat 2\d:\d\d CES?T \(\+0[12]:00\)$`,
		`(?m)^ +\d+% vm\.\w+\.wait_protected \d+s of ~[0-9hms]+ \w+$`,
	} {
		if !regexp.MustCompile(re).MatchString(stripANSI(out)) {
			t.Errorf("no block matched %s:\n%s", re, out)
		}
	}
	for _, l := range strings.Split(stripANSI(last), "\n") {
		if n := utf8.RuneCountInString(l); n > viewWidth {
			t.Errorf("block line of %d columns: %q", n, l)
		}
	}
}
