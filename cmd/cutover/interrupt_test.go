package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// helperArgsEnv carries the command line of TestHelperCLI as JSON.
const helperArgsEnv = "CUTOVER_TEST_CLI_ARGS"

// TestHelperCLI is not a test: it runs the CLI in a child process so that
// a test can send it signals and see its exit status.
func TestHelperCLI(t *testing.T) {
	raw := os.Getenv(helperArgsEnv)
	if raw == "" {
		t.Skip("runs only as a child of another test")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	os.Exit(run(args, os.Stdin, os.Stdout, os.Stderr))
}

// cliChild is the CLI running in a child process, its stdout followed
// line by line.
type cliChild struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	errOut bytes.Buffer
	lines  chan string
}

func startCLI(t *testing.T, env []string, args ...string) *cliChild {
	t.Helper()
	b, _ := json.Marshal(args)
	c := &cliChild{lines: make(chan string, 1000)}
	c.cmd = exec.Command(os.Args[0], "-test.run=^TestHelperCLI$", "-test.count=1")
	c.cmd.Env = append(append(os.Environ(), helperArgsEnv+"="+string(b)), env...)
	c.cmd.Stderr = &lockedWriter{mu: &c.mu, w: &c.errOut}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.mu.Lock()
			c.out.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
			select {
			case c.lines <- sc.Text():
			default:
			}
		}
		close(c.lines)
	}()
	return c
}

// waitFor reads lines until one matches re.
func (c *cliChild) waitFor(t *testing.T, re *regexp.Regexp, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("the child ended before printing %s:\n%s", re, c.output())
			}
			if re.MatchString(l) {
				return
			}
		case <-deadline:
			t.Fatalf("no line matching %s within %s:\n%s", re, d, c.output())
		}
	}
}

func (c *cliChild) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String() + c.errOut.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestInterruptIsResumable interrupts a quickstart --sim apply while
// replication runs: it exits 130, counts nothing as failed, never says
// "context canceled", prints the command that resumes; running that
// command resumes the same run and reports the finished steps as already
// done.
func TestInterruptIsResumable(t *testing.T) {
	dir := copyExample(t, "quickstart")
	c := startCLI(t, []string{SimTimeScaleEnv + "=0.5"}, "apply", dir, "--sim", "--auto-approve")
	c.waitFor(t, regexp.MustCompile(`wait_protected: [1-9]\d*% \w+`), 2*time.Minute)
	if err := c.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	for range c.lines {
	}
	err := c.cmd.Wait()
	out := c.output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if code != exitInterrupted {
		t.Fatalf("exit %d after SIGINT, want %d:\n%s", code, exitInterrupted, out)
	}
	for _, bad := range []string{"context canceled", "step_failed", ": failed"} {
		if strings.Contains(out, bad) {
			t.Errorf("the interrupted run says %q:\n%s", bad, out)
		}
	}
	m := regexp.MustCompile(`interrupted: (\d+) succeeded, 0 already done, (\d+) interrupted, 0 failed, 0 blocked by a failure, \d+ not started`).FindStringSubmatch(out)
	if m == nil || m[1] == "0" || m[2] == "0" {
		t.Fatalf("summary does not count the interrupted run as such:\n%s", out)
	}
	if !strings.Contains(out, "Resume with: cutover apply "+dir+" --sim\n") {
		t.Errorf("no resume command:\n%s", out)
	}

	t.Setenv(SimTimeScaleEnv, "0.01")
	code, stdout, errOut := runCLI(t, "apply", dir, "--sim", "--auto-approve")
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s%s", code, stdout, errOut)
	}
	if !strings.Contains(stdout, "Resuming the unfinished apply") || !regexp.MustCompile(`run started: \d+ steps, `+m[1]+` already done`).MatchString(stdout) ||
		!strings.Contains(stdout, ", "+m[1]+" already done, 0 failed") {
		t.Errorf("the rerun did not resume the interrupted run with its %s finished steps:\n%s", m[1], stdout)
	}
	if strings.Count(stdout, "skipped (succeeded in an earlier run)") != mustAtoi(t, m[1]) {
		t.Errorf("finished steps not reported as already done:\n%s", stdout)
	}
	if !strings.Contains(stdout, "wait_protected: attached") {
		t.Errorf("operations left running were not re-attached:\n%s", stdout)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}
