package journal_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"cutover/executor/journal"
)

// writeLockFile plants a lock as if another process had taken it.
func writeLockFile(t *testing.T, s *journal.FileStore, info journal.LockInfo) {
	t.Helper()
	b, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(s.LockPath()), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.LockPath(), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// deadPID returns the PID of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestStaleLockHint(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no process check on Windows")
	}
	t.Parallel()
	host, err := os.Hostname()
	if err != nil {
		t.Skip("no hostname")
	}
	cases := []struct {
		name      string
		host      string
		pid       int
		wantStale bool
	}{
		{"dead process on this host", host, deadPID(t), true},
		{"live process on this host", host, os.Getppid(), false},
		{"this very process", host, os.Getpid(), false},
		{"other host", host + "-elsewhere", deadPID(t), false},
		{"no pid recorded", host, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t, t.TempDir())
			writeLockFile(t, s, journal.LockInfo{ID: "11111111-2222-4333-8444-555555555555", Operation: "apply", Who: "ci", Host: c.host, PID: c.pid})
			_, err := s.Lock(ctx, journal.LockInfo{Operation: "apply"})
			var le *journal.LockedError
			if !errors.As(err, &le) {
				t.Fatalf("Lock = %v, want *LockedError", err)
			}
			if got := le.Stale != ""; got != c.wantStale {
				t.Errorf("Stale = %q, want stale=%v", le.Stale, c.wantStale)
			}
			if c.wantStale && !strings.Contains(err.Error(), "stale") {
				t.Errorf("error %q does not say the lock looks stale", err)
			}
			// A stale lock is only reported, never broken.
			if cur, _ := s.CurrentLock(ctx); cur == nil || cur.ID != le.Held.ID {
				t.Errorf("the held lock changed to %v", cur)
			}
		})
	}
}

func TestUnreadableLockFile(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		content string
	}{
		{"empty", ""},
		{"half written", `{"id":"1111`},
		{"no ID", `{"operation":"apply"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t, t.TempDir())
			if err := os.WriteFile(s.LockPath(), []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			// An unreadable lock still locks: guessing it is free
			// could let two applies run.
			if _, err := s.Lock(ctx, journal.LockInfo{Operation: "apply"}); err == nil || !strings.Contains(err.Error(), s.LockPath()) {
				t.Errorf("Lock = %v, want an error naming %s", err, s.LockPath())
			}
			if _, err := s.CurrentLock(ctx); err == nil {
				t.Error("CurrentLock read an unreadable lock file without error")
			}
			if err := s.ForceUnlock(ctx, "x"); err == nil {
				t.Error("ForceUnlock removed a lock it could not read")
			}
		})
	}
}

func TestLockLeavesOnlyTheLockFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := openStore(t, dir), openStore(t, dir)
	held, err := a.Lock(ctx, journal.LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Lock(ctx, journal.LockInfo{Operation: "apply"}); err == nil {
		t.Fatal("second Lock succeeded")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := "[prod.lock]"
	if journal.OSLockAvailable {
		want = "[prod.lock prod.oslock]"
	}
	if fmt.Sprint(names) != want {
		t.Errorf("directory holds %v, want %s", names, want)
	}
	fi, err := os.Stat(a.LockPath())
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("lock file permissions %v, want 0600", perm)
	}
	raw, _ := os.ReadFile(a.LockPath())
	var onDisk journal.LockInfo
	if err := json.Unmarshal(raw, &onDisk); err != nil || onDisk.ID != held.ID {
		t.Errorf("lock file holds %s, want JSON of lock %s", raw, held.ID)
	}
}

// TestUnlockLeavesNoLockFiles: a holder that lets go removes both the
// lock file and the OS lock file, so an apply that took the lock and was
// then refused (an edited plan found as its VMs are read) leaves the state
// directory as it found it.
func TestUnlockLeavesNoLockFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openStore(t, dir)
	held, err := s.Lock(ctx, journal.LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	if journal.OSLockAvailable && !s.HasOSLockFile() {
		t.Fatal("no OS lock file while the lock is held")
	}
	if err := s.Unlock(ctx, held.ID); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s left behind after Unlock", e.Name())
	}
}

// TestLockExcludesWhileFilesComeAndGo: eight stores (eight open file
// descriptions, as eight processes would have) take and release the lock
// as fast as they can. Each release removes the OS lock file, so a store
// may lock a file that is no longer at its path; it must then open the
// path again. At no moment do two stores hold the lock, and none takes
// over a lock another still holds.
func TestLockExcludesWhileFilesComeAndGo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var holders, taken atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		s := openStore(t, dir)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 300 {
				held, err := s.Lock(ctx, journal.LockInfo{Operation: "apply"})
				if err != nil {
					var locked *journal.LockedError
					if !errors.As(err, &locked) {
						t.Error(err)
						return
					}
					continue
				}
				if n := holders.Add(1); n > 1 {
					t.Errorf("%d stores hold the lock at once", n)
				}
				taken.Add(1)
				holders.Add(-1)
				if err := s.Unlock(ctx, held.ID); err != nil {
					t.Errorf("unlock: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if taken.Load() == 0 {
		t.Fatal("no store ever took the lock")
	}
	t.Logf("the lock was taken %d times", taken.Load())
}

// TestUnlockRemovesOnlyTheDirectoryItMadeEmpty: a store that made the
// state directory to take the lock removes it again on Unlock when
// nothing was written; a directory that was there before, or that now
// holds a journal, stays.
func TestUnlockRemovesOnlyTheDirectoryItMadeEmpty(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		existed   bool
		append    bool
		wantThere bool
	}{
		{"made and left empty", false, false, false},
		{"there before", true, false, true},
		{"made, then a journal written", false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), ".cutover")
			if tc.existed {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			s := openStore(t, dir)
			held, err := s.Lock(ctx, journal.LockInfo{Operation: "apply"})
			if err != nil {
				t.Fatal(err)
			}
			if tc.append {
				if _, err := s.Append(ctx, rec(1)); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Unlock(ctx, held.ID); err != nil {
				t.Fatal(err)
			}
			_, err = os.Stat(dir)
			if there := err == nil; there != tc.wantThere {
				t.Errorf("the state directory is there: %v, want %v", there, tc.wantThere)
			}
			// The next holder makes it again.
			if held, err := s.Lock(ctx, journal.LockInfo{Operation: "apply"}); err != nil {
				t.Errorf("Lock after Unlock: %v", err)
			} else if err := s.Unlock(ctx, held.ID); err != nil {
				t.Error(err)
			}
		})
	}
}
