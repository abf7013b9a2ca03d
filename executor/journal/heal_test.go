package journal_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"cutover/executor/journal"
)

const holdDirEnv = "CUTOVER_JOURNAL_HOLD_DIR"

// TestHelperHolder is the child of TestLockHealsAfterKill: it takes the
// lock, says so and waits to be killed. Run directly, it does nothing.
func TestHelperHolder(t *testing.T) {
	dir := os.Getenv(holdDirEnv)
	if dir == "" {
		return
	}
	s, err := journal.OpenFile(dir, "prod")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if _, err := s.Lock(ctx, journal.LockInfo{Operation: "apply", Info: "holder"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println("locked")
	time.Sleep(30 * time.Second)
	os.Exit(3)
}

// TestLockHealsAfterKill: while a live process holds the lock, Lock is
// refused naming it; once it is SIGKILLed, the next Lock takes the lock
// over without anyone running force-unlock, and the lock file then names
// the new holder.
func TestLockHealsAfterKill(t *testing.T) {
	if !journal.OSLockAvailable {
		t.Skip("no OS lock on this platform")
	}
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHolder$")
	cmd.Env = append(os.Environ(), holdDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("child said %q, stderr %s", line, stderr.String())
	}

	s := openStore(t, dir)
	_, err = s.Lock(ctx, journal.LockInfo{Operation: "apply"})
	var le *journal.LockedError
	if !errors.As(err, &le) || le.Held.PID != cmd.Process.Pid || le.Held.Info != "holder" || le.Stale != "" {
		t.Fatalf("Lock while the holder runs = %v, want *LockedError naming pid %d, not stale", err, cmd.Process.Pid)
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	got, err := s.Lock(ctx, journal.LockInfo{Operation: "apply", Info: "next"})
	if err != nil {
		t.Fatalf("Lock after the holder was killed = %v, want the lock", err)
	}
	if cur, err := s.CurrentLock(ctx); err != nil || cur == nil || cur.ID != got.ID || cur.PID != os.Getpid() || !cur.OSLock {
		t.Fatalf("lock file after takeover = %+v, %v; want ours (%s)", cur, err, got.ID)
	}
	// Held by us, it is refused to another store as before.
	if _, err := openStore(t, dir).Lock(ctx, journal.LockInfo{Operation: "apply"}); !errors.As(err, &le) || le.Held.ID != got.ID {
		t.Fatalf("second Lock = %v, want *LockedError naming %s", err, got.ID)
	}
	if err := s.Unlock(ctx, got.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := openStore(t, dir).Lock(ctx, journal.LockInfo{Operation: "apply"}); err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
}

// TestForceUnlockedHolderIsNotTakenOver: a human force-unlocks a lock
// whose holder still runs and someone else locks; that lock has no OS lock
// behind it, so it is never taken over, even once the first holder exits.
func TestForceUnlockedHolderIsNotTakenOver(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := openStore(t, dir)
	a, err := first.Lock(ctx, journal.LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	if err := openStore(t, dir).ForceUnlock(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	second := openStore(t, dir)
	b, err := second.Lock(ctx, journal.LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatalf("Lock after force-unlock: %v", err)
	}
	if b.OSLock {
		t.Fatalf("a lock taken while another process holds the OS lock claims it: %+v", b)
	}
	if err := first.Unlock(ctx, a.ID); !errors.Is(err, journal.ErrNotLocked) && !errors.As(err, new(*journal.LockMismatchError)) {
		t.Fatalf("first holder's Unlock = %v", err)
	}
	var le *journal.LockedError
	if _, err := openStore(t, dir).Lock(ctx, journal.LockInfo{Operation: "apply"}); !errors.As(err, &le) || le.Held.ID != b.ID {
		t.Fatalf("Lock = %v, want *LockedError naming %s", err, b.ID)
	}
}
