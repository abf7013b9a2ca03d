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
