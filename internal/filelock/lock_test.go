//go:build unix

package filelock

import (
	"path/filepath"
	"testing"
	"time"
)

// TestLockExcludes: a second Lock of the same file waits until the first
// is released.
func TestLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	unlock, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		u, err := Lock(path)
		if err != nil {
			t.Error(err)
			close(got)
			return
		}
		u()
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("the second Lock did not wait for the first")
	case <-time.After(100 * time.Millisecond):
	}
	unlock()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the second Lock was not granted after the first was released")
	}
}
