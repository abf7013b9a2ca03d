package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"cutover/executor/journal"
)

// TestWhileAnApplyRuns starts an apply in another process and checks what
// the operator meets beside it: a second apply is refused at once naming
// the lock's holder, host, start time and the force-unlock command, before
// planning anything; status says an apply is running and how far; status
// --watch follows it from the journal until it ends.
func TestWhileAnApplyRuns(t *testing.T) {
	dir := copyExample(t, "quickstart")
	c := startCLI(t, []string{SimTimeScaleEnv + "=0.5"}, "apply", dir, "--sim", "--auto-approve")
	c.waitFor(t, regexp.MustCompile(`wait_protected: started`), 2*time.Minute)

	store, err := journal.OpenFile(dir+"/.cutover", "state")
	if err != nil {
		t.Fatal(err)
	}
	held, err := store.CurrentLock(context.Background())
	store.Close()
	if err != nil || held == nil {
		t.Fatalf("the running apply holds no lock: %v", err)
	}

	t.Setenv(SimTimeScaleEnv, "0.5")
	code, out, errOut := runCLI(t, "apply", dir, "--sim", "--auto-approve")
	for _, want := range []string{"is locked by another apply", "lock ID " + held.ID, "taken by " + held.Who, "on " + held.Host,
		held.Created.UTC().Format(time.RFC3339), "cutover force-unlock " + held.ID + " " + dir} {
		if !strings.Contains(errOut, want) {
			t.Errorf("second apply: lacks %q:\n%s", want, errOut)
		}
	}
	if code != 1 || out != "" {
		t.Errorf("second apply: exit %d, planned before checking the lock:\n%s", code, out)
	}

	code, out, _ = runCLI(t, "status", dir, "--sim")
	if code != 0 || !regexp.MustCompile(`An apply is running: started by \S+ on \S+ \(pid \d+\) at \S+; \d+ of \d+ steps done`).MatchString(out) ||
		!strings.Contains(out, "Follow it with: cutover status --watch "+dir) {
		t.Errorf("status during an apply: exit %d\n%s", code, out)
	}

	code, out, errOut = runCLI(t, "status", dir, "--watch", "--every", "300ms")
	if code != 0 || !strings.Contains(out, "Watching the apply of "+dir) || !strings.Contains(out, "The apply has ended") {
		t.Fatalf("status --watch: exit %d\n%s%s", code, out, errOut)
	}
	lines := regexp.MustCompile(`progress: (\d+) done, \d+ running, \d+ waiting, \d+ failed, \d+ pending; ETA \S+`).FindAllStringSubmatch(out, -1)
	if len(lines) < 2 {
		t.Fatalf("status --watch printed %d progress lines:\n%s", len(lines), out)
	}
	if first, last := lines[0][1], lines[len(lines)-1][1]; mustAtoi(t, last) <= mustAtoi(t, first) {
		t.Errorf("the watched run did not move: %s then %s done", first, last)
	}
	for range c.lines {
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("the watched apply: %v\n%s", err, c.output())
	}
}
