package journal_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cutover/executor/journal"
)

const killDirEnv = "CUTOVER_JOURNAL_KILL_DIR"

// killHandle is what the child journals; the parent checks every field.
type killHandle struct {
	Round int    `json:"round"`
	I     int    `json:"i"`
	Pad   string `json:"pad"`
}

func killStep(round, i int) string {
	return fmt.Sprintf(`vm.kill["r%02d-%05d"].test_failover`, round, i)
}

// TestHelperProcess is the child of TestKilledWhileAppending: it appends
// until killed, from one goroutine or several, and reports each record on
// stdout once Append has returned.
// Run directly, it does nothing.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(killDirEnv)
	if dir == "" {
		return
	}
	round, _ := strconv.Atoi(os.Getenv(killDirEnv + "_ROUND"))
	s, err := journal.OpenFile(dir, "prod")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if _, err := s.Lock(ctx, journal.LockInfo{Operation: "apply", Info: "round " + strconv.Itoa(round)}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// Odd rounds append from several goroutines at once, so that a kill
	// can land inside a write of several records.
	workers := 1 + 7*(round%2)
	var (
		next atomic.Int64
		out  sync.Mutex
		wg   sync.WaitGroup
	)
	// A safety net, in case the parent dies without killing us.
	stop := time.Now().Add(20 * time.Second)
	for w := range workers {
		rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
		wg.Go(func() {
			for time.Now().Before(stop) {
				i := int(next.Add(1) - 1)
				// Some records are larger than a page, so that a
				// kill can land inside one write.
				h, _ := json.Marshal(killHandle{Round: round, I: i, Pad: strings.Repeat("x", rng.IntN(12<<10))})
				r, err := s.Append(ctx, journal.Record{Kind: journal.StepStarted, RunID: fmt.Sprint(round), StepID: killStep(round, i), Attempt: 1, Handle: h})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				out.Lock()
				fmt.Printf("%d %d %d\n", r.Seq, round, i)
				out.Unlock()
			}
		})
	}
	wg.Wait()
	os.Exit(3)
}

// TestKilledWhileAppending kills a child process at random moments while it
// appends, and checks after each kill that every record the child saw
// appended replays intact, that the dead child's lock is still held and
// taken over by the next Lock (reported stale until force-unlocked where
// there is no OS lock), and that the next child carries on.
func TestKilledWhileAppending(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	t.Parallel()
	const rounds = 25
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	start := time.Now()
	acked := map[uint64][2]int{} // seq -> round, i
	var torn int
	done := 0
	for round := range rounds {
		// Keep the whole test under ten seconds on a busy machine, but
		// never settle for fewer than twenty kills.
		if el := time.Since(start); el > 8*time.Second && round >= 20 {
			break
		} else if el > 9*time.Second {
			t.Fatalf("only %d rounds in %v", round, el)
		}
		done++
		lines, pid := runAndKill(t, dir, round, time.Duration(rng.IntN(25000))*time.Microsecond)
		for _, l := range lines {
			var seq uint64
			var r, i int
			if _, err := fmt.Sscanf(l, "%d %d %d", &seq, &r, &i); err != nil {
				t.Fatalf("child said %q: %v", l, err)
			}
			acked[seq] = [2]int{r, i}
		}

		s, err := journal.OpenFile(dir, "prod")
		if err != nil {
			t.Fatal(err)
		}
		rep, err := s.Replay(ctx)
		if err != nil {
			t.Fatalf("round %d: replay after kill: %v", round, err)
		}
		// The killed child's lock file stays, naming it. Where the OS
		// lock exists, the kernel released it with the child, so the
		// next Lock takes the lock over; elsewhere the lock stays until
		// a human breaks it, and the refusal says the child is gone.
		if cur, err := s.CurrentLock(ctx); err != nil || cur == nil || cur.PID != pid || cur.Info != "round "+strconv.Itoa(round) {
			t.Fatalf("round %d: lock after kill = %+v, %v; want the lock of pid %d", round, cur, err, pid)
		}
		got, err := s.Lock(ctx, journal.LockInfo{Operation: "apply"})
		if journal.OSLockAvailable {
			if err != nil {
				t.Fatalf("round %d: Lock after the holder was killed = %v, want the lock taken over", round, err)
			}
			if err := s.Unlock(ctx, got.ID); err != nil {
				t.Fatalf("round %d: Unlock: %v", round, err)
			}
		} else {
			var le *journal.LockedError
			if !errors.As(err, &le) || le.Held.PID != pid {
				t.Fatalf("round %d: Lock after kill = %v, want *LockedError naming pid %d", round, err, pid)
			}
			if runtime.GOOS != "windows" && le.Stale == "" {
				t.Errorf("round %d: the lock of killed pid %d is not reported stale: %v", round, pid, err)
			}
			if err := s.ForceUnlock(ctx, le.Held.ID); err != nil {
				t.Fatalf("round %d: ForceUnlock: %v", round, err)
			}
		}
		_ = s.Close()
		if rep.DroppedBytes > 0 {
			torn++
		}
		bySeq := map[uint64]journal.Record{}
		for _, r := range rep.Records {
			bySeq[r.Seq] = r
			// Records appended but not yet reported must be intact
			// too.
			var h killHandle
			if err := json.Unmarshal(r.Handle, &h); err != nil || r.StepID != killStep(h.Round, h.I) {
				t.Fatalf("round %d: record %d is damaged: step %q handle %.80s", round, r.Seq, r.StepID, r.Handle)
			}
		}
		for seq, ri := range acked {
			r, ok := bySeq[seq]
			if !ok {
				t.Fatalf("round %d: record %d (round %d, #%d) was appended but is gone; replay has %d records", round, seq, ri[0], ri[1], len(rep.Records))
			}
			if r.StepID != killStep(ri[0], ri[1]) {
				t.Fatalf("round %d: record %d is step %q, want %q", round, seq, r.StepID, killStep(ri[0], ri[1]))
			}
		}
	}
	t.Logf("%d rounds in %v, %d records acknowledged, %d replays found a torn last record", done, time.Since(start).Round(time.Millisecond), len(acked), torn)
}

// runAndKill starts a child appending to dir, SIGKILLs it after it has
// appended at least once and then after, and returns the lines it printed.
func runAndKill(t *testing.T, dir string, round int, after time.Duration) (lines []string, pid int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), killDirEnv+"="+dir, killDirEnv+"_ROUND="+strconv.Itoa(round))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := make(chan struct{})
	done := make(chan []string)
	go func() {
		var lines []string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if lines = append(lines, sc.Text()); len(lines) == 1 {
				close(first)
			}
		}
		done <- lines
	}()
	select {
	case <-first:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("round %d: child appended nothing in 5s: %s", round, stderr.String())
	}
	time.Sleep(after)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	lines = <-done
	_ = cmd.Wait() // "signal: killed" is the expected outcome
	if cmd.ProcessState.Exited() {
		t.Fatalf("round %d: child exited by itself (%v): %s", round, cmd.ProcessState, stderr.String())
	}
	return lines, cmd.Process.Pid
}
